"""The run's options as plain data (:class:`RunOptions`), their defaults, and the checks that make contradictory
or out-of-range values usage errors. Reading them from the command line and ini files is
:mod:`pytest_agentopt.shell.options`'s job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Literal

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.outcomes import DEFAULT_INFRA_EXCEPTIONS
from pytest_agentopt.run.shards import Shard
from pytest_agentopt.stats.wald import DIRECTIONS

CLI = "cli"
DEFAULT_TRIALS = 10
MAX_TRIALS = 10_000
"""The largest ``--agent-trials``. Each trial of each task and arm is one pytest item when it runs and one entry of
the plan in every process (every planned trial is a collected item with ``-k``, ``--deselect``, ``--lf``, ``--sw``
or ``--collect-only``); 10,000 per task per arm is far beyond what any sequential test needs (a few hundred pairs
decide an effect of 0.05) and still plans in bounded time and memory."""
DEFAULT_ALPHA = 0.05
DEFAULT_BETA = 0.10
DEFAULT_EFFECT = 0.15
DEFAULT_DIR = ".agentopt"
LOOKAHEAD_AUTO = "auto"
MAX_LOOKAHEAD = 1_000_000
"""The largest ``--agent-lookahead``: more items than any plan holds."""
DEFAULT_INFRA_RETRIES = 2
DEFAULT_INFRA_MAX_SHARE = 0.2
DEFAULT_INFRA_BACKOFF = 1.0
DEFAULT_DRIFT_ALPHA = 0.05
"""The family-wise error rate of the drift report: P(any feature reported as moved | nothing changed)."""
MAX_INFRA_BACKOFF = 30.0
GATE_RULES = ("any-worse", "all-worse", "none-better")
"""How a run with several candidates gates CI (``report.gate``): exit 1 when any candidate is proven worse (the
default), only when every candidate is, or unless at least one candidate is proven better."""
DEFAULT_GATE_RULE = "any-worse"
FamilyError = Literal["fwer", "fdr"]
FAMILY_ERRORS: tuple[FamilyError, ...] = ("fwer", "fdr")
"""What a run with several candidates controls across them (``--agent-family-error``, ``run.candidates``): the
family-wise error rate (Bonferroni, the default) or the false discovery rate of the claims (e-BH)."""
DEFAULT_FAMILY_ERROR: FamilyError = "fwer"


@dataclass(frozen=True)
class RunOptions:
    config_path: Path | None = None
    """The (first) candidate's config: ``--agent-config``."""
    control: str | None = None
    candidate_paths: tuple[Path, ...] = ()
    """Every candidate's config when ``--agent-config`` was given several times (or as a glob); empty or one
    path: a run with one candidate, ``config_path``."""
    gate_rule: str = DEFAULT_GATE_RULE
    family_error: str = DEFAULT_FAMILY_ERROR
    """``--agent-family-error``: ``fwer`` or ``fdr`` (checked by :func:`validate`)."""
    trials: int = DEFAULT_TRIALS
    seed: int | None = None
    agent_dir: Path = Path(DEFAULT_DIR)
    json_path: Path | None = None
    md_path: Path | None = None
    html_path: Path | None = None
    csv_path: Path | None = None
    overrides: tuple[str, ...] = ()
    sprt: bool = False
    alpha: float = DEFAULT_ALPHA
    beta: float = DEFAULT_BETA
    effect: float = DEFAULT_EFFECT
    target: float | None = None
    direction: str = "both"
    metric: str | None = None
    """``--agent-metric``: what the paired sequential test decides on (``None``: success, or the hypothesis's)."""
    effect_ratio: float | None = None
    """``--agent-effect-ratio``: the minimal relative change of a numeric metric."""
    fail_inconclusive: bool = False
    drift_gate: bool = False
    """``--agent-drift-gate``: a behaviour drift found by the drift report fails the run."""
    drift_alpha: float = DEFAULT_DRIFT_ALPHA
    """``--agent-drift-alpha``: the drift report's family-wise error rate."""
    resume: str | None = None
    shard: Shard | None = None
    budget_usd: float | None = None
    lookahead: int | None = None
    """``--agent-lookahead``: items dispatch may run ahead under ``--sprt`` with xdist; ``None``: ``auto``."""
    timeout_s: float | None = None
    infra_retries: int = DEFAULT_INFRA_RETRIES
    infra_backoff: float = DEFAULT_INFRA_BACKOFF
    infra_max_share: float = DEFAULT_INFRA_MAX_SHARE
    infra_exceptions: tuple[str, ...] = DEFAULT_INFRA_EXCEPTIONS
    sources: Mapping[str, str] = dataclass_field(default_factory=dict)
    """Where each given option came from: ``"cli"``, or the ini file's name."""

    @property
    def active(self) -> bool:
        return self.config_path is not None or self.resume is not None

    def given(self, flag: str, value: object) -> str:
        """How the user wrote the option (for messages): ``--agent-trials=0`` or ``agent_trials = 0 (pytest.ini)``."""
        return describe(flag, value, self.sources.get(flag, CLI))

    def from_command_line(self, flag: str) -> bool:
        return self.sources.get(flag) == CLI

    @property
    def candidate_count(self) -> int:
        return max(1, len(self.candidate_paths))

    @property
    def single_config(self) -> bool:
        return self.control is not None and self.control.lower() == "none"


