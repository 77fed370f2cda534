"""The post-import hook that turns pydantic-ai's spans on whenever it is imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_agentopt.recording import pydantic_ai_spans


def test_the_hook_calls_back_once_the_module_has_executed_and_then_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "hooked_pkg_for_agentopt"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 42\nfrom . import part\n")
    (package / "part.py").write_text("PART = 'x'\n")
    (package / "data.txt").write_text("resource")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[object] = []
    finder = pydantic_ai_spans._PostImportFinder("hooked_pkg_for_agentopt", lambda module: seen.append(module.VALUE))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    try:
        import hooked_pkg_for_agentopt  # type: ignore[import-not-found]

        assert seen == [42]  # after the module (and its own imports) executed
        assert hooked_pkg_for_agentopt.part.PART == "x"
        from importlib.resources import files

        assert (files("hooked_pkg_for_agentopt") / "data.txt").read_text() == "resource"  # the wrapped loader
        assert finder.find_spec("hooked_pkg_for_agentopt", None) is None  # used once
    finally:
        for name in [name for name in sys.modules if name.startswith("hooked_pkg_for_agentopt")]:
            del sys.modules[name]


def test_pydantic_ai_imported_after_the_watch_is_instrumented_in_a_fresh_process() -> None:
    pytest.importorskip("pydantic_ai")
    pytest.importorskip("opentelemetry.sdk")
    code = """
        import sys
        from pytest_agentopt.recording.pydantic_ai_spans import watch_pydantic_ai_import

        assert "pydantic_ai" not in sys.modules
        assert watch_pydantic_ai_import() is False
        from pydantic_ai import Agent

        print(Agent._instrument_default is not False, watch_pydantic_ai_import())
        print(any(type(finder).__name__ == "_PostImportFinder" for finder in sys.meta_path))
    """
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["True", "True", "False"]
