"""What a trial's exception means: agent failure, agent error, or infrastructure error.

* no exception: ``success``;
* ``AssertionError`` or ``pytest.fail()``: ``failure`` (the task's check said no: data, not a broken test);
* a declared infrastructure exception (rate limit, provider timeout, connection error, HTTP 429 / 5xx):
  ``infra_error``, kept out of the statistics;
* anything else: ``error`` (the agent crashed), recorded with its type and message;
* the trial ran longer than its ``--agent-timeout``: ``timeout``, an agent failure (it did not finish the task in
  the time it was given), scored like ``failure``;
* the process running the trial died (an xdist worker killed by a signal, the OOM killer, ``os._exit``, a
  segfault): ``worker_crash``, recorded by the controller with the worker and its exit status. The plugin cannot
  tell a crash the agent caused from one the machine caused, so it is kept out of the statistics like an
  infrastructure error, together with the other half of its pair (see ``docs/ledger.md``).

Infrastructure exceptions are matched by name, so no client library is imported: ``"openai.RateLimitError"``
matches any class named ``RateLimitError`` defined in the ``openai`` package (whatever private module it lives
in), and a bare name such as ``"TimeoutError"`` matches that class name anywhere. Any exception carrying an HTTP
status code of 429 or 5xx (``exc.status_code`` or ``exc.response.status_code``) is an infrastructure error too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["success", "failure", "error", "timeout", "infra_error", "setup_error", "worker_crash", "skipped"]

# Outcomes that are finished trials of the agent and enter the statistics.
SCORED_OUTCOMES: frozenset[str] = frozenset({"success", "failure", "error", "timeout"})

DEFAULT_INFRA_EXCEPTIONS: tuple[str, ...] = (
    "ConnectionError",
    "TimeoutError",
    "openai.APIConnectionError",
    "openai.APITimeoutError",
    "openai.RateLimitError",
    "openai.InternalServerError",
    "anthropic.APIConnectionError",
    "anthropic.APITimeoutError",
    "anthropic.RateLimitError",
    "anthropic.InternalServerError",
    "anthropic.OverloadedError",
    "httpx.TimeoutException",
    "httpx.NetworkError",
    "httpx.RemoteProtocolError",
    "httpx2.TimeoutException",
    "httpx2.NetworkError",
    "httpx2.RemoteProtocolError",
    "requests.ConnectionError",
    "requests.Timeout",
    "litellm.RateLimitError",
    "litellm.ServiceUnavailableError",
    "litellm.Timeout",
    "litellm.APIConnectionError",
)

MESSAGE_LIMIT = 500


class TrialTimeout(BaseException):
    """Raised inside a trial that ran longer than its timeout (``--agent-timeout``).

    A ``BaseException``, like ``KeyboardInterrupt``: an agent's ``except Exception`` (a retry loop, say) does not
    swallow it, so the trial ends.
    """

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"the trial ran longer than its timeout of {timeout_s:g} s")
        self.timeout_s = timeout_s


@dataclass(frozen=True)
class Classified:
    outcome: Outcome
    error_type: str | None
    message: str | None


class InfraMatcher:
    """Decides whether an exception is an infrastructure error (see the module doc for the name rules)."""

    def __init__(self, names: Iterable[str] = DEFAULT_INFRA_EXCEPTIONS) -> None:
        self._qualified: set[tuple[str, str]] = set()
        self._bare: set[str] = set()
        for name in names:
            package, _, cls = name.strip().rpartition(".")
            if not cls:
                continue
            if package:
                self._qualified.add((package.split(".")[0], cls))
            else:
                self._bare.add(cls)

    def matches(self, exc: BaseException) -> bool:
        for cls in type(exc).__mro__:
            if cls.__name__ in self._bare:
                return True
            if (cls.__module__.split(".")[0], cls.__name__) in self._qualified:
                return True
        return _http_status(exc) is not None


def _http_status(exc: BaseException) -> int | None:
    for holder in (exc, getattr(exc, "response", None)):
        status = getattr(holder, "status_code", None)
        if isinstance(status, int) and (status == 429 or 500 <= status <= 599):
            return status
    return None


def classify(exc: BaseException | None, infra: InfraMatcher) -> Classified:
    """The outcome of a trial whose test function raised ``exc`` (``None``: it returned)."""
    if exc is None:
        return Classified("success", None, None)
    error_type = type_name(exc)
    message = short_message(exc)
    if isinstance(exc, TrialTimeout):
        return Classified("timeout", error_type, message)
    if isinstance(exc, AssertionError) or error_type == "Failed":
        return Classified("failure", error_type, message)
    if infra.matches(exc):
        return Classified("infra_error", error_type, message)
    return Classified("error", error_type, message)


def type_name(exc: BaseException) -> str:
    """``KeyError``, ``openai.RateLimitError``: the class, with its package when it is not a builtin."""
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__") or module.startswith("_pytest"):
        return cls.__name__
    return f"{module.split('.')[0]}.{cls.__name__}"


def short_message(exc: BaseException) -> str:
    """The exception's text, trimmed to keep ledger lines small (pytest's assertion rewriting adds detail lines)."""
    text = str(exc).strip()
    if isinstance(exc, AssertionError):
        # Rewritten asserts read "message\nassert False\n + where ...": keep the user's message.
        text = text.split("\nassert ", 1)[0].strip() or text
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 3] + "..."
    return text
