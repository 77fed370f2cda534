"""One CSV row per candidate of a run with several candidates: its verdict and test against the shared control.

Written beside the trials CSV (``--agent-csv PATH`` and ``agentopt report RUN --csv PATH`` also write
``PATH``'s stem + ``.candidates.csv``) so that a spreadsheet gets the per-candidate verdicts without recomputing
them from the trials. The cells follow the trials CSV's rules (``render.csv.cell``: empty = null, formula
triggers neutralised); the columns are the summary's ``candidates`` fields (``docs/summary.md``) with ``llr``,
``bounds`` and ``effect`` flattened.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_agentopt.report.render.csv import cell

CANDIDATE_COLUMNS = (
    "experiment_id",
    "arm",
    "config_hash",
    "alpha",
    "verdict",
    "decided_by",
    "decided_at_cap",
    "pairs_used",
    "trials_started",
    "trials_skipped",
    "trials_after_decision",
    "llr_better",
    "llr_worse",
    "bound_lower",
    "bound_upper",
    "effect_estimate",
    "effect_lower",
    "effect_upper",
    "verdict_reason",
)


def candidates_csv_path(trials_csv: Path) -> Path:
    """``results.csv`` -> ``results.candidates.csv`` (beside it)."""
    return trials_csv.with_name(f"{trials_csv.stem}.candidates.csv")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def candidate_row(candidate: Mapping[str, Any]) -> list[str]:
    llr, effect = _mapping(candidate.get("llr")), _mapping(candidate.get("effect"))
    bounds = candidate.get("bounds")
    lower, upper = bounds if isinstance(bounds, list | tuple) and len(bounds) == 2 else (None, None)
    flat = {
        **candidate,
        "llr_better": llr.get("better"),
        "llr_worse": llr.get("worse"),
        "bound_lower": lower,
        "bound_upper": upper,
        "effect_estimate": effect.get("estimate"),
        "effect_lower": effect.get("lower"),
        "effect_upper": effect.get("upper"),
    }
    return [cell(flat.get(column)) for column in CANDIDATE_COLUMNS]


def write_candidates_csv(candidates: Sequence[Mapping[str, Any]], path: Path) -> int:
    """Write one row per candidate (UTF-8, CRLF line ends, header first); returns the rows."""
    rows = [candidate for candidate in candidates if isinstance(candidate, Mapping)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(CANDIDATE_COLUMNS)
        for candidate in rows:
            writer.writerow(candidate_row(candidate))
    return len(rows)
