"""A live view of a running experiment, from its run directory alone (``agentopt watch``; no pytest).

The view reads what the controller writes while it runs: the manifest (configs and settings), ``plan.json`` (what
was collected), the ledger (one line per finished trial), ``decision.json`` (the sequential verdict) and, at the
end, ``summary.json``. The ledger is read incrementally: :class:`LedgerTail` keeps the byte offset of the last
whole line between refreshes and reads only what was appended since, so a refresh costs what was appended, not
the ledger's length; a last line without its newline (being written, or torn by a crash) is left for the next
refresh. Only running totals are kept (counts, spend, the sequential test's state), never the records.

The sequential test is rebuilt exactly as the controller runs it: the same design, fed the ledger's records in
planned order (``SequentialFeeder``), so the LLR and its bounds are the controller's. A run with several
candidates rebuilds one test per candidate (``run.candidates.candidate_feeders``, at alpha / K) and shows each.

The forecast of the further sessions and time to a decision is ``report.watch_forecast``'s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.report.watch_forecast import (
    Forecaster,
    Pace,
    candidate_forecast_lines,
    computing_lines,
    forecast_lines,
)
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.storage.ledger import RunPaths, read_json
from pytest_agentopt.storage.summary_schema import StoredSummary, read_summary
from pytest_agentopt.storage.trial_record import normalise_record

if TYPE_CHECKING:
    from pytest_agentopt.run.candidates import CandidateFeeders

PLAN_FILE = "plan.json"
SESSION_FILE = "session.json"
READ_BLOCK = 8 << 20


@dataclass
class LedgerTail:
    """Reads the records appended to a ledger since the last call."""

    path: Path
    offset: int = 0
    pending: int = 0
    """Bytes after the last newline: a line still being written (or torn), read once its newline arrives."""
    skipped: int = 0
    """Whole lines that were no trial record."""

    def read_new(self) -> Iterator[dict[str, Any]]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            handle.seek(self.offset)
            carry = b""
            while True:
                block = handle.read(READ_BLOCK)
                if not block:
                    break
                data = carry + block
                end = data.rfind(b"\n")
                if end < 0:
                    carry = data
                    continue
                carry = data[end + 1 :]
                self.offset += end + 1
                for line in data[: end + 1].splitlines():
                    if not line.strip():
                        continue
                    try:
                        record = normalise_record(json.loads(line))
                    except ValueError:
                        record = None
                    if record is None:
                        self.skipped += 1
                        continue
                    yield record  # type: ignore[misc]
            self.pending = len(carry)


@dataclass
class ArmTotals:
    trials: int = 0
    """Trials that ran and were recorded (every outcome)."""
    scored: int = 0
    successes: int = 0
    spent_usd: float = 0.0
    unpriced: int = 0


@dataclass
class WatchState:
    """The running totals of one run, updated from the ledger by :meth:`refresh`."""

    paths: RunPaths
    manifest: dict[str, Any]
    tail: LedgerTail
    feeder: SequentialFeeder | None
    candidates: CandidateFeeders | None = None
    """With several candidates: one sequential test per candidate (``feeder`` is then ``None``)."""
    arms: dict[str, ArmTotals] = field(default_factory=dict)
    other_runs: int = 0
    repeated: int = 0
    pace: Pace = field(default_factory=Pace)
    forecaster: Forecaster = field(default_factory=Forecaster)
    _seen: dict[str, set[int]] = field(default_factory=dict)
    _skips_filled: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, paths: RunPaths) -> WatchState:
        from pytest_agentopt.storage.ledger import read_manifest

        manifest = read_manifest(paths)
        run = manifest.get("run") or {}
        arms = list(run.get("arms", ["control", "test"]))
        several = len(arms) > 2 and "control" in arms
        return cls(
            paths=paths,
            manifest=manifest,
            tail=LedgerTail(paths.trials),
            feeder=None if several else _feeder(run),
            candidates=_candidate_feeders(run, arms[1:]) if several else None,
            arms={arm: ArmTotals() for arm in arms},
        )

    def refresh(self) -> None:
        """Take in what was appended to the ledger since the last refresh (the records that count only)."""
        run_id = self.manifest.get("run_id")
        arms = list(self.arms)
        for record in self.tail.read_new():
            if record["run_id"] != run_id or record["arm"] not in arms:
                self.other_runs += 1
                continue
            trials = self._seen.setdefault(record["task_id"], set())
            key = record["trial"] * len(arms) + arms.index(record["arm"])
            if key in trials:
                self.repeated += 1  # the first record of a trial counts (ledger_rule)
                continue
            trials.add(key)
            self.pace.add(record["finished_at"])
            totals = self.arms.setdefault(record["arm"], ArmTotals())
            totals.trials += 1
            if record["outcome"] in SCORED_OUTCOMES:
                totals.scored += 1
                totals.successes += record["outcome"] == "success"
            if record["cost_usd"] is None:
                totals.unpriced += 1
            else:
                totals.spent_usd += float(record["cost_usd"])
            feeder = self.feeder if self.feeder is not None else self.candidates
            if feeder is not None:
                feeder.add(
                    record["seq"],
                    task_id=record["task_id"],
                    arm=record["arm"],
                    trial=record["trial"],
                    outcome=record["outcome"],
                )

        self._fill_skipped_items()

    def _fill_skipped_items(self) -> None:
        """With several candidates: a decided candidate's later items are skipped and never reach the ledger.

        Every feeder commits in planned order, so such a gap would hold every other candidate's test back. The
        plan places the arms of a pair side by side in a fixed order (``run.trial_order``), so item ``seq``
        belongs to ``arms[seq % len(arms)]``: once a candidate has decided, each of its later items is fed as
        skipped, which is what the controller feeds (a trial of it that ran after its decision enters no test).
        """
        plan = _read_optional(self.paths.directory / PLAN_FILE)
        planned = (plan or {}).get("items")
        if self.candidates is None or not isinstance(planned, int):
            return
        arms = list(self.arms)
        filled_one = True
        while filled_one:
            filled_one = False
            for arm, feeder in self.candidates.feeders.items():
                if feeder.decision is None or arm in self._skips_filled:
                    continue
                self._skips_filled.add(arm)
                filled_one = True
                start = feeder.decision.seq + 1
                first = start + (arms.index(arm) - start) % len(arms)
                for seq in range(first, planned, len(arms)):
                    self.candidates.add(seq, task_id="", arm=arm, trial=-1, outcome="skipped")

    @property
    def done(self) -> int:
        return sum(totals.trials for totals in self.arms.values())

    def finished(self) -> bool:
        return self.paths.summary.is_file()

    def owned(self) -> bool:
        """Whether a session runs the run now (it writes ``session.json`` and deletes it when it ends)."""
        return (self.paths.directory / SESSION_FILE).is_file()


def _feeder(run: dict[str, Any]) -> SequentialFeeder | None:
    if not run.get("sprt"):
        return None
    from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest

    settings = SequentialSettings(alpha=run["alpha"], beta=run["beta"], delta=run["effect"])
    if run.get("arms") == ["control", "test"]:
        from pytest_agentopt.run.sequential_design import design_for

        direction = run.get("direction", "both")
        design = design_for(settings.alpha, settings.beta, settings.delta, direction)
        return SequentialFeeder(paired_test=PairedSequentialTest(settings, direction, design))
    return SequentialFeeder(target_test=TargetSequentialTest(run["target"], settings))


def _candidate_feeders(run: dict[str, Any], candidates: list[str]) -> CandidateFeeders | None:
    if not run.get("sprt"):
        return None
    from pytest_agentopt.run.candidates import candidate_feeders

    return candidate_feeders(
        candidates,
        alpha=run["alpha"],
        beta=run["beta"],
        effect=run["effect"],
        direction=run.get("direction", "both"),
        family_error=run.get("family_error", "fwer"),
    )


def newest_run(agent_dir: Path) -> RunPaths | None:
    """The run created last, by its manifest's ``created_at`` (milliseconds). Run ids sort by time only to the
    second: two runs started in the same second sort by experiment id and random suffix. A manifest that cannot be
    read sorts first (by its directory name among such runs)."""
    from pytest_agentopt.errors import AgentoptUsageError
    from pytest_agentopt.storage.ledger import iter_runs, read_manifest

    def created(paths: RunPaths) -> tuple[str, str]:
        try:
            stamp = read_manifest(paths).get("created_at")
        except (OSError, ValueError, AgentoptUsageError):
            stamp = None
        return (stamp if isinstance(stamp, str) else "", paths.directory.name)

    return max(iter_runs(agent_dir), key=created, default=None)


def _read_optional(path: Path) -> dict[str, Any] | None:
    """A JSON file of the run, or ``None`` while it is not written (being replaced atomically, it is never torn)."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, ValueError, LedgerError):
        return None


