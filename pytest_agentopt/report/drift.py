"""The summary's ``drift`` section: which recorded features moved between control and test at equal outcome.

The features are what every trial records (steps, tool calls, tokens by class, latency, estimated cost) and the
numbers a task records with ``agent_trial.record(NAME=...)``. They are compared pair by pair (the same task and
trial under both configs) by :func:`pytest_agentopt.stats.drift.drift_test`, over the pairs whose two halves had
**the same outcome** (both solved, or both not) and that entered the run's decision:

* the sequential test stops on the pairs' outcomes only; swapping the halves of a same-outcome pair changes no
  outcome, so under "no change" those swaps stay fair coin flips whatever the stop did, and the test's error rate
  holds at the data-dependent stop (``docs/statistics.md``, "Behaviour drift"). Pairs whose outcomes differ fix
  the direction of their swap and are left out: what the drift report finds is a change the pass/fail verdict
  does not explain;
* trials recorded after the decision (running when the test decided) are left out: which of them finish depends
  on their latency.

The family is every feature recorded in both halves of at least :func:`~pytest_agentopt.stats.drift.least_pairs`
of those pairs that is not the same constant in all of them (a selection the swaps cannot change).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence

from pytest_agentopt import number_format as fmt
from pytest_agentopt.run.pairing import paired_outcomes
from pytest_agentopt.storage.summary_schema import DriftFeature, DriftReport
from pytest_agentopt.storage.trial_record import TOKEN_CLASSES, TrialRecord

Extractor = Callable[[TrialRecord], float | None]

BUILT_IN_FEATURES: tuple[tuple[str, Extractor], ...] = (
    ("steps", lambda record: _number(record["steps"])),
    ("tool_calls", lambda record: _number(record["tool_calls"])),
    *(
        (f"{token_class}_tokens", (lambda record, c=token_class: _token_count(record, c)))
        for token_class in TOKEN_CLASSES
    ),
    ("latency_s", lambda record: _number(record["latency_s"])),
    ("cost_usd", lambda record: _number(record["cost_usd"])),
)
"""The features every trial can record, in the order they are reported."""
METRIC_PREFIX = "metrics."
"""Numbers a task records with ``agent_trial.record(NAME=...)`` are the features ``metrics.NAME``."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _token_count(record: TrialRecord, token_class: str) -> float | None:
    tokens: Mapping[str, object] | None = record["tokens"]
    return None if tokens is None else _number(tokens.get(token_class))


def _metric_extractor(name: str) -> Extractor:
    return lambda record: _number((record["metrics"] or {}).get(name))


def feature_extractors(records: Sequence[TrialRecord]) -> list[tuple[str, Extractor]]:
    """The built-in features and one per numeric custom metric any record has (names sorted)."""
    custom = sorted(
        {name for record in records for name, value in (record["metrics"] or {}).items() if _number(value) is not None}
    )
    return [*BUILT_IN_FEATURES, *((METRIC_PREFIX + name, _metric_extractor(name)) for name in custom)]


def drift_report(
    records: Sequence[TrialRecord], *, alpha: float, seed: int, decided_on_metric: str | None = None
) -> DriftReport:
    """The ``drift`` section of an A/B run's summary (``decided_on_metric``: the run stopped on that metric)."""
    from pytest_agentopt.stats.drift import least_pairs

    before_decision = [record for record in records if not record["after_decision"]]
    all_pairs = paired_outcomes(before_decision)
    same = [
        (control, test)
        for _, control, test in all_pairs
        if (control["outcome"] == "success") == (test["outcome"] == "success")
    ]
    complete_after = len(paired_outcomes(records)) - len(all_pairs)
    needed = least_pairs(alpha)
    report = DriftReport(
        status="missing",
        reason=None,
        alpha=alpha,
        pairs=len(same),
        pairs_complete=len(all_pairs),
        pairs_other_outcome=len(all_pairs) - len(same),
        pairs_after_decision=max(0, complete_after),
        omnibus_p=None,
        family=[],
        features=[],
        moved=[],
        permutations=None,
        exact=None,
        method=_method(alpha, decided_on_metric),
    )
    columns: list[tuple[str, list[float | None], list[float | None]]] = []
    constant: list[str] = []
    for name, extract in feature_extractors(before_decision):
        control_values = [extract(control) for control, _ in same]
        test_values = [extract(test) for _, test in same]
        known = [(c, t) for c, t in zip(control_values, test_values, strict=True) if c is not None and t is not None]
        if len(known) < needed:
            continue
        if len({value for pair in known for value in pair}) < 2:
            constant.append(name)  # one value in every pair and both arms: it did not move
            continue
        columns.append((name, control_values, test_values))
    if len(same) < needed:
        report["reason"] = (
            f"only {len(same)} complete pairs with the same outcome in both arms ({needed} needed at alpha {alpha:g})"
        )
        return report
    if not columns and constant:
        report["status"] = "no_drift"
        report["reason"] = f"{', '.join(constant)}: the same value in every pair and both arms"
        return report
    if not columns:
        report["reason"] = f"no feature was recorded in both arms of {needed} or more same-outcome pairs"
        return report
    return _tested(report, columns, alpha=alpha, seed=seed)


