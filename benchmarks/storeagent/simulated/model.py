"""A SIMULATED language model that drives the agent loop without any API: a stand-in, not a model.

It plays one task (it is given the task's reference policy and traps) and answers through the same
:class:`~benchmarks.storeagent.llm.LLMClient` interface as a real backend, returning NextStep JSON that the
loop parses and executes against the real store. How it behaves:

* **Competence.** At each trap of the policy it avoids the trap's mistake with probability
  ``sigmoid(ability(tier) - difficulty(mistake) + guideline bonus - 0.8 * temperature)``; otherwise it
  switches to the mistake's actions (wrong product, skipped coupon check, claiming done too early,
  looping...). The tier comes from the model id (:mod:`.profiles`), the bonus from the guidelines it finds in
  the system prompt's guidelines block (:mod:`.guidelines`). Reasoning models ignore temperature, as their
  APIs do.
* **Randomness.** Every step draws from its own generator, seeded by the trial seed, the step index and a
  digest of what a real model's sampling depends on (system prompt, task message, model id, temperature). The
  same config and seed therefore always give the same run; the control and test arms of a pair see the same
  store but make independent draws, as two real prompts would.
* **Wasted steps.** Each step may be a redundant read-only call (a detour; more likely for small models, at
  higher temperature, and twice as likely once the run has gone wrong) or an invalid reply, so failing runs
  take more steps, and looping runs hit ``max_steps``.
* **Tokens.** Prompt tokens are estimated from the actual messages sent (``ceil(chars / 4)`` plus framing, see
  :mod:`..llm`), so guidelines and longer histories cost more on every step; output tokens from the actual
  reply text, plus simulated hidden reasoning tokens for reasoning models. Models with automatic prompt
  caching report the previous request's prompt (rounded down to 128 tokens, from 1024 tokens up) as cache
  reads.
* **Latency** (optional): ``latency_s`` per step, jittered +-25 %, 1.6x on runs that have gone wrong.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from pytest_agentopt import TokenUsage

from ..actions import READ_ONLY_TOOLS, Action, ListCoupons, NextStep, ViewBasket, describe_action, is_final
from ..llm import Message, ModelReply, estimate_prompt_tokens, estimate_text_tokens
from ..prompts import guidelines_in
from ..tasks.model import Mistake, Task
from .guidelines import GuidelineEffect, active_effects, guideline_bonus
from .profiles import ModelProfile

TEMPERATURE_PENALTY = 0.8  # logit points per unit of temperature
TEMPERATURE_DETOURS = 0.05  # extra detour probability per unit of temperature
CACHE_MIN_TOKENS = 1024
CACHE_INCREMENT = 128
FAILING_LATENCY_FACTOR = 1.6


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class SimulatedModel:
    """One simulated model session for one task (create one per trial)."""

    def __init__(
        self,
        task: Task,
        profile: ModelProfile,
        *,
        model_id: str | None = None,
        latency_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.task = task
        self.profile = profile
        self.model_id = model_id or profile.model_id
        self.latency_s = latency_s
        self._sleep = sleep
        self._started = False
        self._prompt_key = ""
        self._effects: tuple[GuidelineEffect, ...] = ()
        self._temperature = 0.0
        self._pending: list[Action] = []
        self._reference_step: int | None = 0
        self._loop_action: Action | None = None
        self._loop_pending = False
        self._failing = False
        self._last_read_only: Action | None = None
        self._previous_prompt_tokens = 0

    @property
    def failing(self) -> bool:
        """Whether this session has left the reference policy (for tests and diagnostics)."""
        return self._failing

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_schema: dict[str, Any],
        temperature: float,
        seed: int,
    ) -> ModelReply:
        step = sum(1 for message in messages if message["role"] == "assistant")
        if step == 0 or not self._started:
            self._start(messages, temperature)
        rng = random.Random(self._step_seed(seed, step))
        text = self._reply_text(step, rng, messages)
        usage = self._usage(messages, text, rng)
        if self.latency_s > 0:
            factor = FAILING_LATENCY_FACTOR if self._failing else 1.0
            self._sleep(self.latency_s * factor * rng.uniform(0.75, 1.25))
        return ModelReply(text=text, usage=usage)

    def avoid_probability(self, mistake: Mistake) -> float:
        """The chance of not making ``mistake`` when its trap comes up, under the current prompt."""
        temperature = self._temperature if self.profile.honours_temperature else 0.0
        logit = (
            self.profile.traits.ability
            - mistake.difficulty
            + guideline_bonus(self._effects, mistake.topics)
            - TEMPERATURE_PENALTY * temperature
        )
        return sigmoid(logit)

    # -- session --------------------------------------------------------------------------------------------

    def _start(self, messages: Sequence[Message], temperature: float) -> None:
        self._started = True
        self._temperature = temperature
        self._effects = active_effects(guidelines_in(messages))
        head = "\x1f".join(m["content"] for m in messages[:2])
        material = f"{head}\x1e{self.model_id}\x1e{temperature!r}"
        self._prompt_key = hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]
        self._pending = list(self.task.policy)
        self._reference_step = 0
        self._loop_action = None
        self._loop_pending = False
        self._failing = False
        self._last_read_only = None
        self._previous_prompt_tokens = 0

    def _step_seed(self, seed: int, step: int) -> int:
        digest = hashlib.sha256(f"{seed}|{step}|{self._prompt_key}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    # -- behaviour ------------------------------------------------------------------------------------------

    def _reply_text(self, step: int, rng: random.Random, messages: Sequence[Message]) -> str:
        traits = self.profile.traits
        if rng.random() < traits.invalid_reply_rate:
            text = self._render(step, messages, self._peek())
            return text[: len(text) * 2 // 3]  # a reply cut short: not valid JSON
        temperature = self._temperature if self.profile.honours_temperature else 0.0
        detour_rate = traits.detour_rate * (2.0 if self._failing else 1.0) + TEMPERATURE_DETOURS * temperature
        if step > 0 and self._loop_action is None and rng.random() < detour_rate:
            action = self._detour(rng)
        else:
            action = self._next_planned(rng)
        if action.tool in READ_ONLY_TOOLS:
            self._last_read_only = action
        return self._render(step, messages, action)

    def _next_planned(self, rng: random.Random) -> Action:
        if self._reference_step is not None:
            for trap in self.task.traps_at(self._reference_step):
                if rng.random() >= self.avoid_probability(trap.mistake):
                    self._take(trap.mistake)
                    break
        if not self._pending:
            if self._loop_action is None:  # pragma: no cover - policies and mistakes end with a final answer
                raise RuntimeError(f"simulated model ran out of actions on task {self.task.code}")
            return self._loop_action
        action = self._pending.pop(0)
        if self._reference_step is not None:
            self._reference_step += 1
        if not self._pending and self._loop_pending:
            self._loop_action = action
        return action

    def _take(self, mistake: Mistake) -> None:
        self._pending = list(mistake.actions)
        self._reference_step = None
        self._failing = True
        self._loop_pending = mistake.loops

    def _detour(self, rng: random.Random) -> Action:
        choices: list[Action] = [ViewBasket(), ListCoupons()]
        if self._last_read_only is not None:
            choices.append(self._last_read_only)
        return rng.choice(choices)

    def _peek(self) -> Action:
        return self._pending[0] if self._pending else (self._loop_action or ViewBasket())

    def _render(self, step: int, messages: Sequence[Message], action: Action) -> str:
        last = messages[-1]["content"] if messages else ""
        state = f"Step {step + 1}. Last message: {last[:160]}"
        upcoming = [action, *self._pending[:2]]
        plan = [describe_action(a) for a in upcoming if not is_final(a)] or ["give the final answer"]
        if is_final(action):
            plan = ["give the final answer"]
        return NextStep(state=state, plan=plan[:5], action=action).model_dump_json()

    # -- usage ----------------------------------------------------------------------------------------------

    def _usage(self, messages: Sequence[Message], text: str, rng: random.Random) -> TokenUsage:
        prompt_tokens = estimate_prompt_tokens(messages)
        reasoning = 0
        if self.profile.reasoning_tokens_per_step:
            spread = rng.uniform(0.5, 1.5) * (1.5 if self._failing else 1.0)
            reasoning = round(self.profile.reasoning_tokens_per_step * spread)
        cached = 0
        if self.profile.prompt_caching and self._previous_prompt_tokens >= CACHE_MIN_TOKENS:
            cached = min(self._previous_prompt_tokens, prompt_tokens) // CACHE_INCREMENT * CACHE_INCREMENT
        self._previous_prompt_tokens = prompt_tokens
        return TokenUsage(
            input_tokens=prompt_tokens,
            output_tokens=estimate_text_tokens(text) + reasoning,
            cache_read_tokens=cached,
            reasoning_tokens=reasoning,
            model=self.model_id,
        )
