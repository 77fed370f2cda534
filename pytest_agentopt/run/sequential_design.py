"""What a run's sequential test will be: its question, its boundaries, its cap, and what that cap delivers.

Resolved once by the controller (workers only receive the resulting cap in pairs through ``workerinput``):

* the question (``--agent-direction``): when not given, a paired ``--sprt`` run in CI asks only the CI gate's
  question, ``worse`` (about a third fewer pairs under no change than ``both``, whose ``better`` /
  ``no_difference`` distinction a gate ignores); elsewhere it asks ``both``. CI is detected as pytest does: the
  environment variable ``CI`` or ``BUILD_NUMBER`` is set;
* the design (``stats.design``): boundaries calibrated over the discordance, with a last look at the cap;
* the cap: ``--agent-trials`` per task and arm when given, else the least number of pairs from which the
  calibrated design holds both error rates (``required_pairs``), turned into trials per task once the tasks are
  counted (``trial_expansion``); with several candidates, each candidate's test runs at alpha/K: when the
  calibrated table holds alpha/K (the default settings with K = 2 .. 8) its ``required_pairs`` as for one
  candidate, else (Wald's bounds at alpha/K) none, as for any setting without a calibration;
* what the cap delivers: the exact worst-case alpha, beta and miss at that number of pairs, and, when a cap
  given by the user is too small for beta, one warning at start-up with the trials that would deliver it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, final

from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.stats.design import CapFigures, PairedDesign, calibrated_settings, paired_design
from pytest_agentopt.stats.wald import Direction

if TYPE_CHECKING:
    from pytest_agentopt.run.metric_choice import MetricChoice
    from pytest_agentopt.stats.sprt import SequentialSettings
    from pytest_agentopt.stats.target_design import TargetCapFigures, TargetDesign

CI_VARIABLES = ("CI", "BUILD_NUMBER")
CHEAPER_SAME_QUALITY = "cheaper_same_quality"
"""The metric whose quality half has its own design (``stats.cheaper_same_quality``: imported only for it)."""
GATE_DIRECTION: Direction = "worse"
AUTO_DIRECTION_NOTE = (
    "CI detected (the CI or BUILD_NUMBER environment variable is set): the sequential test asks only the CI "
    "gate's question, worse or not (--agent-direction=both for every verdict)"
)


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """Whether this looks like a CI job, by the environment variables pytest itself checks."""
    return any(name in environ for name in CI_VARIABLES)


def resolve_direction(options: RunOptions, *, paired: bool, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """The run's direction and, when it was chosen automatically (CI), the note that says so."""
    if "--agent-direction" in options.sources or not (options.sprt and paired):
        return options.direction, None
    if running_in_ci(environ):
        return GATE_DIRECTION, AUTO_DIRECTION_NOTE
    return "both", None


def design_for(alpha: float, beta: float, effect: float, direction: str) -> PairedDesign:
    """The calibrated design for these settings, or Wald's when the shipped table has none."""
    return paired_design(alpha, beta, effect, direction)  # type: ignore[arg-type]


def metric_design_for(settings: SequentialSettings, direction: str, metric: MetricChoice | None) -> PairedDesign:
    """The design of the run's paired success test: for ``cheaper_same_quality`` its quality half's, at the levels
    that keep the combined decision's two error rates (``stats.cheaper_same_quality.quality_settings``)."""
    if metric is not None and metric.kind == CHEAPER_SAME_QUALITY:
        from pytest_agentopt.stats.cheaper_same_quality import quality_design

        return quality_design(settings)
    return design_for(settings.alpha, settings.beta, settings.delta, direction)


def target_design_for(options: RunOptions) -> TargetDesign | None:
    """The one-sample design of an ``--agent-target`` run (``None`` for any other run)."""
    if not options.sprt or options.target is None:
        return None
    from pytest_agentopt.stats.target_design import target_design

    return target_design(options.target, options.alpha, options.beta, options.effect)


