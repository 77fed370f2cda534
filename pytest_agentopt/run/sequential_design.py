"""What a run's sequential test will be: its question, its boundaries, its cap, and what that cap delivers.

Resolved once by the controller (workers only receive the resulting cap in pairs through ``workerinput``):

* the question (``--agent-direction``): when not given, a paired ``--sprt`` run in CI asks only the CI gate's
  question, ``worse`` (about a third fewer pairs under no change than ``both``, whose ``better`` /
  ``no_difference`` distinction a gate ignores); elsewhere it asks ``both``. CI is detected as pytest does: the
  environment variable ``CI`` or ``BUILD_NUMBER`` is set;
* the design (``stats.design``): boundaries calibrated over the discordance, with a last look at the cap;
* the cap: ``--agent-trials`` per task and arm when given, else the least number of pairs from which the
  calibrated design holds both error rates (``required_pairs``), turned into trials per task once the tasks are
  counted (``trial_expansion``);
* what the cap delivers: the exact worst-case alpha, beta and miss at that number of pairs, and, when a cap
  given by the user is too small for beta, one warning at start-up with the trials that would deliver it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.stats.design import CapFigures, PairedDesign, paired_design
from pytest_agentopt.stats.wald import Direction

CI_VARIABLES = ("CI", "BUILD_NUMBER")
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


def derived_cap_pairs(options: RunOptions, *, paired: bool, direction: str) -> int | None:
    """The cap in pairs a paired ``--sprt`` run uses when ``--agent-trials`` is not given (``None``: use trials)."""
    if not (options.sprt and paired) or "--agent-trials" in options.sources:
        return None
    from pytest_agentopt.run.candidates import candidate_alpha

    alpha = candidate_alpha(options.alpha, options.candidate_count)
    return design_for(alpha, options.beta, options.effect, direction).required_pairs


QUESTION = {
    "worse": "a regression of {effect:g}",
    "better": "an improvement of {effect:g}",
    "both": "a difference of {effect:g} (either way)",
}


@dataclass(frozen=True)
class CapAssessment:
    """What a paired run's cap delivers (``None`` figures: the design is not calibrated for these settings)."""

    design: PairedDesign
    tasks: int
    trials: int
    figures: CapFigures | None

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
        if design.source != "calibrated":
            from pytest_agentopt.stats.design import calibrated_settings

            shipped = "; ".join(
                f"alpha {a:g}, beta {b:g}, effect {d:g}" for a, b, d in calibrated_settings(design.direction)
            )
            return (
                f"the paired test's error rates are calibrated over the discordance for {shipped or 'no settings'} "
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
        return (
            f"with {self.tasks} tasks x {self.trials} trials ({self.pairs} pairs) this run misses {question} up to "
            f"{100 * figures.miss:.0f} % of the time (at the least favourable discordance){fix}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary's ``design`` section."""
        design, figures = self.design, self.figures
        return {
            "boundaries": design.source,
            "direction": design.direction,
            "tasks": self.tasks,
            "trials_per_task": self.trials,
            "cap_pairs": self.pairs,
            "required_pairs": design.required_pairs,
            "alpha_at_cap": figures.alpha if figures is not None else None,
            "beta_at_cap": figures.beta if figures is not None else None,
            "miss_at_cap": figures.miss if figures is not None else None,
            "power_at_cap": 1.0 - figures.miss if figures is not None else None,
            "trials_needed": self.trials_needed,
        }


def assess_cap(design: PairedDesign, *, tasks: int, trials: int) -> CapAssessment:
    return CapAssessment(design=design, tasks=tasks, trials=trials, figures=design.at_cap(tasks * trials))