def _tested(
    report: DriftReport,
    columns: Sequence[tuple[str, Sequence[float | None], Sequence[float | None]]],
    *,
    alpha: float,
    seed: int,
) -> DriftReport:
    from pytest_agentopt.stats.drift import drift_test

    differences = [
        [
            math.nan if control[row] is None or test[row] is None else float(test[row] or 0) - float(control[row] or 0)
            for _, control, test in columns
        ]
        for row in range(report["pairs"])
    ]
    result = drift_test(differences, alpha=alpha, seed=seed)
    features: list[DriftFeature] = []
    for (name, control, test), shift in zip(columns, result.features, strict=True):
        known = [(c, t) for c, t in zip(control, test, strict=True) if c is not None and t is not None]
        control_median = statistics.median(c for c, _ in known)
        features.append(
            DriftFeature(
                name=name,
                pairs=shift.pairs,
                control_median=control_median,
                test_median=statistics.median(t for _, t in known),
                effect=shift.estimate + 0.0,  # no -0.0
                lower=shift.lower,
                upper=shift.upper,
                relative=shift.estimate / abs(control_median) if control_median else None,
                adjusted_p=shift.adjusted_p,
                moved=shift.adjusted_p <= alpha,
            )
        )
    report["status"] = "drift" if result.omnibus_p <= alpha else "no_drift"
    report["omnibus_p"] = result.omnibus_p
    report["family"] = [feature["name"] for feature in features]
    report["features"] = features
    report["moved"] = [feature["name"] for feature in features if feature["moved"]]
    report["permutations"] = result.permutations
    report["exact"] = result.exact
    return report


def _method(alpha: float, decided_on_metric: str | None) -> str:
    text = (
        "paired sign-flip permutation test, max statistic over the features (Westfall-Young single step) on "
        "Pratt signed ranks of test - control, same-outcome pairs before the decision; adjusted p-values and "
        f"intervals (Hodges-Lehmann shift) family-wise at alpha {alpha:g}"
    )
    if decided_on_metric is not None:
        text += (
            f"; the run stopped on the metric {decided_on_metric!r}: features that move with it are outside the "
            "error-rate guarantee"
        )
    return text


# ---------------------------------------------------------------------------------------------------------------
# Text shared by the terminal and the report files
# ---------------------------------------------------------------------------------------------------------------


def shift_interval_text(feature: DriftFeature) -> str:
    """``[+1, +5]`` for the adjusted interval; an end at 0 of a feature that moved is open (0 is rejected)."""
    lower, upper = feature["lower"], feature["upper"]
    if lower is None or upper is None:
        return "[unbounded]"
    moved = feature["moved"]
    left = "(" if moved and lower == 0 else "["
    right = ")" if moved and upper == 0 else "]"
    return f"{left}{amount_text(lower, signed=True)}, {amount_text(upper, signed=True)}{right}"


def amount_text(value: object, *, signed: bool = False) -> str:
    """A feature's value in its own unit, three significant digits: ``+3``, ``-0.25``, ``0.00047``, ``+1,250``.

    Features range from fractions of a cent to thousands of tokens, so a fixed number of decimals would print a
    cost of $0.00047 as 0.000.
    """
    if not fmt.is_number(value):
        return fmt.MISSING
    number = float(value)
    if number == 0:
        return "0"
    sign = "+" if signed else ""
    return f"{number:{sign},.0f}" if abs(number) >= 100 else f"{number:{sign}.3g}"


def relative_text(feature: DriftFeature) -> str:
    """The shift relative to the control's median: ``+30%`` (``-`` when that median is 0)."""
    relative = feature["relative"]
    return f"{100 * relative:+.0f}%" if fmt.is_number(relative) else fmt.MISSING


def feature_text(feature: DriftFeature) -> str:
    """``steps +3 [+2, +4] (+30%)``: the shift, its adjusted interval and its size relative to the control."""
    relative = relative_text(feature)
    return f"{feature['name']} {amount_text(feature['effect'], signed=True)} {shift_interval_text(feature)}" + (
        f" ({relative})" if relative != fmt.MISSING else ""
    )


def drift_text(drift: DriftReport) -> str:
    """One sentence for the terminal and the gate: what moved, or that nothing did, or why it is missing."""
    status = drift["status"]
    if status == "missing":
        return f"drift not tested: {drift['reason']}"
    family = drift["family"]
    if status == "no_drift" and not family:
        return f"no behaviour drift: {drift['reason']}"
    scope = (
        f"omnibus p {fmt.p_value(drift['omnibus_p'])} over {len(family)} features, {drift['pairs']} same-outcome pairs"
    )
    if status == "drift":
        moved = [feature for feature in drift["features"] if feature["moved"]]
        return (
            "behaviour drift at equal outcome: "
            + ", ".join(feature_text(feature) for feature in moved)
            + f" (test - control, family-wise intervals; {scope})"
        )
    return f"no behaviour drift found ({scope})"
