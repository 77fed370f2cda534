"""``llr_path``: the sequential test's log-likelihood ratio after each pair (or trial) of one run.

The path is recomputed by feeding the run's ledger records to the plugin's own :class:`SequentialFeeder` and
:class:`PairedSequentialTest` / :class:`TargetSequentialTest` in planned (``seq``) order, exactly as the run did,
so it ends where the run decided. Sequence numbers missing from the ledger (trials skipped by a stop or a budget)
enter as skipped, as they did in the run: a pair with a skipped half never counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest
from pytest_agentopt.stats.wald import DIRECTIONS
from pytest_agentopt.storage.ledger import RunPaths, read_ledger, read_manifest
from pytest_agentopt.storage.summary_schema import read_summary

__all__ = ["candidates_llr_path", "llr_path", "run_llr_path"]


def llr_path(
    records_of_one_run: Iterable[Mapping[str, Any]],
    *,
    alpha: float,
    beta: float,
    effect: float,
    direction: str = "both",
    target: float | None = None,
    plan_size: int | None = None,
) -> dict[str, Any]:
    """``{"points", "bounds", "decided_at", "verdict", "unit"}``.

    Paired runs: points ``{"pairs": n, "better": llr, "worse": llr}`` (``None`` for a test a one-sided direction
    does not run), starting at ``pairs = 0``; target runs: ``{"trials": n, "target": llr}``. The paired test uses
    the design the plugin used (``run_design.design_for``: bounds calibrated over the observed discordance, or
    Wald's); ``bounds`` are its ``[lower, upper]`` after the last point (they move a little with the observed
    discordance; Wald's are constant). ``plan_size``: the run's planned trials, so that a run that reached its cap
    ends with the same last look. ``decided_at`` is the number of pairs (trials) at the decision, or ``None``.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    settings = SequentialSettings(alpha=alpha, beta=beta, delta=effect)
    paired_test: PairedSequentialTest | None = None
    target_test: TargetSequentialTest | None = None
    if target is None:
        design = design_for(alpha, beta, effect, direction)
        paired_test = PairedSequentialTest(settings, direction, design)
        feeder = SequentialFeeder(paired_test=paired_test)
    else:
        target_test = TargetSequentialTest(target, settings)
        feeder = SequentialFeeder(target_test=target_test)

    def point() -> dict[str, Any]:
        if paired_test is not None:
            llr = paired_test.llr
            return {"pairs": feeder.units, "better": llr["better"], "worse": llr["worse"]}
        assert target_test is not None
        return {"trials": feeder.units, "target": target_test.llr}

    points = [point()]
    expected = 0
    for record in sorted(records_of_one_run, key=lambda r: int(r["seq"])):
        seq = int(record["seq"])
        while expected < seq:  # not in the ledger: skipped in the run
            feeder.add(expected, task_id=f"\0skipped:{expected}", arm="skipped", trial=-1, outcome="skipped")
            expected += 1
        units = feeder.units
        feeder.add(
            seq,
            task_id=str(record["task_id"]),
            arm=str(record["arm"]),
            trial=int(record["trial"]),
            outcome=str(record["outcome"]),
        )
        expected = max(expected, seq + 1)
        if feeder.units != units:  # a pair (trial) entered the test; none enters after the decision
            points.append(point())
    if plan_size is not None and feeder.decision is None:
        while expected < plan_size:  # the planned trials after the last one in the ledger never ran
            feeder.add(expected, task_id=f"\0skipped:{expected}", arm="skipped", trial=-1, outcome="skipped")
            expected += 1
        feeder.plan_size = plan_size
        if feeder.conclude_if_complete() is not None:
            points.append(point())
    test = paired_test if paired_test is not None else target_test
    assert test is not None
    decision = feeder.decision
    return {
        "points": points,
        "bounds": list(test.bounds),
        "decided_at": decision.units if decision is not None else None,
        "verdict": decision.verdict if decision is not None else None,
        "unit": "pairs" if paired_test is not None else "trials",
    }


def candidates_llr_path(
    records_of_one_run: Iterable[Mapping[str, Any]],
    *,
    candidates: Mapping[str, str],
    alpha: float,
    beta: float,
    effect: float,
    direction: str = "both",
    plan_size: int | None = None,
) -> dict[str, Any]:
    """Every candidate's LLR path in one chart's data, for a run with several candidates.

    ``candidates`` maps each candidate arm to its experiment id. The records are fed to the controller's own tests
    (``run.candidates.candidate_feeders``: each at alpha / K) in planned order, skipped trials included as in
    :func:`llr_path`. Points ``{"pairs": n, "<arm>.better": llr, "<arm>.worse": llr}`` (one candidate's keys per
    point); ``series`` names each line and ``legend`` each candidate; ``candidates`` holds each one's
    ``decided_at`` and ``verdict``; ``bounds`` are the first candidate's (the tests share one design).
    """
    from pytest_agentopt.run.candidates import candidate_feeders

    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    arms = list(candidates)
    feeders = candidate_feeders(arms, alpha=alpha, beta=beta, effect=effect, direction=direction)
    tests = {arm: cast(PairedSequentialTest, feeders.feeders[arm].paired_test) for arm in arms}

    def point(arm: str) -> dict[str, Any]:
        llr = tests[arm].llr
        return {"pairs": feeders.feeders[arm].units, f"{arm}.better": llr["better"], f"{arm}.worse": llr["worse"]}

    points = [point(arm) for arm in arms]

    def add(seq: int, record: Mapping[str, Any] | None) -> None:
        units = {arm: feeders.feeders[arm].units for arm in arms}
        if record is None:
            feeders.add(seq, task_id=f"\0skipped:{seq}", arm="skipped", trial=-1, outcome="skipped")
        else:
            feeders.add(
                seq,
                task_id=str(record["task_id"]),
                arm=str(record["arm"]),
                trial=int(record["trial"]),
                outcome=str(record["outcome"]),
            )
        points.extend(point(arm) for arm in arms if feeders.feeders[arm].units != units[arm])

    expected = 0
    for record in sorted(records_of_one_run, key=lambda r: int(r["seq"])):
        seq = int(record["seq"])
        while expected < seq:
            add(expected, None)
            expected += 1
        add(seq, record)
        expected = max(expected, seq + 1)
    if plan_size is not None and not feeders.all_decided:
        while expected < plan_size:
            add(expected, None)
            expected += 1
        feeders.set_plan_size(plan_size)
        before = {arm: feeders.feeders[arm].decision for arm in arms}
        feeders.conclude_if_complete()
        points.extend(point(arm) for arm in arms if before[arm] is None and feeders.feeders[arm].decision is not None)
    series = []
    for arm in arms:
        name = candidates[arm]
        series += [[f"{arm}.better", f"{name}: improvement test"], [f"{arm}.worse", f"{name}: regression test"]]
    return {
        "points": points,
        "bounds": list(tests[arms[0]].bounds),
        "decided_at": None,
        "verdict": None,
        "unit": "pairs",
        "series": series,
        "legend": [candidates[arm] for arm in arms],
        "candidates": {
            arm: {
                "experiment_id": candidates[arm],
                "decided_at": decision.units if decision is not None else None,
                "verdict": decision.verdict if decision is not None else None,
            }
            for arm, decision in ((arm, feeders.feeders[arm].decision) for arm in arms)
        },
    }


def run_llr_path(run: RunPaths | Path) -> dict[str, Any] | None:
    """The path of a run directory, with the settings from its manifest; ``None`` if the run was not sequential."""
    paths = run if isinstance(run, RunPaths) else RunPaths(Path(run))
    settings = read_manifest(paths).get("run") or {}
    if not settings.get("sprt"):
        return None
    paired = "control" in (settings.get("arms") or ())
    if not paired and settings.get("target") is None:
        return None
    return llr_path(
        cast(list[Mapping[str, Any]], read_ledger(paths.trials).records),
        alpha=float(settings["alpha"]),
        beta=float(settings["beta"]),
        effect=float(settings["effect"]),
        direction=str(settings.get("direction") or "both"),
        target=None if paired else float(settings["target"]),
        plan_size=_planned(paths),
    )


def _planned(paths: RunPaths) -> int | None:
    """The run's planned trials, from its summary (unknown for a run that never finished, or whose summary does not
    have the documented shape)."""
    summary = read_summary(paths.summary).summary
    return summary["trials_planned"] if summary is not None else None