def render_frame(state: WatchState) -> list[str]:
    """One frame of the live view, as lines."""
    from pytest_agentopt.number_format import usd

    manifest = state.manifest
    run = manifest.get("run") or {}
    stored = read_summary(state.paths.summary) if state.paths.summary.is_file() else None  # checked once, here
    finished = stored is not None
    summary = stored.summary if stored is not None else None
    decision = _read_optional(state.paths.decision)
    plan = _read_optional(state.paths.directory / PLAN_FILE)
    status = "finished" if finished else "running" if state.owned() else "not running (no session owns it)"
    arms_text = {arm: (manifest.get("arms") or {}).get(arm, {}).get("experiment_id", "?") for arm in state.arms}
    question = " vs ".join(f"{arm} {name}" for arm, name in arms_text.items())
    test_name = (
        f"SPRT alpha {run.get('alpha')} beta {run.get('beta')} effect {run.get('effect')}"
        if run.get("sprt")
        else "fixed sample"
    )
    lines = [f"run {manifest.get('run_id')}: {question}; {test_name}; {status}"]
    planned = summary["trials_planned"] if summary is not None else None if finished else (plan or {}).get("items")
    if planned:
        lines.append(f"trials   {state.done:,} of {planned:,} planned done ({100 * state.done / planned:.1f}%)")
    else:
        why = "its summary cannot be read" if finished else "the run has not reported its collection yet"
        lines.append(f"trials   {state.done:,} done; planned: unknown ({why})")
    for arm, totals in state.arms.items():
        rate = f"{100 * totals.successes / totals.scored:.1f}%" if totals.scored else "-"
        if totals.trials == 0:
            spend = "est. spent $0"
        elif totals.unpriced == totals.trials:
            spend = "est. spent unknown (no trial has a known cost)"
        else:
            spend = f"est. spent {usd(totals.spent_usd)}"
            if totals.unpriced:
                spend += f" (a lower bound: {totals.unpriced} of {totals.trials} trials have no known cost)"
        lines.append(
            f"{arm:<8} {arms_text[arm]:<14} solved {totals.successes}/{totals.scored} ({rate}), "
            f"{totals.trials} trials ran; {spend}"
        )
    lines.extend(_sequential_lines(state, plan, finished))
    lines.append(_verdict_line(stored, decision, run))
    notes = []
    if state.tail.pending:
        notes.append(f"a last line of {state.tail.pending} bytes without its newline waits (being written, or torn)")
    if state.tail.skipped:
        notes.append(f"{state.tail.skipped} unreadable lines skipped")
    if state.other_runs or state.repeated:
        notes.append(f"not counted: {state.other_runs} records of other runs, {state.repeated} repeated records")
    lines.append(
        f"ledger   {state.paths.trials}: read to byte {state.tail.offset:,}" + "".join(f"; {n}" for n in notes)
    )
    return lines