def describe(flag: str, value: object, source: str = "cli") -> str:
    """``--agent-trials=0`` for a command-line value, ``agent_trials = 0 (pytest.ini)`` for an ini value."""
    if source == CLI:
        return f"{flag}={value}"
    return f"{ini_key(flag)} = {value} ({source})"


def ini_key(flag: str) -> str:
    """The ini key of an option: ``--agent-trials`` -> ``agent_trials``, ``--sprt`` -> ``agent_sprt``."""
    name = flag.lstrip("-").replace("-", "_")
    return name if name.startswith("agent_") else f"agent_{name}"


def validate(options: RunOptions) -> None:
    """Contradictory or out-of-range values are usage errors that say what would be valid."""
    given = options.given
    if not 1 <= options.trials <= MAX_TRIALS:
        raise AgentoptUsageError(
            f"{given('--agent-trials', options.trials)}: must be from 1 to {MAX_TRIALS:,} (trials per task per arm; "
            "each is one pytest item)"
        )
    if options.seed is not None and options.seed < 0:
        raise AgentoptUsageError(f"{given('--agent-seed', options.seed)}: must be a non-negative integer")
    for flag, value in (("--agent-alpha", options.alpha), ("--agent-beta", options.beta)):
        if not 0 < value < 0.5:
            raise AgentoptUsageError(f"{given(flag, value)}: must be between 0 and 0.5 (exclusive), e.g. 0.05")
    if not 0 < options.effect < 1:
        raise AgentoptUsageError(
            f"{given('--agent-effect', options.effect)}: must be between 0 and 1 (exclusive), e.g. 0.15"
        )
    if options.direction not in DIRECTIONS:
        raise AgentoptUsageError(
            f"{given('--agent-direction', options.direction)}: must be one of {', '.join(DIRECTIONS)}"
        )
    if options.direction != "both" and not options.sprt:
        raise AgentoptUsageError(
            f"{given('--agent-direction', options.direction)} needs --sprt (it chooses the sequential test)"
        )
    if options.target is not None:
        target = given("--agent-target", options.target)
        if not 0 < options.target < 1:
            raise AgentoptUsageError(
                f"{target}: must be a success rate in (0, 1) (a target of 1 cannot be tested: one failure "
                "would disprove it)"
            )
        if options.target - options.effect <= 0:
            raise AgentoptUsageError(
                f"{target} with {given('--agent-effect', options.effect)}: the null rate "
                f"target - effect = {options.target - options.effect:.3g} must be above 0; "
                "lower --agent-effect or raise the target"
            )
        if not options.sprt:
            raise AgentoptUsageError(f"{target} needs --sprt (it sets the sequential test's target rate)")
        if options.control is not None and not options.single_config:
            raise AgentoptUsageError(
                f"{target} compares one config with a target rate: it cannot be combined with "
                f"{given('--agent-control', options.control)}; use --agent-control=none or drop --agent-target"
            )
    elif options.sprt and options.single_config:
        raise AgentoptUsageError(
            f"--sprt with {given('--agent-control', options.control)} needs --agent-target=P: a single config "
            "is tested against a target success rate (or give a control config to compare with)"
        )
    if options.gate_rule not in GATE_RULES:
        raise AgentoptUsageError(
            f"{given('--agent-gate-rule', options.gate_rule)}: must be one of {', '.join(GATE_RULES)}"
        )
    if options.family_error not in FAMILY_ERRORS:
        raise AgentoptUsageError(
            f"{given('--agent-family-error', options.family_error)}: must be one of {', '.join(FAMILY_ERRORS)} "
            "(the family-wise error rate or the false discovery rate across several candidates)"
        )
    if options.candidate_count > 1:
        _validate_candidates(options)
    if options.metric is not None or options.effect_ratio is not None:
        from pytest_agentopt.run.metric_choice import choose_metric

        choose_metric(
            options.metric,
            options.effect_ratio,
            name_given=given("--agent-metric", options.metric),
            ratio_given=given("--agent-effect-ratio", options.effect_ratio),
            sprt=options.sprt,
            paired=not options.single_config and options.target is None,
        )
    _validate_drift(options)
    if options.lookahead is not None and not options.sprt and options.resume is None:  # a resume reads --sprt later
        raise AgentoptUsageError(
            f"{given('--agent-lookahead', options.lookahead)} needs --sprt (it bounds how far xdist dispatch runs "
            "ahead of the sequential test)"
        )
    if options.budget_usd is not None and options.budget_usd <= 0:
        raise AgentoptUsageError(
            f"{given('--agent-budget', options.budget_usd)}: must be a positive number of US dollars"
        )
    if options.timeout_s is not None and options.timeout_s <= 0:
        raise AgentoptUsageError(
            f"{given('--agent-timeout', options.timeout_s)}: must be a positive number of seconds, e.g. 600"
        )
    if options.infra_retries < 0:
        raise AgentoptUsageError(f"{given('--agent-infra-retries', options.infra_retries)}: must be 0 or more")
    if not 0 <= options.infra_backoff <= MAX_INFRA_BACKOFF:
        raise AgentoptUsageError(
            f"{given('--agent-infra-backoff', options.infra_backoff)}: must be between 0 and "
            f"{MAX_INFRA_BACKOFF:g} seconds"
        )
    if not 0 <= options.infra_max_share <= 1:
        raise AgentoptUsageError(
            f"{given('--agent-infra-max-share', options.infra_max_share)}: must be a share between 0 and 1"
        )
    if options.shard is not None and options.sprt:
        raise AgentoptUsageError(
            f"{given('--agent-shard', options.shard)} cannot be combined with --sprt: a sequential verdict needs "
            "one controller that feeds every pair to the test in planned order and stops every worker the moment "
            "it decides, while shards run apart and are merged only once they all finished; drop --sprt (the "
            "merged shards get the fixed-sample verdict: agentopt merge), or run one --sprt session with more "
            "xdist workers (-n, --tx)"
        )
    if options.resume is not None and options.overrides and options.from_command_line("--agent-set"):
        raise AgentoptUsageError(
            "--agent-set cannot be combined with --agent-resume: a resumed run keeps the configs it started with"
        )


