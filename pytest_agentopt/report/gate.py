"""The CI gate: what the experiment's outcome means for the exit status (documented in ``docs/exit-codes.md``).

Trials failing is data; the exit status reports the experiment. ``worse`` and ``worse_quality`` (a regression
proven at the chosen alpha) and ``below_target`` fail the run; ``inconclusive`` fails it only with
``--agent-fail-inconclusive``; a behaviour drift (the summary's ``drift`` section) only with
``--agent-drift-gate``; a run whose share of infrastructure errors is above ``--agent-infra-max-share``
fails because its verdict rests on too little data.

With several candidates the rule is ``--agent-gate-rule``: ``any-worse`` (default) fails the run when any
candidate is proven worse, ``all-worse`` only when every candidate is, ``none-better`` unless at least one
candidate is proven better; ``--agent-fail-inconclusive`` also fails it when some candidate is undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_agentopt.run.options import RunOptions

if TYPE_CHECKING:
    from pytest_agentopt.storage.summary_schema import CandidateResult, GateResult, RunSummary


@dataclass(frozen=True)
class Gate:
    failed: bool
    reason: str | None

    def as_dict(self) -> GateResult:
        return {"passed": not self.failed, "reason": self.reason}


def evaluate_gate(summary: RunSummary, options: RunOptions) -> Gate:
    verdict = summary.get("verdict")
    reason = summary.get("verdict_reason")
    infra = infra_share(summary)
    if infra is not None and infra > options.infra_max_share:
        return Gate(
            True,
            f"{100 * infra:.0f}% of trials hit infrastructure errors or worker crashes (more than "
            f"--agent-infra-max-share={options.infra_max_share:g}); the verdict rests on too little data - check the "
            "provider and the machine",
        )
    candidates = summary.get("candidates")
    if candidates:
        return _candidates_gate(candidates, options)
    if verdict in ("worse", "worse_quality"):
        return Gate(True, _sentence("regression proven", reason))
    if verdict == "below_target":
        return Gate(True, _sentence("success rate below the target", reason))
    drift = summary.get("drift")
    if options.drift_gate and drift is not None and drift["status"] == "drift":
        from pytest_agentopt.report.drift import drift_text

        return Gate(True, f"{drift_text(drift)} (--agent-drift-gate)")
    if verdict == "inconclusive" and options.fail_inconclusive:
        return Gate(True, f"inconclusive (--agent-fail-inconclusive): {reason}")
    return Gate(False, None)


def _candidates_gate(candidates: list[CandidateResult], options: RunOptions) -> Gate:
    """The gate of a run with several candidates (``--agent-gate-rule``, see the module doc)."""
    rule = options.gate_rule

    def named(verdict: str) -> list[str]:
        return [str(c["experiment_id"]) for c in candidates if c["verdict"] == verdict]

    worse, better, undecided = named("worse"), named("better"), named("inconclusive")
    if rule == "any-worse" and worse:
        return Gate(True, f"regression proven for {', '.join(worse)} (--agent-gate-rule=any-worse)")
    if rule == "all-worse" and len(worse) == len(candidates):
        return Gate(True, "regression proven for every candidate (--agent-gate-rule=all-worse)")
    if rule == "none-better" and not better:
        return Gate(True, "no candidate is proven better (--agent-gate-rule=none-better)")
    if undecided and options.fail_inconclusive:
        return Gate(True, f"inconclusive for {', '.join(undecided)} (--agent-fail-inconclusive)")
    return Gate(False, None)


def _sentence(label: str, reason: object) -> str:
    """``label: reason`` as one sentence: a reason that already starts with the label is not labelled twice."""
    text = str(reason or "").strip()
    if text.lower().startswith(label):
        return text
    return f"{label}: {text}" if text else label


def infra_share(summary: RunSummary) -> float | None:
    """The share of trials kept out of the statistics for the machine's sake: infrastructure errors and worker
    crashes (a crash is counted with them: the plugin cannot tell who caused it)."""
    infra = sum(arm["infra_errors"] + arm.get("worker_crashes", 0) for arm in summary["arms"].values())
    total = infra + sum(arm["trials"] for arm in summary["arms"].values())
    return infra / total if total else None