def _sequential_lines(state: WatchState, plan: dict[str, Any] | None, finished: bool) -> list[str]:
    if state.candidates is not None:
        return _candidate_lines(state, plan, finished)
    feeder = state.feeder
    if feeder is None:
        return []
    unit = "pairs" if feeder.paired_test is not None else "scored trials"
    llr, (lower, upper) = feeder.llr_and_bounds(target_name="target")
    shown = ", ".join(f"{name} {value:+.2f}" for name, value in llr.items() if value is not None)
    lines = [f"sprt     {feeder.units} {unit} in the test; LLR {shown}; bounds [{lower:+.2f}, {upper:+.2f}]"]
    if feeder.decision is None and not finished:
        planned = (plan or {}).get("items")
        if not planned:
            reason = "the run has not reported its collection yet (the cap is not known)"
            return lines + forecast_lines(None, units_now=feeder.units, unit=unit, pace=state.pace, reason=reason)
        per_unit = 2 if feeder.paired_test is not None else 1
        remaining = max(0, math.ceil((planned - feeder.committed) / per_unit))
        lines.append(
            f"remains  at most {remaining:,} {unit} to the cap; the test stops as soon as an LLR reaches a bound"
        )
        forecast = state.forecaster.forecast(feeder, feeder.units + remaining)
        computing = state.forecaster.computing_for
        if forecast is None and computing is not None:
            return lines + computing_lines(computing)
        reason = (
            f"no {unit} in the test yet (agentopt plan gives the expected number from the start)"
            if feeder.units == 0
            else "the cap is reached"
        )
        lines.extend(forecast_lines(forecast, units_now=feeder.units, unit=unit, pace=state.pace, reason=reason))
    return lines


