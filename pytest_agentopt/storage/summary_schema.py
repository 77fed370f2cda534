"""The run summary's shape (``summary.json``, ``--agent-json``): one typed definition for every reader and writer.

``report.summary.build_summary`` writes it; the terminal renderer, the report files, the gate and the history
reader read it. It lives in ``storage/`` because it is an on-disk format: the history reader (``analysis/``) sits
below ``report/`` and reads it too. Every field is documented in ``docs/summary.md``;
``tests/unit/test_summary_schema.py`` checks that the page and these types list the same fields. A field is
required (``total``) when every summary has it, ``null`` included; ``NotRequired`` marks the few that only some
summaries carry. Types only (no pydantic): importing it is cheap.

A summary read back from a file is checked once, where it is read (:func:`read_summary`): it is either a
:class:`RunSummary` (every later read checked by mypy) or ``None`` with the reason, and a reader shows the figures
of a ``None`` summary as missing. No figure of a summary that does not have this shape is shown: one field that
does not fit means the file was damaged, edited or written by another version, and its other figures cannot be
trusted either (a wrong figure is worse than a missing one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, cast

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.run.budget import BudgetState
from pytest_agentopt.run.extension_advice import ExtensionAdvice
from pytest_agentopt.run.metric_choice import MetricKind
from pytest_agentopt.run.sequential_design import CapDesign, TargetCapDesign
from pytest_agentopt.run.shards import ShardInfo
from pytest_agentopt.stats.cheaper_same_quality import CheaperComponents
from pytest_agentopt.stats.cost_ratio import CostRatio
from pytest_agentopt.stats.paired import EffectInterval, PairCounts
from pytest_agentopt.stats.sprt import TestState
from pytest_agentopt.storage.ledger import read_json
from pytest_agentopt.storage.typed_json import shape_problem

__all__ = [
    "ArmSummary",
    "BudgetState",
    "CandidateEValues",
    "CandidateResult",
    "CapDesign",
    "ConfigChange",
    "CostRatio",
    "DriftFeature",
    "DriftReport",
    "EffectInterval",
    "ExtensionAdvice",
    "GateResult",
    "MeanTokens",
    "MetricBase",
    "MetricCounts",
    "MetricEffect",
    "MetricSection",
    "OneSidedStates",
    "PairCounts",
    "RunSummary",
    "SequentialLlr",
    "Settings",
    "ShardInfo",
    "Spend",
    "StoredSummary",
    "TargetCapDesign",
    "TaskArmFigures",
    "TaskRow",
    "TestState",
    "TokenSums",
    "read_summary",
]


class Settings(TypedDict):
    """How the run was asked to run (``settings``)."""

    trials_per_task_per_arm: int
    seed: int
    sprt: bool
    alpha: float
    beta: float
    effect: float
    target: float | None
    direction: str
    cap_pairs: int | None


class TokenSums(TypedDict):
    """Token counts by class, summed over the trials that recorded usage."""

    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int


class MeanTokens(TypedDict):
    input: float
    output: float


class ArmSummary(TypedDict):
    """One arm's figures (``arms.control``, ``arms.test``)."""

    experiment_id: str | None
    config_hash: str | None
    trials: int
    successes: int
    failures: int
    errors: int
    infra_errors: int
    setup_errors: int
    timeouts: int
    worker_crashes: int
    success_rate: float | None
    success_ci: list[float] | None
    success_ci_method: str | None
    tokens: TokenSums | None
    trials_with_usage: int
    mean_tokens: MeanTokens | None
    cost_usd: float | None
    trials_with_cost: int
    cost_per_trial_usd: float | None
    cost_per_success_usd: float | None
    infra_cost_usd: float
    spent_usd: float | None
    trials_unpriced: int
    mean_latency_s: float | None
    mean_steps: float | None
    model: str | None


class ConfigChange(TypedDict):
    """One key that differs between the control's and the test's config (``config_diff``)."""

    key: str
    control: object
    test: object
    text: str


