"""Pure statistics core: intervals, sequential tests, operating characteristics, planning, confidence
sequences.

Only the standard-library modules are re-exported here (``intervals`` and ``sprt``), so importing this package
never imports numpy or scipy. Import the rest from their modules:

- ``pytest_agentopt.stats.oc``: exact OC / ASN of the binomial SPRT by dynamic programming, Wald's
  approximations, tuned bounds;
- ``pytest_agentopt.stats.paired_oc``: exact OC / ASN of the paired test with Wald's bounds, one distribution;
- ``pytest_agentopt.stats.design`` (standard library): the paired test's calibrated boundaries and last look,
  read from the shipped table;
- ``pytest_agentopt.stats.gsprt_dp``: exact OC / ASN of the paired test for a grid of distributions at once;
- ``pytest_agentopt.stats.calibration``: the calibration of the shipped table by the exact DP;
- ``pytest_agentopt.stats.planning``: fixed-sample n (one-sample, McNemar) and lower bounds on the ASN;
- ``pytest_agentopt.stats.confseq``: the time-uniform betting confidence sequence for a bounded mean.
"""

from __future__ import annotations

from pytest_agentopt.stats.intervals import exact_mcnemar_p, paired_difference_interval, wilson_interval
from pytest_agentopt.stats.sprt import (
    PairedSequentialTest,
    PairedVerdict,
    SequentialSettings,
    TargetSequentialTest,
    TargetVerdict,
    binomial_llr,
    constrained_trinomial_mle,
    paired_llr,
    wald_bounds,
)

__all__ = [
    "PairedSequentialTest",
    "PairedVerdict",
    "SequentialSettings",
    "TargetSequentialTest",
    "TargetVerdict",
    "binomial_llr",
    "constrained_trinomial_mle",
    "exact_mcnemar_p",
    "paired_difference_interval",
    "paired_llr",
    "wald_bounds",
    "wilson_interval",
]
