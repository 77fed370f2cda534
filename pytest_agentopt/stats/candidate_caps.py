"""The default cap of a run with several candidates: a table computed once by the exact DP.

With K >= 2 candidates each paired test runs at alpha/K with Wald's constant bounds and no last look, so the
calibrated ``required_pairs`` of a single candidate does not apply. ``scripts/candidate_caps.py`` runs the exact
DP of those bounds (``stats.gsprt_dp``) over the discordances 0.05, 0.10, ..., 1.0 for the default alpha, beta
and effect and K = 2 .. 8, and records the least cap from which the worst-case miss (no claim of a true difference of
``delta``) is within ``SLACK`` of the untruncated test's, with the worst-case alpha and miss at that cap. This
module reads that table (standard library only: the controller reads it at start-up).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pytest_agentopt.stats.wald import Direction

__all__ = ["CANDIDATE_CAPS_TABLE", "DEFAULT_SETTINGS", "SLACK", "CandidateCap", "candidate_cap"]

CANDIDATE_CAPS_TABLE = "candidate_caps.json"
DEFAULT_SETTINGS = (0.05, 0.10, 0.15)
"""(alpha, beta, delta) the table is computed for: the plugin's defaults."""
SLACK = 0.005
"""How far above the untruncated test's worst-case miss the miss at the derived cap may be."""
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class CandidateCap:
    """The derived cap of one candidate's test (Wald's bounds at alpha/K) and its exact worst-case figures."""

    candidates: int
    alpha_per_candidate: float
    pairs: int
    """The cap in pairs (tasks x trials per task)."""
    alpha_at_cap: float
    """Worst case over the discordance of P(false claim) per direction at the cap."""
    miss_at_cap: float
    """Worst case of P(no claim of a true difference of delta) at the cap: the power there is ``1 - miss``."""
    alpha_no_cap: float
    miss_no_cap: float


def candidate_cap(
    candidates: int, alpha: float, beta: float, delta: float, direction: Direction
) -> CandidateCap | None:
    """The table's cap for K candidates at these family-wise settings, or ``None`` when it holds none."""
    table = _table()
    given = {"alpha": alpha, "beta": beta, "delta": delta}
    if not all(math.isclose(table[name], value, abs_tol=_TOLERANCE) for name, value in given.items()):
        return None
    family = "both" if direction == "both" else "one-sided"
    for entry in table["entries"]:
        if entry["candidates"] == candidates and entry["family"] == family:
            return CandidateCap(
                candidates=candidates,
                alpha_per_candidate=float(entry["alpha_per_candidate"]),
                pairs=int(entry["cap_pairs"]),
                alpha_at_cap=float(entry["alpha_at_cap"]),
                miss_at_cap=float(entry["miss_at_cap"]),
                alpha_no_cap=float(entry["alpha_no_cap"]),
                miss_no_cap=float(entry["miss_no_cap"]),
            )
    return None


@functools.cache
def _table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(CANDIDATE_CAPS_TABLE).read_text(encoding="utf-8")
    table: dict[str, Any] = json.loads(text)
    return table
