"""Repository-wide pytest set-up.

pytest-agentopt itself is registered by its ``pytest11`` entry point (installed with ``pip install -e .``), not
here. This file only enables ``pytester`` (the plugin's end-to-end tests drive pytest in pytest); pytest accepts
``pytest_plugins`` only in the root conftest.
"""

from __future__ import annotations

pytest_plugins = ["pytester"]
