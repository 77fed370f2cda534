"""An e-process for one direction of a paired comparison: evidence against "not better" (or "not worse") that
stays valid at any stopping time, for e-BH over several candidates (``stats.ebh``).

The model. Pairs ``i = 1, 2, ...`` in planned order; pair ``i`` is the control's and the candidate's outcome on
one task and trial index, ``D_i = success_candidate - success_control``; different pairs are independent given the
planned order (the two arms of one pair need not be). The null of the ``better`` direction is "not better":
``E[D_i | F_{i-1}] <= 0`` for every pair, ``F_{i-1}`` being everything recorded before pair ``i`` (every arm's);
that is ``p_test <= p_control`` on each pair's task, or only on average when the tasks are drawn at random.

The process. Before pair ``i`` a bet ``theta_i`` in ``[1/2, THETA_MAX]`` is fixed from the pairs before it only;
a win (only the candidate solved it) multiplies the process by ``2 theta_i``, a loss by ``2 (1 - theta_i)``, a
tie by 1. Its conditional expectation is ``P(tie) + 2 theta_i P(W) + 2 (1 - theta_i) P(L) = 1 + (2 theta_i - 1)
E[D_i | F_{i-1}] <= 1``: a non-negative supermartingale starting at 1 (a martingale when ``E[D_i | F_{i-1}] =
0``). By optional stopping, its value at *any* bounded stopping time of ``F`` - a boundary crossing, an
acceptance, the cap, or a rule that also reads the other candidates' pairs - has expectation at most 1: an
e-value. The generalised likelihood ratio of the GSPRT is not one (its alternative is fitted to the very pairs it
scores).

The bet targets the design's effect ``delta``: with discordance ``d``, a difference of ``delta`` in success rate
is ``q = 1/2 + delta / (2 d)``. ``d`` is estimated from the earlier pairs only (``(discordant + 1) / (pairs +
2)``), which is what keeps the plug-in predictable (the GSPRT estimates it from all pairs, the current one
included). The ``worse`` direction is the mirror image (wins and losses swapped).
"""

from __future__ import annotations

import math
from typing import Literal

EDirection = Literal["better", "worse"]

THETA_MAX = 0.9
"""The largest bet: a discordant pair against the bet then multiplies the process by 0.2, never by 0, so one
unlucky pair never ends the evidence for good."""


def bet(discordant: int, pairs: int, delta: float) -> float:
    """The bet on the next discordant pair favouring the direction, from the pairs before it (see the module doc)."""
    discordance = (discordant + 1) / (pairs + 2)
    return min(THETA_MAX, 0.5 + delta / (2.0 * max(discordance, delta)))


class DiscordantEProcess:
    """The e-process of one direction (see the module doc); ``add`` one pair at a time, in planned order."""

    def __init__(self, direction: EDirection, delta: float) -> None:
        if direction not in ("better", "worse"):
            raise ValueError(f"direction must be 'better' or 'worse', got {direction!r}")
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta!r}")
        self.direction: EDirection = direction
        self.delta = delta
        self.log_value = 0.0
        self.pairs = 0
        self.discordant = 0

    def add(self, difference: int) -> None:
        """One pair: ``difference`` is the candidate's success minus the control's (-1, 0 or +1)."""
        if difference:
            theta = bet(self.discordant, self.pairs, self.delta)
            favours = (difference > 0) == (self.direction == "better")
            self.log_value += math.log(2.0 * theta) if favours else math.log(2.0 * (1.0 - theta))
            self.discordant += 1
        self.pairs += 1

    @property
    def value(self) -> float:
        return math.exp(self.log_value)
