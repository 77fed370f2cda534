"""The hypothesis registry: every hypothesis a run tested (from ``<agent-dir>/runs/``) or a config carries (from
``*.hypothesis.json`` files), with its status, what it cost, and the experiment-velocity figures.

Per hypothesis (the runs recorded under its id, oldest first):

* ``status``: the latest run's, by its verdict: ``accepted`` (``better``, ``cheaper_same_quality``), ``rejected``
  (``worse``, ``no_difference``, ``not_better``, ``not_cheaper``, ``worse_quality``), ``inconclusive`` (anything
  else, ``not_worse`` included: it neither shows nor rules out an improvement); ``running`` when the latest run
  has no summary yet; ``unknown`` when its summary does not have the documented shape (a note names the field);
  ``not run`` for a hypothesis file no run has used;
* ``runs``, ``sessions`` (agent trials started, both arms), ``usd`` (estimated spend; ``usd_unpriced`` counts the
  trials whose cost is unknown, so the sum is then a lower bound);
* ``time_to_decision_s``: from the start of the run that decided it (its manifest) to the decision (its
  ``decision.json``); ``None`` while undecided;
* ``effect``: the decided metric's effect with its interval from the latest run with a summary: the median ratio
  for a numeric metric or a cost (cheaper at the same quality), else the rate difference.

Velocity: ``decided_per_week`` counts the hypotheses decided (accepted or rejected) in each ISO week of their
decision; ``waiting_share`` is the share of the wall time from the first hypothesis run's start to the last one's
end during which at least one hypothesis run was going on, i.e. the share of the time the team waited for a
decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

from pytest_agentopt.errors import ConfigError, LedgerError
from pytest_agentopt.run.verdicts import hypothesis_status
from pytest_agentopt.stats.paired import EffectInterval
from pytest_agentopt.storage.ledger import RunPaths, iter_runs, read_json, read_manifest
from pytest_agentopt.storage.summary_schema import MetricSection, RunSummary, read_summary

__all__ = ["HypothesisEffect", "HypothesisRow", "hypothesis_registry"]


class _Interval(TypedDict):
    estimate: float | None
    lower: float | None
    upper: float | None


class HypothesisEffect(_Interval):
    """The decided metric's effect (``median ratio``, ``median cost ratio`` or ``rate difference``)."""

    kind: str


@dataclass
class HypothesisRow:
    id: str
    description: str | None = None
    metric: str | None = None
    status: str = "not run"
    verdict: str | None = None
    runs: int = 0
    sessions: int = 0
    usd: float | None = None
    usd_unpriced: int = 0
    time_to_decision_s: float | None = None
    decided_at: str | None = None
    effect: HypothesisEffect | None = None
    run_ids: list[str] = field(default_factory=list)
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _effect(metric: MetricSection | None, success_effect: EffectInterval | None) -> HypothesisEffect | None:
    """The decided metric's effect with its interval: ``metric`` when the run decided on one, else success's."""
    kind = metric["kind"] if metric is not None else None
    if metric is not None and kind == "numeric":
        return {"kind": "median ratio", **_interval(metric.get("estimate"), metric.get("lower"), metric.get("upper"))}
    if metric is not None and kind == "cheaper_same_quality":
        components = metric.get("components")
        cost = components["cost"] if components is not None else None
        return {
            "kind": "median cost ratio",
            **(_interval(cost["estimate"], cost["lower"], cost["upper"]) if cost else _interval(None, None, None)),
        }
    effect = metric.get("effect") if metric is not None and kind == "binary" else success_effect
    if effect is None:
        return None
    return {"kind": "rate difference", **_interval(effect["estimate"], effect["lower"], effect["upper"])}


def _interval(estimate: float | None, lower: float | None, upper: float | None) -> _Interval:
    return {"estimate": estimate, "lower": lower, "upper": upper}


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except LedgerError:
        return None


def _no_summary_status(paths: RunPaths) -> str:
    """``running`` while the run has written no summary; ``unknown`` when its summary cannot be read."""
    return "unknown" if paths.summary.is_file() else "running"


def _summary(paths: RunPaths, notes: list[str]) -> RunSummary | None:
    """The run's summary, checked once (``None``: not written yet, or a note says why it cannot be read)."""
    stored = read_summary(paths.summary)
    if stored.problem is not None and paths.summary.is_file():
        notes.append(f"{stored.problem}: the run's verdict, spend and effect are unknown")
    return stored.summary


