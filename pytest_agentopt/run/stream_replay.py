"""Replaying an ordered stream of paired outcomes recorded elsewhere through the plugin's sequential test.

The stream is a CSV file (a header row) or JSON Lines, one trial per row, with the fields ``task`` (or
``task_id``), ``trial``, ``arm`` (``control`` or ``test``), ``outcome`` and optionally ``cost`` (or
``cost_usd``) and ``seq``. A ledger (``trials.jsonl``) and the CSV export of a run (``--agent-csv``,
``agentopt report RUN --csv``) are such streams.

The order is the row order, or the ``seq`` column when every row has one (an export of a run: its planned
order). Rows are fed to the same :class:`~pytest_agentopt.run.feeding.SequentialFeeder` and
:class:`~pytest_agentopt.stats.sprt.PairedSequentialTest` as a live run, with the same calibrated design: a pair
enters the test when its second half arrives, pairs with an outcome kept out of the statistics (``infra_error``,
``worker_crash``, ``skipped``) are left out, the first boundary crossing is final, and, unless ``open_ended``,
the end of the stream is the run's cap (the design's last look is taken there). So a run's own ledger replays to
the run's own verdict after the same number of pairs.

Outcomes: the plugin's (``success``, ``failure``, ``error``, ``timeout``, and the three left out), or a
boolean (``true``/``false``, ``1``/``0``, ``pass``/``fail``) for logs that only record solved or not.

Several candidates: a stream whose rows carry more than one candidate arm (``test``, ``test2``, ``test3``..., the
arms of a run with several ``--agent-config``) is replayed as that run decided it (:func:`replay_candidates`):
one paired test per candidate against the shared control, each at alpha / K for the K candidate arms of the
stream (``run.candidates.candidate_feeders``, the controller's own tests), fed in the same order; a candidate's
rows after its decision never enter its test, and the end of the stream is the cap of those still undecided.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.run.trial_order import is_candidate_arm
from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

__all__ = [
    "CandidatesReplayResult",
    "ReplayInputError",
    "ReplayResult",
    "StreamRow",
    "candidate_arms_of",
    "read_stream",
    "replay_candidates",
    "replay_stream",
]

UNSCORED_OUTCOMES = frozenset({"infra_error", "worker_crash", "skipped"})
BOOLEAN_OUTCOMES = {
    "true": "success",
    "1": "success",
    "pass": "success",
    "false": "failure",
    "0": "failure",
    "fail": "failure",
}
FIELD_ALIASES = {"task": ("task", "task_id"), "cost": ("cost", "cost_usd")}
ARMS = ("control", "test")


class ReplayInputError(ValueError):
    """A row the replay cannot read; the message names the file, the line and the field."""


@dataclass(frozen=True)
class StreamRow:
    line: int
    task: str
    trial: int
    arm: str
    outcome: str
    cost: float | None
    seq: int | None


@dataclass(frozen=True)
class ReplayResult:
    verdict: str
    """The sequential test's verdict, or ``inconclusive``."""
    pairs_used: int
    """Pairs that entered the test up to the decision (all of them when it did not decide)."""
    decided_at_cap: bool
    rows_used: int
    """Trials (rows) up to and including the one that completed the deciding pair."""
    rows: int
    pairs: int
    """Scored pairs in the whole stream."""
    cost_used: float | None
    """Dollars of the rows up to the decision (``None``: the stream has no cost for some of them)."""
    cost_total: float | None
    llr: dict[str, float | None]
    bounds: tuple[float, float]
    unpaired: int
    """Rows whose other half never came (left out, as in a run)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "pairs_used": self.pairs_used,
            "decided_at_cap": self.decided_at_cap,
            "rows_used": self.rows_used,
            "rows": self.rows,
            "pairs": self.pairs,
            "cost_used_usd": self.cost_used,
            "cost_total_usd": self.cost_total,
            "llr": self.llr,
            "bounds": list(self.bounds),
            "unpaired_rows": self.unpaired,
        }


def read_stream(path: Path) -> list[StreamRow]:
    """The rows of a CSV or JSON Lines file (by content: a first non-blank character ``{`` is JSON Lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReplayInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise ReplayInputError(f"{path}: empty; expected a CSV header (task,trial,arm,outcome[,cost]) or JSON Lines")
    raw = _json_lines(path, text) if text.lstrip().startswith("{") else _csv_rows(path, text)
    rows = [_row(path, line, values) for line, values in raw]
    if not rows:
        raise ReplayInputError(f"{path}: no rows after the header")
    _check_duplicates(path, rows)
    if all(row.seq is not None for row in rows):
        rows.sort(key=lambda row: (row.seq, row.line))
    return rows


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReplayInputError(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise ReplayInputError(f"{path} line {number}: expected a JSON object per line")
        yield number, value


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or ()]
    for aliases in (FIELD_ALIASES["task"], ("trial",), ("arm",)):
        if not any(alias in header for alias in aliases):
            raise ReplayInputError(
                f"{path} line 1: no column {' or '.join(repr(a) for a in aliases)} in the header "
                f"({', '.join(header)}); a CSV needs task, trial, arm, outcome and optionally cost, seq"
            )
    if "outcome" not in header:
        raise ReplayInputError(f"{path} line 1: no column 'outcome' in the header ({', '.join(header)})")
    for values in reader:
        cleaned = {(key or "").strip(): value for key, value in values.items()}
        yield reader.line_num, {key: (None if value in ("", None) else value) for key, value in cleaned.items()}


def _field(values: Mapping[str, Any], name: str) -> Any:
    for alias in FIELD_ALIASES.get(name, (name,)):
        if values.get(alias) is not None:
            return values[alias]
    return None


def _row(path: Path, line: int, values: Mapping[str, Any]) -> StreamRow:
    where = f"{path} line {line}"

    def required(name: str) -> Any:
        value = _field(values, name)
        if value is None:
            raise ReplayInputError(f"{where}: field '{name}' is missing")
        return value

    task = str(required("task"))
    trial = _integer(where, "trial", required("trial"))
    arm = str(required("arm")).strip().lower()
    if arm != "control" and not is_candidate_arm(arm):
        raise ReplayInputError(
            f"{where}: field 'arm' is {arm!r}; expected control, test, or a candidate arm of a run with several "
            "(test2, test3...)"
        )
    outcome = _outcome(where, required("outcome"))
    cost_value = _field(values, "cost")
    cost = None if cost_value is None else _cost(where, cost_value)
    seq_value = values.get("seq")
    seq = None if seq_value is None else _integer(where, "seq", seq_value)
    return StreamRow(line=line, task=task, trial=trial, arm=arm, outcome=outcome, cost=cost, seq=seq)


def _integer(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ReplayInputError(f"{where}: field '{name}' is {value!r}; expected a whole number >= 0")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ReplayInputError(f"{where}: field '{name}' is {value!r}; expected a whole number >= 0") from None
    if number < 0 or (isinstance(value, float) and value != number):
        raise ReplayInputError(f"{where}: field '{name}' is {value!r}; expected a whole number >= 0")
    return number


def _outcome(where: str, value: Any) -> str:
    text = str(value).strip().lower()
    if isinstance(value, bool):
        text = "true" if value else "false"
    if text in SCORED_OUTCOMES or text in UNSCORED_OUTCOMES:
        return text
    if text in BOOLEAN_OUTCOMES:
        return BOOLEAN_OUTCOMES[text]
    known = ", ".join(sorted(SCORED_OUTCOMES | UNSCORED_OUTCOMES))
    raise ReplayInputError(f"{where}: field 'outcome' is {value!r}; expected one of {known}, or true/false, 1/0")


def _cost(where: str, value: Any) -> float:
    try:
        cost = float(value)
    except (TypeError, ValueError):
        raise ReplayInputError(f"{where}: field 'cost' is {value!r}; expected dollars (a number >= 0)") from None
    if isinstance(value, bool) or not math.isfinite(cost) or cost < 0:
        raise ReplayInputError(f"{where}: field 'cost' is {value!r}; expected dollars (a number >= 0)")
    return cost


def _check_duplicates(path: Path, rows: list[StreamRow]) -> None:
    seen: dict[tuple[str, int, str], int] = {}
    for row in rows:
        key = (row.task, row.trial, row.arm)
        if key in seen:
            raise ReplayInputError(
                f"{path} line {row.line}: task {row.task!r} trial {row.trial} arm {row.arm} already on line "
                f"{seen[key]}; each trial of each arm may appear once"
            )
        seen[key] = row.line


def replay_stream(
    rows: list[StreamRow], settings: SequentialSettings, direction: str, design: PairedDesign, *, open_ended: bool
) -> ReplayResult:
    """Feed the rows in order through the live test; ``open_ended``: the stream is not the whole run (no last
    look at its end)."""
    test = PairedSequentialTest(settings, direction, design)  # type: ignore[arg-type]
    feeder = SequentialFeeder(paired_test=test)
    for index, row in enumerate(rows):
        feeder.add(index, task_id=row.task, arm=row.arm, trial=row.trial, outcome=row.outcome)
    if not open_ended:
        feeder.plan_size = len(rows)
        feeder.conclude_if_complete()
    decision = feeder.decision
    rows_used = decision.seq + 1 if decision is not None else len(rows)
    costs = [row.cost for row in rows]
    pairs = _scored_pairs(rows)
    return ReplayResult(
        verdict=decision.verdict if decision is not None else "inconclusive",
        pairs_used=decision.units if decision is not None else feeder.units,
        decided_at_cap=decision.at_cap if decision is not None else False,
        rows_used=rows_used,
        rows=len(rows),
        pairs=pairs,
        cost_used=_total(costs[:rows_used]),
        cost_total=_total(costs),
        llr=dict(test.llr),
        bounds=test.bounds,
        unpaired=_unpaired(rows),
    )


def _total(costs: list[float | None]) -> float | None:
    if any(cost is None for cost in costs):
        return None
    return math.fsum(cost for cost in costs if cost is not None)


def _scored_pairs(rows: list[StreamRow]) -> int:
    outcomes: dict[tuple[str, int], dict[str, str]] = {}
    for row in rows:
        outcomes.setdefault((row.task, row.trial), {})[row.arm] = row.outcome
    return sum(1 for pair in outcomes.values() if len(pair) == 2 and all(o in SCORED_OUTCOMES for o in pair.values()))


def _unpaired(rows: list[StreamRow]) -> int:
    halves: dict[tuple[str, int], int] = {}
    for row in rows:
        halves[(row.task, row.trial)] = halves.get((row.task, row.trial), 0) + 1
    return sum(1 for count in halves.values() if count == 1)


def candidate_arms_of(rows: list[StreamRow]) -> list[str]:
    """The candidate arms of the stream in the run's order (``test``, ``test2``, ``test3``...)."""
    arms = {row.arm for row in rows if row.arm != "control"}
    return sorted(arms, key=lambda arm: int(arm.removeprefix("test") or "1"))


@dataclass(frozen=True)
class CandidatesReplayResult:
    """A stream with several candidate arms, replayed as the run with those candidates decides."""

    alpha_per_candidate: float
    candidates: dict[str, ReplayResult]
    """One result per candidate arm; ``pairs``, ``unpaired`` and the costs count its own rows and the control's."""
    rows: int
    rows_used: int
    """Rows up to and including the last candidate's decision (all of them when one stayed undecided)."""
    cost_used: float | None
    cost_total: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "rows_used": self.rows_used,
            "cost_used_usd": self.cost_used,
            "cost_total_usd": self.cost_total,
            "alpha_per_candidate": self.alpha_per_candidate,
            "candidates": {arm: result.as_dict() for arm, result in self.candidates.items()},
        }


def replay_candidates(
    rows: list[StreamRow], settings: SequentialSettings, direction: str, *, open_ended: bool
) -> CandidatesReplayResult:
    """Each candidate's paired test at alpha / K, as the controller runs them (see the module docstring)."""
    from pytest_agentopt.run.candidates import candidate_alpha, candidate_feeders

    arms = candidate_arms_of(rows)
    feeders = candidate_feeders(
        arms,
        alpha=settings.alpha,
        beta=settings.beta,
        effect=settings.delta,
        direction=direction,  # type: ignore[arg-type]
    )
    for index, row in enumerate(rows):
        feeders.add(index, task_id=row.task, arm=row.arm, trial=row.trial, outcome=row.outcome)
    if not open_ended:
        feeders.set_plan_size(len(rows))
        feeders.conclude_if_complete()
    results: dict[str, ReplayResult] = {}
    for arm in arms:
        feeder = feeders.feeders[arm]
        test = feeder.paired_test
        assert isinstance(test, PairedSequentialTest)
        decision = feeder.decision
        own = [row for row in rows if row.arm in ("control", arm)]
        rows_used = decision.seq + 1 if decision is not None else len(rows)
        own_used = [row for row in rows[:rows_used] if row.arm in ("control", arm)]
        results[arm] = ReplayResult(
            verdict=decision.verdict if decision is not None else "inconclusive",
            pairs_used=decision.units if decision is not None else feeder.units,
            decided_at_cap=decision.at_cap if decision is not None else False,
            rows_used=rows_used,
            rows=len(own),
            pairs=_scored_pairs(own),
            cost_used=_total([row.cost for row in own_used]),
            cost_total=_total([row.cost for row in own]),
            llr=dict(test.llr),
            bounds=test.bounds,
            unpaired=_unpaired(own),
        )
    decisions = [feeder.decision for feeder in feeders.feeders.values()]
    last = max(d.seq for d in decisions if d is not None) + 1 if all(d is not None for d in decisions) else len(rows)
    costs = [row.cost for row in rows]
    return CandidatesReplayResult(
        alpha_per_candidate=candidate_alpha(settings.alpha, len(arms)),
        candidates=results,
        rows=len(rows),
        rows_used=last,
        cost_used=_total(costs[:last]),
        cost_total=_total(costs),
    )
