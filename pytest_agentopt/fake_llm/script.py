"""The reply script: thread-safe queues of replies and latencies, consumed one per model call.

One shared queue serves every endpoint in order; a reply scripted for a model goes to that model's own queue,
which requests for that model drain first. A latency marker (``FakeLLM.delay``) adds its seconds to the next
reply taken from the same queue, the default reply included. When no reply is left, the default reply answers;
without one, the request gets a 500 naming the problem.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from pytest_agentopt.fake_llm.recorded import RecordedRequest
from pytest_agentopt.fake_llm.replies import ErrorReply, Reply, coerce_reply

DefaultReply: TypeAlias = Reply | str | Callable[[RecordedRequest], Reply | str]


@dataclass(frozen=True)
class Latency:
    """A pause added before the next reply taken from the same queue."""

    seconds: float


@dataclass(frozen=True)
class Served:
    """The reply chosen for one request, its extra latency, and the server's own problem if any."""

    reply: Reply
    delay: float = 0.0
    problem: str | None = None


def unscripted_problem(request: RecordedRequest) -> str:
    """The message of the 500 answered when the script has run out."""
    return (
        f"fake_llm has no scripted reply left for {request.method} {request.path} (model {request.model!r}) "
        "and no default reply is set: script one with llm.reply(...), llm.reply_json(...), "
        "llm.reply_tool_call(...) or llm.fail(...), or set llm.default_reply(...)"
    )


class Script:
    """Queues of scripted replies; every method is safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shared: deque[Reply | Latency] = deque()
        self._per_model: dict[str, deque[Reply | Latency]] = {}
        self._default: DefaultReply | None = None

    def push(self, item: Reply | Latency, model: str | None = None) -> None:
        """Append a reply or a latency marker to the shared queue, or to ``model``'s queue."""
        if isinstance(item, Latency) and item.seconds < 0:
            raise ValueError(f"a delay must be >= 0 seconds, got {item.seconds}")
        with self._lock:
            if model is None:
                self._shared.append(item)
            else:
                self._per_model.setdefault(model, deque()).append(item)

    def set_default(self, default: DefaultReply | None) -> None:
        """What to answer when no scripted reply is left (``None``: answer a 500 naming the problem)."""
        with self._lock:
            self._default = default

    def remaining(self) -> int:
        """How many scripted replies (not counting latency markers) are still queued."""
        with self._lock:
            queues = [self._shared, *self._per_model.values()]
            return sum(1 for queue in queues for item in queue if not isinstance(item, Latency))

    def models(self) -> list[str]:
        """Models that have had a queue of their own, in the order they were first scripted."""
        with self._lock:
            return list(self._per_model)

    def take(self, request: RecordedRequest) -> Served:
        """The next reply for ``request``: its model's queue, then the shared queue, then the default."""
        delay = 0.0
        with self._lock:
            queues = [self._per_model.get(request.model or ""), self._shared]
            for queue in queues:
                while queue:
                    item = queue.popleft()
                    if isinstance(item, Latency):
                        delay += item.seconds
                    else:
                        return Served(item, delay)
            default = self._default
        # The default runs outside the lock: a callable may be slow or script more replies itself.
        if default is None:
            problem = unscripted_problem(request)
            return Served(ErrorReply(500, problem, should_retry=False), delay, problem)
        if not callable(default):
            return Served(coerce_reply(default), delay)
        try:
            return Served(coerce_reply(default(request)), delay)
        except Exception as error:  # the user's callable failed: tell the test, do not kill the server
            problem = f"fake_llm default_reply callable raised {type(error).__name__}: {error}"
            return Served(ErrorReply(500, problem, should_retry=False), delay, problem)