def _add_candidate_runs(
    rows: dict[str, HypothesisRow],
    intervals: list[tuple[datetime, datetime]],
    decided: dict[str, datetime],
    paths: RunPaths,
    manifest: dict[str, Any],
    hypotheses: dict[str, Any],
    notes: list[str],
) -> None:
    """A run with several candidates: each candidate's hypothesis gets that candidate's outcome, its own trials
    and dollars (the shared control's are not divided among them), and its own time to decision."""
    summary = _summary(paths, notes)
    decision = _read(paths.decision) or {}
    started = _time(manifest.get("created_at"))
    outcomes = {c["arm"]: c for c in summary.get("candidates") or []} if summary is not None else {}
    decisions = decision.get("candidates") if isinstance(decision.get("candidates"), dict) else {}
    for arm, hypothesis in hypotheses.items():
        if not isinstance(hypothesis, dict) or not isinstance(hypothesis.get("id"), str):
            continue
        row = rows.setdefault(hypothesis["id"], HypothesisRow(id=hypothesis["id"]))
        row.description = hypothesis.get("description")
        row.source = hypothesis.get("source")
        row.metric = "success"
        row.runs += 1
        row.run_ids.append(paths.run_id)
        if summary is None:
            row.status, row.verdict = _no_summary_status(paths), None
            continue
        outcome = outcomes.get(arm)
        arm_figures = summary["arms"].get(arm)
        row.sessions += outcome["trials_started"] if outcome is not None else 0
        if arm_figures is not None and arm_figures["spent_usd"] is not None:
            row.usd = (row.usd or 0.0) + float(arm_figures["spent_usd"])
        row.usd_unpriced += arm_figures["trials_unpriced"] if arm_figures is not None else 0
        row.verdict = outcome["verdict"] if outcome is not None else None
        row.status = hypothesis_status(row.verdict)
        row.effect = _effect(None, outcome["effect"]) if outcome is not None else None
        ended = _time(summary.get("finished_at"))
        if started is not None and ended is not None:
            intervals.append((started, ended))
        own = decisions.get(arm) if isinstance(decisions, dict) else None
        _note_decision(row, started, _time(own.get("at")) if isinstance(own, dict) else None, decided)


def _note_decision(
    row: HypothesisRow, started: datetime | None, decided_at: datetime | None, decided: dict[str, datetime]
) -> None:
    """The time to decision of the row's latest run (none unless it accepted or rejected the hypothesis)."""
    if row.status in ("accepted", "rejected") and decided_at is not None and started is not None:
        row.time_to_decision_s = (decided_at - started).total_seconds()
        row.decided_at = decided_at.isoformat()
        decided[row.id] = decided_at
    else:
        row.time_to_decision_s = row.decided_at = None
        decided.pop(row.id, None)


def hypothesis_registry(
    agent_dir: Path, config_dirs: list[Path], notes: list[str] | None = None
) -> tuple[list[HypothesisRow], dict[str, Any]]:
    """The rows (by id) and the velocity figures; ``config_dirs`` are searched for hypotheses not run yet.

    ``notes`` receives one sentence per summary that cannot be read as documented (its figures are unknown).
    """
    notes = [] if notes is None else notes
    from pytest_agentopt.configs.hypothesis import SUFFIX, read_hypothesis

    rows: dict[str, HypothesisRow] = {}
    intervals: list[tuple[datetime, datetime]] = []
    decided: dict[str, datetime] = {}
    for paths in iter_runs(agent_dir):
        try:
            manifest = read_manifest(paths)
        except LedgerError:
            continue
        run: dict[str, Any] = manifest["run"] if isinstance(manifest.get("run"), dict) else {}
        if isinstance(run.get("candidate_hypotheses"), dict):
            _add_candidate_runs(rows, intervals, decided, paths, manifest, run["candidate_hypotheses"], notes)
            continue
        hypothesis = run.get("hypothesis")
        if not isinstance(hypothesis, dict) or not isinstance(hypothesis.get("id"), str):
            continue
        row = rows.setdefault(hypothesis["id"], HypothesisRow(id=hypothesis["id"]))
        row.description = hypothesis.get("description")
        row.source = hypothesis.get("source")
        metric = run.get("metric")
        row.metric = metric.get("name") if isinstance(metric, dict) else "success"
        row.runs += 1
        row.run_ids.append(paths.run_id)
        summary = _summary(paths, notes)
        decision = _read(paths.decision)
        started = _time(manifest.get("created_at"))
        if summary is None:
            row.status, row.verdict = _no_summary_status(paths), None
            continue
        spend = summary["spend"]
        row.sessions += summary["trials_started"]
        if spend["usd"] is not None:
            row.usd = (row.usd or 0.0) + float(spend["usd"])
        row.usd_unpriced += spend["unpriced"]
        row.verdict = summary["verdict"]
        row.status = hypothesis_status(row.verdict)
        row.effect = _effect(summary["metric"], summary["effect"])
        ended = _time(summary.get("finished_at")) or (_time(decision.get("at")) if decision is not None else None)
        if started is not None and ended is not None:
            intervals.append((started, ended))
        _note_decision(row, started, _time(decision.get("at")) if decision is not None else None, decided)
    for folder in config_dirs:
        for path in sorted(folder.rglob(f"*{SUFFIX}")) if folder.is_dir() else ():
            try:
                hypothesis_file = read_hypothesis(path)
            except ConfigError:
                continue
            if hypothesis_file.id not in rows:
                rows[hypothesis_file.id] = HypothesisRow(
                    id=hypothesis_file.id,
                    description=hypothesis_file.description,
                    metric=hypothesis_file.metric_name,
                    source=str(path),
                )
    return sorted(rows.values(), key=lambda row: row.id), _velocity(decided, intervals)


def _velocity(decided: dict[str, datetime], intervals: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    per_week: dict[str, int] = {}
    for moment in decided.values():
        year, week, _ = moment.isocalendar()
        key = f"{year}-W{week:02d}"
        per_week[key] = per_week.get(key, 0) + 1
    share = None
    if intervals:
        ordered = sorted(intervals)
        span = (max(end for _, end in ordered) - ordered[0][0]).total_seconds()
        busy = 0.0
        current_start, current_end = ordered[0]
        for start, end in ordered[1:]:
            if start > current_end:
                busy += (current_end - current_start).total_seconds()
                current_start, current_end = start, end
            else:
                current_end = max(current_end, end)
        busy += (current_end - current_start).total_seconds()
        share = busy / span if span > 0 else None
    return {"decided_per_week": dict(sorted(per_week.items())), "waiting_share": share}