def _candidate_lines(state: WatchState, plan: dict[str, Any] | None, finished: bool) -> list[str]:
    """One line per candidate: its pairs, LLRs against its bounds (at alpha / K), and its decision once made."""
    assert state.candidates is not None
    from pytest_agentopt.run.candidates import candidate_alpha
    from pytest_agentopt.stats.evidence_paired import EvidencePairedTest

    names = state.manifest.get("arms") or {}
    alpha = candidate_alpha(float((state.manifest.get("run") or {})["alpha"]), len(state.candidates.feeders))
    lines = []
    for arm, feeder in state.candidates.feeders.items():
        test = feeder.paired_test
        assert test is not None
        shown = ", ".join(f"{name} {value:+.2f}" for name, value in test.llr.items() if value is not None)
        lower, upper = test.bounds
        decided = f"; decided {feeder.decision.verdict.upper()}" if feeder.decision is not None else ""
        name = names.get(arm, {}).get("experiment_id", "?")
        if isinstance(test, EvidencePairedTest):  # --agent-family-error fdr: claims by e-value, at K / alpha
            e_values = ", ".join(f"{key} {value:.4g}" for key, value in test.e_values.items() if value is not None)
            against = f"lower bound {lower:+.2f}; e-values {e_values} (claim at {test.claim_threshold:.4g})"
        else:
            against = f"bounds [{lower:+.2f}, {upper:+.2f}]"
        lines.append(
            f"sprt     {arm} {name} (alpha {alpha:.4g}): {feeder.units} pairs in the test; LLR {shown}; "
            f"{against}{decided}"
        )
    planned = (plan or {}).get("items")
    if not finished and planned and state.candidates.undecided:
        remaining = max(0, (planned - state.candidates.committed) // len(state.arms))
        lines.append(
            f"remains  at most {remaining:,} pairs per undecided candidate to the cap; each candidate's test stops as "
            "soon as one of its LLRs reaches a bound"
        )
        lines.extend(_candidate_forecast(state, remaining))
    return lines


def _candidate_forecast(state: WatchState, remaining: int) -> list[str]:
    """Each undecided candidate's forecast and the run's (``report.watch_forecast``), or why there is none."""
    assert state.candidates is not None
    if state.candidates.family_error == "fdr":
        return [
            "expect   not computed under --agent-family-error fdr: each candidate's test stops by its e-value, "
            "which the forecast's DP does not model"
        ]
    feeders = state.candidates.feeders
    forecast = state.forecaster.candidates(feeders, remaining)
    if forecast is None:
        computing = state.forecaster.computing_for
        if computing is not None:
            return computing_lines(computing)
        reason = (
            "a candidate has no pair in the test yet (agentopt plan gives the expected number from the start)"
            if any(feeder.units == 0 for feeder in feeders.values() if feeder.decision is None)
            else "the cap is reached"
        )
        return [f"expect   unknown: {reason}", "time     unknown: no forecast of the sessions"]
    arms = state.manifest.get("arms") or {}
    names = {arm: str(arms.get(arm, {}).get("experiment_id", "?")) for arm in feeders}
    decided = {arm: feeder.decision.verdict for arm, feeder in feeders.items() if feeder.decision is not None}
    units_now = max(feeder.units for feeder in feeders.values() if feeder.decision is None)
    return candidate_forecast_lines(forecast, names=names, decided=decided, units_now=units_now, pace=state.pace)


def _verdict_line(stored: StoredSummary | None, decision: dict[str, Any] | None, run: dict[str, Any]) -> str:
    if stored is not None and stored.summary is None:
        return f"verdict  unknown: {stored.problem}"
    if stored is not None and stored.summary is not None:
        verdict = stored.summary["verdict"]
        reason = stored.summary["verdict_reason"] or ""
        return f"verdict  {verdict.upper()}: {reason}" if verdict else f"verdict  none: {reason}"
    if decision is not None and "candidates" in decision:
        decided = decision["candidates"]
        listed = "; ".join(f"{c.get('experiment_id')}: {c.get('verdict')}" for c in decided.values())
        total = len(run.get("arms") or []) - 1
        return f"verdict  {len(decided)} of {total} candidates decided ({listed}); the run goes on while any is not"
    if decision is not None:
        unit = "pairs" if run.get("arms") == ["control", "test"] else "trials"
        return (
            f"verdict  {str(decision.get('verdict')).upper()} (sprt, after {decision.get('units')} {unit}); the run "
            "finishes the trials in flight"
        )
    if run.get("sprt"):
        return "verdict  not yet: the sequential test is running"
    return "verdict  at the end (fixed sample)"
