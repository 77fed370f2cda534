"""Two Inspect AI logs, one per arm, as the paired trial stream ``agentopt replay`` runs through the test.

* **Pairs.** A sample of the control log and a sample of the test log are one pair when they have the same sample
  ``id`` and ``epoch``: the task is the sample id, the trial its epoch. Samples only one log has are left out and
  counted. The order is Inspect's own (by epoch, then sample id): fixed before any outcome was seen, and
  trial-major like the plugin's plan.
* **Outcome.** From the value of one scorer's ``Score`` (:class:`ScoreRule`): the only scorer the logs have, or
  the one ``--score`` names. By default ``C`` (Inspect's CORRECT), ``correct``, ``true``, ``yes``, ``pass``,
  ``1`` and ``True`` are a success and ``I`` (INCORRECT), ``N`` (NOANSWER), ``P`` (PARTIAL), ``incorrect``,
  ``partial``, ``false``, ``no``, ``fail``, ``0`` and ``False`` a failure: the test decides on solved or not, and
  partial credit is not solved (``--pass-value C --pass-value P`` counts it). Any other value (a fraction, a
  letter answer) needs a rule: ``pass_values`` (the values that pass, text or numbers) or ``pass_threshold``
  (a number that passes when it is at least the threshold). A sample without that scorer's score (it ended in
  an error, or was not scored) leaves its pair out, as an infrastructure error does in a run, and is counted.
* **Cost.** The sum over the sample's ``model_usage``: Inspect's ``total_cost`` where it has one, otherwise the
  tokens priced by :func:`~pytest_agentopt.recording.pricing.estimate_cost` (genai-prices; the model name's
  provider prefix, ``openai/`` in ``openai/gpt-4o``, is the provider hint). Unknown (``None``, never 0) when the
  sample has no usage or a model it used has no price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.recording.pricing import estimate_cost
from pytest_agentopt.recording.usage import TokenUsage
from pytest_agentopt.run.stream_replay import StreamRow
from pytest_agentopt.storage.inspect_log import InspectLog, InspectSample, InspectUsage

__all__ = ["InspectPairing", "ScoreRule", "pair_inspect_logs"]

PASSING_TEXT = frozenset({"c", "correct", "true", "yes", "pass", "1"})
FAILING_TEXT = frozenset({"i", "n", "p", "incorrect", "partial", "false", "no", "fail", "0"})
PROVIDER_ALIASES = {"grok": "x-ai", "bedrock": "aws", "azureai": "azure", "vertex": "google", "hf": "huggingface"}
"""Inspect's provider prefixes whose genai-prices provider id differs (a hint only: a model genai-prices does not
list under it is matched by its name)."""


@dataclass(frozen=True)
class ScoreRule:
    """Which score decides a sample's outcome, and which values pass."""

    scorer: str | None = None
    """The scorer (a key of the sample's ``scores``); ``None``: the logs must have exactly one."""
    pass_values: tuple[str, ...] = ()
    """Values that pass (compared as text, or as numbers when both are numbers); the rest fail."""
    pass_threshold: float | None = None
    """A numeric score passes when it is at least this."""

    def __post_init__(self) -> None:
        if self.pass_values and self.pass_threshold is not None:
            raise AgentoptUsageError("--pass-value and --pass-threshold: give one rule, not both")
        if self.pass_threshold is not None and not math.isfinite(self.pass_threshold):
            raise AgentoptUsageError(f"--pass-threshold {self.pass_threshold}: expected a finite number")

    @property
    def described(self) -> str:
        if self.pass_values:
            return f"pass when the value is {' or '.join(repr(v) for v in self.pass_values)}"
        if self.pass_threshold is not None:
            return f"pass when the value is >= {self.pass_threshold:g}"
        return "C, correct, true, yes, pass, 1 pass; I, N, P (partial credit), incorrect, false, no, fail, 0 fail"