class SequentialLlr(TypedDict, total=False):
    """The log-likelihood ratios (``llr``): ``better`` and ``worse`` in a paired run, ``target`` in target mode."""

    better: float | None
    worse: float | None
    target: float


class OneSidedStates(TypedDict, total=False):
    """Each one-sided test's state (``tests``), keyed like :class:`SequentialLlr`."""

    better: TestState | None
    worse: TestState | None
    target: TestState


class TaskArmFigures(TypedDict):
    """One task under one arm (``tasks[].arms.<arm>``)."""

    trials: int
    successes: int
    cost_usd: float | None
    tokens: int | None
    success_rate: float | None


class TaskRow(TypedDict):
    """One task of the run (``tasks``)."""

    task_id: str
    code: str | None
    category: str | None
    arms: dict[str, TaskArmFigures]


class Spend(TypedDict):
    """The run's estimated spend over every trial that ran (``spend``)."""

    usd: float | None
    trials: int
    unpriced: int


class GateResult(TypedDict):
    """The CI gate's answer (``gate``)."""

    passed: bool | None
    reason: str | None


class MetricCounts(TypedDict):
    """A binary metric's pairs by outcome (``metric.counts``)."""

    wins: int
    losses: int
    ties: int


class MetricEffect(TypedDict):
    """A binary metric's rate, test minus control, with its time-uniform interval (``metric.effect``; the shape of
    ``stats.confseq.MeanWithConfidenceSequence``, which is not imported here: it brings numpy)."""

    estimate: float
    lower: float
    upper: float
    n: int
    method: str


class MetricBase(TypedDict):
    """What every ``metric`` section has, whatever the metric's kind."""

    name: str
    kind: MetricKind
    effect_ratio: float | None
    lower_is_better: bool | None
    verdict: str | None
    pairs_used: int
    pairs_missing: int
    pairs_invalid: int
    invalid_examples: list[str]


class MetricSection(MetricBase):
    """The decided metric when not success (``metric``); the fields after ``method`` belong to one kind each."""

    method: str
    counts: NotRequired[MetricCounts]
    """binary"""
    effect: NotRequired[MetricEffect]
    """binary, once a pair entered"""
    pairs: NotRequired[int]
    """numeric, like the five that follow"""
    estimate: NotRequired[float | None]
    lower: NotRequired[float | None]
    upper: NotRequired[float | None]
    level: NotRequired[float]
    pairs_for_bounds: NotRequired[int]
    components: NotRequired[CheaperComponents]
    """cheaper_same_quality"""


class DriftFeature(TypedDict):
    """One feature of the drift test's family (``drift.features``)."""

    name: str
    pairs: int
    control_median: float
    test_median: float
    effect: float
    lower: float | None
    upper: float | None
    relative: float | None
    adjusted_p: float
    moved: bool


class DriftReport(TypedDict):
    """Which recorded features moved between control and test at equal outcome (``drift``)."""

    status: Literal["drift", "no_drift", "missing"]
    reason: str | None
    alpha: float
    pairs: int
    pairs_complete: int
    pairs_other_outcome: int
    pairs_after_decision: int
    omnibus_p: float | None
    family: list[str]
    features: list[DriftFeature]
    moved: list[str]
    permutations: int | None
    exact: bool | None
    method: str


class CandidateEValues(TypedDict):
    """Each direction's e-value at the candidate's stop (``None``: a direction the run does not ask)."""

    better: float | None
    worse: float | None


