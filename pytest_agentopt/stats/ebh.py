"""The e-BH procedure (Wang and Ramdas 2022, "False discovery rate control with e-values", JRSS B 84(3)).

Given ``K`` e-values (each with expectation at most 1 under its own null), e-BH at level ``alpha`` rejects the
``k*`` hypotheses with the largest e-values, ``k* = max{k : e_(k) >= K / (alpha k)}`` (``e_(1) >= e_(2) >= ...``;
none when no ``k`` qualifies). Its false discovery rate is at most ``alpha * K0 / K <= alpha`` under *arbitrary*
dependence between the e-values (``K0`` true nulls), which is why it fits candidates that share one control.
Proof (theirs, in one line): with ``R`` rejections, a true null ``j`` is rejected only if ``e_j >= K / (alpha R)``,
so ``1{j rejected} / max(R, 1) <= alpha e_j / K``; summing over the true nulls and taking expectations gives
``FDR <= alpha K0 / K``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class EbhRejections:
    rejected: frozenset[int]
    """The indices (into the e-values given) of the rejected hypotheses."""
    threshold: float
    """The e-value every rejected hypothesis reached, ``K / (alpha k*)``; ``inf`` when nothing is rejected."""


def e_bh(e_values: Sequence[float], alpha: float) -> EbhRejections:
    """The hypotheses e-BH rejects at level ``alpha`` (see the module doc)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if any(not e >= 0.0 for e in e_values):
        raise ValueError(f"e-values must be non-negative, got {list(e_values)!r}")
    count = len(e_values)
    order = sorted(range(count), key=lambda index: e_values[index], reverse=True)
    rejecting = max((k for k in range(1, count + 1) if e_values[order[k - 1]] >= count / (alpha * k)), default=0)
    if rejecting == 0:
        return EbhRejections(frozenset(), math.inf)
    return EbhRejections(frozenset(order[:rejecting]), count / (alpha * rejecting))