@dataclass
class InspectPairing:
    """The replay stream of two logs and what was left out of it."""

    rows: list[StreamRow]
    scorer: str
    pairs: int
    """Samples (id, epoch) both logs have: the pairs of the stream."""
    only_control: int
    only_test: int
    unscored: dict[str, int]
    """Per arm, paired samples without the scorer's score (an error or no scoring): their pairs are left out."""
    errors: dict[str, int]
    """Per arm, paired samples that ended in an error (scored or not)."""
    cost_sources: list[str] = field(default_factory=list)
    cost_notes: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    """Models a sample used that no price source knew (their samples' cost is unknown)."""
    without_usage: int = 0
    """Paired samples with no ``model_usage`` (their cost is unknown)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "scorer": self.scorer,
            "paired_samples": self.pairs,
            "only_control": self.only_control,
            "only_test": self.only_test,
            "unscored": self.unscored,
            "errors": self.errors,
            "cost_sources": self.cost_sources,
            "unpriced_models": self.unpriced,
            "samples_without_usage": self.without_usage,
        }


def pair_inspect_logs(control: InspectLog, test: InspectLog, rule: ScoreRule) -> InspectPairing:
    """The paired stream of ``control`` and ``test``; refuses logs of different tasks or datasets, the same
    evaluation twice, and a score no rule maps."""
    _check_comparable(control, test)
    scorer = _chosen_scorer(control, test, rule)
    by_key = {arm: {(s.id, s.epoch): s for s in log.samples} for arm, log in (("control", control), ("test", test))}
    keys = [(s.id, s.epoch) for s in control.samples if (s.id, s.epoch) in by_key["test"]]
    pairing = InspectPairing(
        rows=[],
        scorer=scorer,
        pairs=len(keys),
        only_control=len(by_key["control"]) - len(keys),
        only_test=len(by_key["test"]) - len(keys),
        unscored={"control": 0, "test": 0},
        errors={"control": 0, "test": 0},
    )
    for key in keys:
        for arm, log in (("control", control), ("test", test)):
            sample = by_key[arm][key]
            outcome = _outcome(log, sample, scorer, rule)
            pairing.unscored[arm] += outcome == "infra_error"
            pairing.errors[arm] += sample.error is not None
            pairing.rows.append(
                StreamRow(
                    line=len(pairing.rows) + 1,
                    task=str(sample.id),
                    trial=sample.epoch,
                    arm=arm,
                    outcome=outcome,
                    cost=_sample_cost(sample, pairing),
                    seq=None,
                )
            )
    return pairing


def _check_comparable(control: InspectLog, test: InspectLog) -> None:
    names = f"{control.path} and {test.path}"
    if control.eval_id and control.eval_id == test.eval_id:
        raise AgentoptUsageError(
            f"{names} are the same evaluation (field eval.eval_id {control.eval_id!r}); give the control's log "
            "and the test's"
        )
    if control.task != test.task:
        raise AgentoptUsageError(
            f"{names} evaluate different tasks (field eval.task: {control.task!r} and {test.task!r}); a paired "
            "replay compares two configs on the same task"
        )
    if control.dataset is not None and test.dataset is not None and control.dataset != test.dataset:
        raise AgentoptUsageError(
            f"{names} use different datasets (field eval.dataset.name: {control.dataset!r} and {test.dataset!r}); "
            "a paired replay compares two configs on the same samples"
        )


def _chosen_scorer(control: InspectLog, test: InspectLog, rule: ScoreRule) -> str:
    found: dict[str, None] = {}
    for log in (control, test):
        for sample in log.samples:
            found.update(dict.fromkeys(sample.scores))
    names = ", ".join(repr(name) for name in found) or "none"
    if rule.scorer is not None:
        if rule.scorer not in found:
            raise AgentoptUsageError(
                f"--score {rule.scorer}: no sample of {control.path} or {test.path} has that score; scorers: {names}"
            )
        return rule.scorer
    if not found:
        raise AgentoptUsageError(
            f"{control.path}, {test.path}: no sample has a score (field 'scores'); a replay needs scored samples "
            "(inspect score LOG scores a log)"
        )
    if len(found) > 1:
        raise AgentoptUsageError(
            f"{control.path}, {test.path}: the samples have several scorers ({names}); "
            "choose the one that decides with --score NAME"
        )
    return next(iter(found))


def _outcome(log: InspectLog, sample: InspectSample, scorer: str, rule: ScoreRule) -> str:
    if scorer not in sample.scores:
        return "infra_error"  # left out of the statistics, with its pair
    value = sample.scores[scorer]
    where = f"{log.path}: {sample.where}: field 'scores.{scorer}.value' is {value!r}"
    if isinstance(value, list | dict):
        raise AgentoptUsageError(
            f"{where}; a score with several values cannot decide a pair: choose a scorer with one value (--score)"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise AgentoptUsageError(f"{where}; expected a finite number")
    if rule.pass_values:
        return "success" if any(_same_value(value, passing) for passing in rule.pass_values) else "failure"
    if rule.pass_threshold is not None:
        number = _number(value)
        if number is None:
            raise AgentoptUsageError(f"{where}; --pass-threshold needs numeric scores (use --pass-value for text)")
        return "success" if number >= rule.pass_threshold else "failure"
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in PASSING_TEXT | FAILING_TEXT or _number(value) in (0.0, 1.0):
        passed = value is True or text in PASSING_TEXT or (not isinstance(value, bool) and _number(value) == 1.0)
        return "success" if passed else "failure"
    raise AgentoptUsageError(
        f"{where}; not a pass or a fail by the default rule (C/I/P/N, correct/incorrect, true/false, 1/0): say "
        "which values pass with --pass-value VALUE, or --pass-threshold NUMBER for numeric scores"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _same_value(value: Any, passing: str) -> bool:
    number, wanted = _number(value), _number(passing)
    if number is not None and wanted is not None:
        return number == wanted
    if isinstance(value, bool):
        return str(value).lower() == passing.strip().lower()
    return str(value) == passing


def _sample_cost(sample: InspectSample, pairing: InspectPairing) -> float | None:
    """Dollars of one sample: Inspect's ``total_cost`` per model where present, else the tokens priced."""
    if not sample.model_usage:
        pairing.without_usage += 1
        return None
    total: float | None = 0.0
    for model, usage in sample.model_usage.items():
        if usage.total_cost is not None:
            _note_source(pairing.cost_sources, "Inspect's total_cost")
            total = None if total is None else total + usage.total_cost
            continue
        priced = _priced(model, usage)
        if priced.source:
            _note_source(pairing.cost_sources, priced.source)
        for note in priced.notes:
            _note_source(pairing.cost_notes, note)
        if priced.usd is None:
            _note_source(pairing.unpriced, model)
            total = None
        elif total is not None:
            total += priced.usd
    return total


@dataclass(frozen=True)
class _Priced:
    usd: float | None
    source: str
    notes: Sequence[str]


def _priced(model: str, usage: InspectUsage) -> _Priced:
    provider, _, name = model.partition("/")
    if not name:
        provider, name = "", model
    tokens = TokenUsage(
        input_tokens=usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
        # Inspect counts reasoning within output_tokens; a provider that reported them apart adds them.
        output_tokens=usage.output_tokens
        + (usage.reasoning_tokens if usage.reasoning_tokens > usage.output_tokens else 0),
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        model=name,
    )
    if tokens.is_zero:
        return _Priced(0.0, "", ())
    hint = PROVIDER_ALIASES.get(provider, provider) or None
    estimate = estimate_cost(tokens, name, provider_id=hint)
    return _Priced(estimate.usd, estimate.source if estimate.usd is not None else "", estimate.notes)


def _note_source(seen: list[str], source: str) -> None:
    if source not in seen:
        seen.append(source)
