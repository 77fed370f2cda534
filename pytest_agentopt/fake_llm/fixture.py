"""The body of the plugin's ``fake_llm`` fixture: one started ``FakeLLM`` per test, closed afterwards.

Cheap to import (the server is imported when the fixture runs), so the plugin's entry point may import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentopt.fake_llm.fake import FakeLLM


def fake_llm_fixture() -> Iterator[FakeLLM]:
    """Yield a running ``FakeLLM``.

    The plugin wraps it as ``@pytest.fixture def fake_llm(): yield from fake_llm_fixture()``.
    """
    from pytest_agentopt.fake_llm.fake import FakeLLM

    with FakeLLM() as llm:
        yield llm