class CandidateResult(TypedDict):
    """One candidate of a run with several candidates (``candidates``): its comparison with the shared control,
    as the top-level fields of a run with that candidate alone, at the candidate's alpha (``alpha / K``)."""

    arm: str
    experiment_id: str
    config_hash: str
    alpha: float
    verdict: str | None
    verdict_reason: str | None
    multiplicity: Literal["bonferroni", "e-bh"]
    """The procedure that controls the error across the candidates and makes the ``better``/``worse`` claims:
    ``bonferroni`` (each test at ``alpha / K``: family-wise error rate <= alpha) or ``e-bh`` (under
    ``--agent-family-error fdr`` with ``--sprt``: false discovery rate of each kind of claim <= alpha)."""
    e_values: CandidateEValues | None
    """Under ``e-bh``: the e-values e-BH read (each direction's, at the candidate's stop); ``None`` otherwise."""
    claim_threshold: float | None
    """Under ``e-bh``, for a claim: the e-value it needed, ``K / (alpha k)`` with ``k`` claims of its kind."""
    decided_by: Literal["sprt", "fixed"] | None
    decided_at_cap: bool
    pairs_used: int | None
    trials_started: int
    trials_skipped: int | None
    trials_after_decision: int
    llr: SequentialLlr | None
    bounds: list[float] | None
    tests: OneSidedStates | None
    last_look: list[float | None] | None
    pairs: PairCounts | None
    mcnemar_p: float | None
    mcnemar_direction: Literal["better", "worse"] | None
    effect: EffectInterval | None
    cost_ratio: CostRatio | None
    config_diff: list[ConfigChange]
    hypothesis: dict[str, object] | None
    """The hypothesis beside the candidate's config and this candidate's outcome (as the top-level field)."""


class RunSummary(TypedDict):
    """The whole ``summary.json`` document.

    ``gate`` and ``output_errors`` are added by the controller once the gate is evaluated and the requested files
    are written, so every written summary has them; ``trials_used`` is only in single-config runs with a target.
    """

    schema: int
    run_id: str
    experiment_id: str
    mode: Literal["ab", "single", "candidates"]
    settings: Settings
    design: CapDesign | TargetCapDesign | None
    arms: dict[str, ArmSummary]
    config_diff: list[ConfigChange]
    verdict: str | None
    verdict_reason: str | None
    decided_by: Literal["sprt", "fixed"] | None
    llr: SequentialLlr | None
    bounds: list[float] | None
    tests: OneSidedStates | None
    last_look: list[float | None] | None
    decided_at_cap: bool
    pairs_used: int | None
    pairs: PairCounts | None
    mcnemar_p: float | None
    mcnemar_direction: Literal["better", "worse"] | None
    effect: EffectInterval | None
    cost_ratio: CostRatio | None
    drift: DriftReport | None
    trials_planned: int | None
    trials_started: int
    trials_skipped: int
    trials_after_decision: int
    budget: BudgetState | None
    spend: Spend
    interrupted: bool
    stopped_by: str | None
    coverage: list[str]
    tasks: list[TaskRow]
    notes: list[str]
    extension: ExtensionAdvice | None
    metric: MetricSection | None
    hypothesis: dict[str, object] | None
    shard: ShardInfo | None
    merged_from: list[str] | None
    candidates: NotRequired[list[CandidateResult]]
    multiplicity: NotRequired[Literal["bonferroni", "e-bh"]]
    """Only in a run with several candidates: what controls the error across them (as each candidate's)."""
    """Only in a run with several candidates (``mode`` ``"candidates"``)."""
    trials_used: NotRequired[int]
    gate: NotRequired[GateResult]
    output_errors: NotRequired[list[str]]
    finished_at: NotRequired[str]


@dataclass(frozen=True)
class StoredSummary:
    """A run's ``summary.json`` as read from disk: the summary when it has the documented shape, else why not."""

    summary: RunSummary | None
    problem: str | None
    """``None`` when ``summary`` is there; else one sentence naming the file (and the field that does not fit)."""


MISSING_SUMMARY = "missing (the run did not finish)"


def read_summary(path: Path) -> StoredSummary:
    """Read and check ``summary.json`` once: a :class:`RunSummary`, or ``None`` and what keeps it from being one
    (missing, not readable JSON, or the first field that does not have its documented type)."""
    if not path.is_file():
        return StoredSummary(None, f"{path}: {MISSING_SUMMARY}")
    try:
        data = read_json(path)
    except LedgerError as exc:
        return StoredSummary(None, str(exc))
    problem = shape_problem(data, RunSummary)
    if problem is not None:
        return StoredSummary(None, f"{path}: {problem}")
    return StoredSummary(cast(RunSummary, data), None)