def derived_cap_pairs(options: RunOptions, *, paired: bool, direction: str) -> int | None:
    """The cap a ``--sprt`` run uses when ``--agent-trials`` is not given (``None``: use trials): in pairs for a
    paired run, in scored trials for a run against ``--agent-target`` (one trial per task and trial index)."""
    if not options.sprt or "--agent-trials" in options.sources:
        return None
    if paired and options.candidate_count > 1:
        each = candidate_design(options.candidate_count, options.alpha, options.beta, options.effect, direction)
        return each.required_pairs
    if paired and options.metric == CHEAPER_SAME_QUALITY:
        from pytest_agentopt.stats.cheaper_same_quality import quality_settings
        from pytest_agentopt.stats.sprt import SequentialSettings

        quality = quality_settings(SequentialSettings(options.alpha, options.beta, options.effect))
        return design_for(quality.alpha, quality.beta, quality.delta, direction).required_pairs
    if paired:
        return design_for(options.alpha, options.beta, options.effect, direction).required_pairs
    design = target_design_for(options)
    return design.required_trials if design is not None else None


def candidate_design(candidates: int, alpha: float, beta: float, effect: float, direction: str) -> PairedDesign:
    """Each candidate's design: the one of alpha/K (Bonferroni), calibrated when the shipped table holds it."""
    from pytest_agentopt.run.candidates import candidate_alpha

    return design_for(candidate_alpha(alpha, candidates), beta, effect, direction)


QUESTION = {
    "worse": "a regression of {effect:g}",
    "better": "an improvement of {effect:g}",
    "both": "a difference of {effect:g} (either way)",
}


@final  # so that ``"cap_trials" in design`` tells the two designs apart
class CapDesign(TypedDict):
    """What a paired ``--sprt`` run's cap delivers, at the least favourable discordance (``design``)."""

    boundaries: str
    direction: str
    tasks: int
    trials_per_task: int
    cap_pairs: int
    required_pairs: int | None
    alpha_at_cap: float | None
    beta_at_cap: float | None
    miss_at_cap: float | None
    power_at_cap: float | None
    trials_needed: int | None


@final
class TargetCapDesign(TypedDict):
    """What a ``--sprt --agent-target`` run's cap delivers, exactly, last look included (``design``)."""

    boundaries: str
    direction: str
    target: float
    tasks: int
    trials_per_task: int
    cap_trials: int
    required_trials: int | None
    last_look: list[int] | None
    alpha_at_cap: float | None
    beta_at_cap: float | None
    miss_at_cap: float | None
    power_at_cap: float | None
    below_miss_at_cap: float | None
    trials_needed: int | None


@dataclass(frozen=True)
class CapAssessment:
    """What a paired run's cap delivers (``None`` figures: the design is not calibrated for these settings)."""

    design: PairedDesign
    tasks: int
    trials: int
    figures: CapFigures | None
    candidate_count: int = 1
    """How many candidates share the control (each test's figures are then those of alpha/K)."""
    quality_half: bool = False
    """The design is the quality half of ``cheaper_same_quality`` (``stats.cheaper_same_quality``)."""

    @property
    def pairs(self) -> int:
        return self.tasks * self.trials

    @property
    def trials_needed(self) -> int | None:
        """Trials per task and arm from which the worst-case miss is at most beta (``None``: not calibrated)."""
        pairs = self.design.pairs_for_miss(self.design.beta)
        if pairs is None or not self.tasks:
            return None
        return math.ceil(pairs / self.tasks)

    def warning(self) -> str | None:
        """One sentence when the cap cannot deliver beta, or when the error rates are not calibrated."""
        design = self.design
        if design.source != "calibrated" and self.quality_half:
            return (
                f"cheaper_same_quality: its quality test must keep a false not_worse at most {design.beta:g} (alpha) "
                f"and a false worse at most {design.alpha:g} (beta/2), so that a false claim stays at most alpha and "
                "a missed saving at most beta; the shipped calibrated table has no design for those settings, so it "
                "uses Wald's bounds, whose exact error rates can exceed them at some discordances (agentopt plan "
                "--metric cheaper_same_quality shows them), and it takes no last look at the cap"
            )
        if design.source != "calibrated":
            shipped = "; ".join(
                f"alpha {a:g}, beta {b:g}, effect {d:g}"
                for a, b, d in sorted(calibrated_settings(design.direction), reverse=True)  # the defaults first
            )
            each = (
                f"each of the {self.candidate_count} candidates' tests runs at alpha/{self.candidate_count}: "
                if self.candidate_count > 1
                else ""
            )
            calibrated_for = shipped or "no settings"
            return (
                f"{each}the paired test's error rates are calibrated over the discordance for {calibrated_for} "
                f"(direction {design.direction}); with alpha {design.alpha:g}, beta {design.beta:g}, effect "
                f"{design.delta:g} it uses Wald's bounds, whose exact error rates can exceed the nominal ones at "
                "some discordances (agentopt plan shows them), and a run that reaches the cap ends inconclusive"
            )
        figures = self.figures
        if figures is None or figures.miss <= design.beta:
            return None
        question = QUESTION[design.direction].format(effect=design.delta)
        needed = self.trials_needed
        fix = f"; --agent-trials={needed} gives at most {100 * design.beta:g} %" if needed is not None else ""
        who = (
            f"each of the {self.candidate_count} candidates' tests (alpha/{self.candidate_count} = "
            f"{design.alpha:.4g}, calibrated boundaries)"
            if self.candidate_count > 1
            else "this run"
        )
        return (
            f"with {self.tasks} tasks x {self.trials} trials ({self.pairs} pairs) {who} misses {question} up to "
            f"{100 * figures.miss:.0f} % of the time (at the least favourable discordance){fix}"
        )

    def as_dict(self) -> CapDesign:
        """The summary's ``design`` section."""
        design, figures = self.design, self.figures
        alpha: float | None
        beta: float | None
        miss: float | None
        if figures is not None:
            alpha, beta, miss = figures.alpha, figures.beta, figures.miss
        else:
            alpha = beta = miss = None
        return {
            "boundaries": design.source,
            "direction": design.direction,
            "tasks": self.tasks,
            "trials_per_task": self.trials,
            "cap_pairs": self.pairs,
            "required_pairs": design.required_pairs,
            "alpha_at_cap": alpha,
            "beta_at_cap": beta,
            "miss_at_cap": miss,
            "power_at_cap": 1.0 - miss if miss is not None else None,
            "trials_needed": self.trials_needed,
        }


