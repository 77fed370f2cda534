"""pydantic-ai's OpenTelemetry spans, turned on whenever pydantic-ai is imported: before the run or inside a task.

pydantic-ai emits the GenAI spans the plugin reads usage from (``otel_capture``) only when instrumentation is on
(``Agent.instrument_all``). Turning it on needs the ``Agent`` class, which exists only once ``pydantic_ai`` is
imported; a task that does ``from pydantic_ai import Agent`` in its body imports it in the middle of its first
trial, after every check the plugin can make before the trial. So the plugin also registers a post-import hook:
a meta path finder that wraps the loader of ``pydantic_ai`` and, when the module has executed, installs the span
processor and turns instrumentation on, before the task's next line runs. Nothing is imported until the suite
imports pydantic-ai itself.

Instrumentation is turned on only when the suite has not configured it (``Agent._instrument_default`` is still
pydantic-ai's default, ``False``), and only when ``opentelemetry-sdk`` is installed (without it the spans would go
nowhere).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType

from pytest_agentopt.recording.otel_capture import install_span_processor

__all__ = ["instrument_pydantic_ai", "watch_pydantic_ai_import"]

MODULE = "pydantic_ai"

_lock = threading.Lock()
_finder: _PostImportFinder | None = None


def instrument_pydantic_ai() -> bool:
    """Install the span processor and turn on pydantic-ai's spans; False when it cannot (no SDK, no pydantic-ai)."""
    module = sys.modules.get(MODULE)
    agent = getattr(module, "Agent", None)
    if agent is None or not install_span_processor():
        return False
    if getattr(agent, "_instrument_default", None) is False:
        agent.instrument_all(True)
    return True


class _NotifyingLoader(importlib.abc.Loader):
    """The real loader of a module, and a call once the module has executed."""

    def __init__(self, loader: importlib.abc.Loader, callback: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._callback = callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._callback(module)

    def __getattr__(self, name: str) -> object:  # get_resource_reader, is_package, get_code, ...
        return getattr(self._loader, name)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds ``name`` with the other finders and wraps its loader, once.

    It stays in ``sys.meta_path`` until the module has executed (removing it while the import system iterates
    over ``sys.meta_path`` would make it skip the next finder), answering nothing after its first find.
    """

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self._name = name
        self._callback = callback
        self._used = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._name or self._used:
            return None
        self._used = True
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _NotifyingLoader(spec.loader, self._callback)
                return spec
        return None


def _remove(finder: _PostImportFinder) -> None:
    global _finder
    with _lock:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        if _finder is finder:
            _finder = None


def _on_import(module: ModuleType) -> None:
    finder = _finder
    if finder is not None:
        _remove(finder)
    try:
        instrument_pydantic_ai()
    except Exception:  # never break the user's import: the trial then records no usage, and the report says so
        return


def watch_pydantic_ai_import() -> bool:
    """Instrument pydantic-ai now if it is imported, or as soon as it is (idempotent; cheap: one finder).

    True once pydantic-ai is imported and instrumented (or cannot be: no ``opentelemetry-sdk``); nothing is left
    to watch then. False while the finder waits for the import.
    """
    global _finder
    if MODULE in sys.modules:
        instrument_pydantic_ai()
        return True
    if _finder is not None:  # already waiting: the check every trial makes until the import
        return False
    with _lock:
        if _finder is None:
            _finder = _PostImportFinder(MODULE, _on_import)
            sys.meta_path.insert(0, _finder)
    return False