def _validate_drift(options: RunOptions) -> None:
    """The drift report compares the arms pair by pair: its options need a control and a level in (0, 0.5)."""
    given = options.given
    if not 0 < options.drift_alpha < 0.5:
        raise AgentoptUsageError(
            f"{given('--agent-drift-alpha', options.drift_alpha)}: must be between 0 and 0.5 (exclusive), e.g. 0.05 "
            "(the chance of reporting a drift when nothing changed)"
        )
    if options.single_config or options.target is not None:
        for flag, value, default in (
            ("--agent-drift-gate", options.drift_gate, False),
            ("--agent-drift-alpha", options.drift_alpha, DEFAULT_DRIFT_ALPHA),
        ):
            if value != default:
                raise AgentoptUsageError(
                    f"{given(flag, value)} needs a control config: the drift report compares control and test pair "
                    "by pair; drop it or give --agent-control"
                )


def parse_lookahead(text: str) -> int | None:
    """``auto`` -> ``None``; a whole number of items from 1 to :data:`MAX_LOOKAHEAD`; ``ValueError`` otherwise."""
    value = text.strip().lower()
    if value == LOOKAHEAD_AUTO:
        return None
    try:
        items = int(value)
    except ValueError:
        raise ValueError(f"must be 'auto' or a whole number of items from 1 to {MAX_LOOKAHEAD:,}, e.g. 32") from None
    if not 1 <= items <= MAX_LOOKAHEAD:
        raise ValueError(f"must be 'auto' or a whole number of items from 1 to {MAX_LOOKAHEAD:,}, e.g. 32")
    return items


def _validate_candidates(options: RunOptions) -> None:
    """Several candidates are each compared with one control: no single-config mode, no target rate."""
    configs = ", ".join(str(path) for path in options.candidate_paths)
    if options.single_config or options.target is not None:
        reason = (
            options.given("--agent-control", options.control)
            if options.single_config
            else options.given("--agent-target", options.target)
        )
        raise AgentoptUsageError(
            f"--agent-config given {options.candidate_count} times ({configs}) with {reason}: several candidates are "
            "each compared with one control config; give one --agent-config for a single-config run"
        )
    if len(set(options.candidate_paths)) != len(options.candidate_paths):
        raise AgentoptUsageError(f"--agent-config names the same config twice ({configs}): give each candidate once")
    if options.resume is not None:
        raise AgentoptUsageError(
            "--agent-config given several times with --agent-resume: a resumed run keeps the configs it started "
            "with; drop --agent-config"
        )
    several = f"--agent-config given {options.candidate_count} times ({configs})"
    if options.metric not in (None, "success") or options.effect_ratio is not None:
        flag, value = (
            ("--agent-metric", options.metric)
            if options.metric not in (None, "success")
            else ("--agent-effect-ratio", options.effect_ratio)
        )
        raise AgentoptUsageError(
            f"{several} with {options.given(flag, value)}: several candidates are each decided on success only "
            "(one paired test per candidate at alpha/K); decide on another metric one candidate at a time, or drop "
            f"{flag}"
        )
    if options.drift_gate:
        raise AgentoptUsageError(
            f"{several} with {options.given('--agent-drift-gate', options.drift_gate)}: the drift report compares one "
            "control and one test config pair by pair; gate on drift one candidate at a time, or drop "
            "--agent-drift-gate"
        )
    if options.shard is not None:
        raise AgentoptUsageError(
            f"{several} with {options.given('--agent-shard', options.shard)}: shards of a run with several "
            "candidates cannot be merged (agentopt merge combines runs of one control and one test config); run "
            "the candidates in one session with more xdist workers (-n), or shard one candidate at a time"
        )