def assess_cap(
    design: PairedDesign,
    *,
    tasks: int,
    trials: int,
    candidate_count: int = 1,
    quality_half: bool = False,
) -> CapAssessment:
    return CapAssessment(
        design=design,
        tasks=tasks,
        trials=trials,
        figures=design.at_cap(tasks * trials),
        candidate_count=candidate_count,
        quality_half=quality_half,
    )


@dataclass(frozen=True)
class TargetCapAssessment:
    """What the cap of a run against ``--agent-target`` delivers (the one-sample counterpart of CapAssessment)."""

    design: TargetDesign
    tasks: int
    trials: int
    figures: TargetCapFigures | None

    @property
    def cap_trials(self) -> int:
        return self.tasks * self.trials

    @property
    def trials_needed(self) -> int | None:
        """Trials per task from which every cap delivers both rates and always ends with a claim."""
        required = self.design.required_trials
        if required is None or not self.tasks:
            return None
        return math.ceil(required / self.tasks)

    def warning(self) -> str | None:
        """One sentence when the cap leaves an undecided zone that costs power beyond the planned rates."""
        design, figures = self.design, self.figures
        if figures is None or (figures.miss <= design.beta and figures.below_miss <= design.alpha):
            return None
        needed = self.trials_needed
        fix = (
            f"; --agent-trials={needed} gives at most {100 * design.beta:g} % and {100 * design.alpha:g} %"
            if needed is not None
            else ""
        )
        return (
            f"with {self.tasks} tasks x {self.trials} trials ({self.cap_trials} trials) this run misses "
            f"'meets_target' for a config at the target {design.target:g} {100 * figures.miss:.0f} % of the time, "
            f"and 'below_target' for one at {design.p0:g} {100 * figures.below_miss:.0f} %{fix}"
        )

    def as_dict(self) -> TargetCapDesign:
        """The summary's ``design`` section for a run against a target."""
        design, figures = self.design, self.figures
        return {
            "boundaries": "wald",
            "direction": "target",
            "target": design.target,
            "tasks": self.tasks,
            "trials_per_task": self.trials,
            "cap_trials": self.cap_trials,
            "required_trials": design.required_trials,
            "last_look": [figures.below_under, figures.meets_from] if figures is not None else None,
            "alpha_at_cap": figures.alpha if figures is not None else None,
            "beta_at_cap": figures.beta if figures is not None else None,
            "miss_at_cap": figures.miss if figures is not None else None,
            "power_at_cap": 1.0 - figures.miss if figures is not None else None,
            "below_miss_at_cap": figures.below_miss if figures is not None else None,
            "trials_needed": self.trials_needed,
        }


def assess_target_cap(design: TargetDesign, *, tasks: int, trials: int) -> TargetCapAssessment:
    return TargetCapAssessment(design=design, tasks=tasks, trials=trials, figures=design.at_cap(tasks * trials))
