"""The schema-guided-reasoning agent loop: ask for a NextStep, execute its action, repeat.

Each step sends the whole conversation to the model and expects one :class:`~.actions.NextStep` JSON object. A
tool call is executed against the store and its result appended as the next user message; a final answer
(``done`` or ``refuse``) ends the run; a reply that is not valid NextStep JSON is answered with the validation
error and costs a step. The run stops at ``max_steps`` model calls. The result says whether the task's success
criterion holds, and carries the steps, tool calls, usage and transcript that the benchmark records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pytest_agentopt import AgentConfig, TokenUsage

from .actions import Done, FinalAnswer, NextStep, Refuse, describe_action
from .backends import make_client
from .llm import LLMClient, Message
from .prompts import initial_messages
from .tasks import Task, evaluate
from .tools import execute_tool

_NEXT_STEP_SCHEMA: dict[str, Any] = NextStep.model_json_schema()


@dataclass(frozen=True)
class StepRecord:
    """One model call: what was done (``action`` rendered, or ``invalid reply``) and whether it worked."""

    index: int
    action: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class AgentResult:
    task_code: str
    success: bool
    failure_reason: str  # empty on success; short and stable (it feeds failure clustering)
    steps: int  # model calls, invalid replies included
    tool_calls: int  # store tools executed (final answers are not tool calls)
    tool_errors: int
    invalid_replies: int
    claimed_done: bool  # the agent's final answer was ``done`` (with ``success`` False: a false "done")
    refused: bool
    final_message: str | None
    usage: TokenUsage | None  # None when any model call reported no usage (unknown, never a partial sum)
    transcript: tuple[StepRecord, ...]

    @property
    def false_done(self) -> bool:
        return self.claimed_done and not self.success


def run_agent(task: Task, config: AgentConfig, *, seed: int, client: LLMClient | None = None) -> AgentResult:
    """Run the agent on ``task`` under ``config``; ``client`` defaults to the backend the config names.

    A client made here is closed when the run ends (a real backend holds HTTP connections); one passed in is the
    caller's to close.
    """
    if client is not None:
        return _run(task, config, seed=seed, model=client)
    model = make_client(config, task)
    try:
        return _run(task, config, seed=seed, model=model)
    finally:
        close = getattr(model, "close", None)
        if callable(close):
            close()


def _run(task: Task, config: AgentConfig, *, seed: int, model: LLMClient) -> AgentResult:
    store = task.build_store(seed)
    messages: list[Message] = initial_messages(config, task.instruction)
    usage: TokenUsage | None = TokenUsage()  # takes the model name from the first reply
    transcript: list[StepRecord] = []
    final: FinalAnswer | None = None
    tool_calls = tool_errors = invalid_replies = 0

    for index in range(config.max_steps):
        reply = model.complete(messages, response_schema=_NEXT_STEP_SCHEMA, temperature=config.temperature, seed=seed)
        usage = None if usage is None or reply.usage is None else usage + reply.usage
        messages.append({"role": "assistant", "content": reply.text})
        try:
            step = NextStep.model_validate_json(reply.text)
        except ValidationError as exc:
            invalid_replies += 1
            problem = _first_error(exc)
            transcript.append(StepRecord(index, "invalid reply", ok=False, detail=problem))
            messages.append({"role": "user", "content": f"Invalid reply ({problem}). Reply with one NextStep JSON."})
            continue
        action = step.action
        if isinstance(action, Done | Refuse):
            final = action
            transcript.append(StepRecord(index, describe_action(action), ok=True))
            break
        result = execute_tool(store, action)
        tool_calls += 1
        tool_errors += 0 if result.ok else 1
        transcript.append(
            StepRecord(index, describe_action(action), ok=result.ok, detail="" if result.ok else str(result.payload))
        )
        messages.append({"role": "user", "content": result.as_message()})

    verdict = evaluate(task, store, final, max_steps=config.max_steps)
    return AgentResult(
        task_code=task.code,
        success=verdict.success,
        failure_reason=verdict.reason,
        steps=len(transcript),
        tool_calls=tool_calls,
        tool_errors=tool_errors,
        invalid_replies=invalid_replies,
        claimed_done=isinstance(final, Done),
        refused=isinstance(final, Refuse),
        final_message=final.message if isinstance(final, Done) else final.reason if final is not None else None,
        usage=usage,
        transcript=tuple(transcript),
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "reply"
    return f"{where}: {error['msg']}"[:200]
