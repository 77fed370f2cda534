"""The controller role: ledger, sequential test, stop, report, exit status.

It runs in the xdist controller (or the single process) and receives every report. It is the only writer of the
ledger and the only process that prints. Per-trial work here is small and bounded (one ledger line, one O(1) test
update); the decision is published before anything else is done, and bulk work waits for the end of the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from pytest_agentopt.number_format import usd
from pytest_agentopt.report.files import write_run_reports
from pytest_agentopt.report.gate import evaluate_gate
from pytest_agentopt.report.summary import build_summary
from pytest_agentopt.report.terminal import FAILED_PREFIX, header_line, render_summary
from pytest_agentopt.run.budget import BudgetGuard
from pytest_agentopt.run.feeding import Decision, SequentialFeeder
from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.sequential_design import (
    assess_cap,
    assess_target_cap,
    design_for,
    metric_design_for,
)
from pytest_agentopt.run.stop import StopSignal
from pytest_agentopt.run.stop_cause import NO_MORE_WORKERS, STUCK_TRIAL, OperationalStop, stop_cause
from pytest_agentopt.run.write_failure import WriteFailure
from pytest_agentopt.shell.crash import PlanPositions, crash_note, parse_trial_nodeid
from pytest_agentopt.shell.interrupts import DeferredInterrupts
from pytest_agentopt.shell.junit_output import JunitTrialOutput
from pytest_agentopt.shell.output_paths import ERROR_PREFIX
from pytest_agentopt.shell.progress import ProgressLine
from pytest_agentopt.shell.resume_command import resume_command
from pytest_agentopt.shell.stash import ITEMS_PLUGIN_KEY
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest
from pytest_agentopt.stats.wald import Direction
from pytest_agentopt.storage.hash_dictionary import update_hash_dictionary
from pytest_agentopt.storage.ledger import LedgerWriter, utc_now, write_json_atomic
from pytest_agentopt.storage.manifest import build_manifest, note_extension, note_resume, write_manifest
from pytest_agentopt.storage.replays import earlier_runs_with_the_same_trials, replay_warning
from pytest_agentopt.storage.run_context import RunContext
from pytest_agentopt.storage.trial_record import TrialRecord

if TYPE_CHECKING:
    from pytest_agentopt.run.candidates import CandidateFeeders
    from pytest_agentopt.run.sequential_design import CapAssessment, TargetCapAssessment
    from pytest_agentopt.run.shards import ShardInfo
    from pytest_agentopt.shell.junit_output import JunitTrialOutput
    from pytest_agentopt.shell.progress import ProgressLine
    from pytest_agentopt.shell.xdist_scheduler import SequentialScheduling
    from pytest_agentopt.stats.design import PairedDesign
    from pytest_agentopt.stats.target_design import TargetDesign
    from pytest_agentopt.storage.run_lock import RunLock
    from pytest_agentopt.storage.summary_schema import RunSummary

CATEGORIES = {
    "success": ("passed", ".", "PASSED", {"green": True}),
    "failure": ("agent_failed", "f", "AGENT-FAIL", {"yellow": True}),
    "error": ("agent_error", "e", "AGENT-ERROR", {"yellow": True}),
    "timeout": ("agent_timeout", "t", "AGENT-TIMEOUT", {"yellow": True}),
    "infra_error": ("infra_error", "i", "INFRA-ERROR", {"purple": True}),
    "worker_crash": ("worker_crash", "C", "WORKER-CRASH", {"red": True}),
}


class ControllerPlugin:
    def __init__(
        self,
        config: pytest.Config,
        context: RunContext,
        options: RunOptions,
        stop: StopSignal,
        *,
        notes: list[str],
        workers: int,
    ) -> None:
        self.config = config
        self.context = context
        self.options = options
        self.stop = stop
        self.notes = [*context.notes, *notes]
        self.workers = workers
        self.scheduler: SequentialScheduling | None = None
        self.records: list[TrialRecord] = list(context.resumed)
        self.details: dict[tuple[str, str, int], dict[str, str | None]] = {}
        self.plan_size: int | None = None
        self.ledger: LedgerWriter | None = None
        self.run_started = False
        self._session_finished = False
        self.skipped_by_stop = 0
        self.skipped_total = 0
        self.never_ran: dict[str, int] = {}
        """Planned trials that never ran once the run (or their candidate) stopped, told to pytest as deselected
        (``never_run``), counted by the reason they never ran."""
        self.stop_reason: str | None = None
        self.summary: RunSummary | None = None
        self.gate_failed = False
        self.usage_error: str | None = None
        self.write_failure: WriteFailure | None = None
        self._hook_failures: dict[str, int] = {}
        self._notices: set[str] = set()
        self._shown_live: set[str] = set()
        self.candidate_stops: dict[str, str] = {}
        """Each decided candidate's stop reason (a resumed run's decisions replayed before the scheduler exists)."""
        self._positions: PlanPositions | None = None
        """The planned position of each collected trial (built when a decided candidate's items are dropped)."""
        self._progress: ProgressLine | None = None
        self._finishing = DeferredInterrupts()
        self.design: PairedDesign | None = None
        self.plan: dict[str, int] | None = None
        """Tasks, trials per task and arm, planned items: from the collection, then from the first report."""
        self.target_design: TargetDesign | None = None
        self.cap: CapAssessment | TargetCapAssessment | None = None
        self.shard_plan: ShardInfo | None = None
        """Under ``--agent-shard``: the shard's plan, from the collection (``ItemsPlugin.shard_plan``)."""
        self._junit: JunitTrialOutput | None = None
        self._header_warnings: list[str] = []  # found at session start, before anything is paid for
        self._collection_warned = False
        self._session: pytest.Session | None = None
        self._interruption: BaseException | None = None
        """A ``KeyboardInterrupt`` or ``pytest.exit`` that ended the session before the test loop (if any)."""
        self.halted: OperationalStop | None = None
        """Why the run stopped on its own (a trial that could not be interrupted, workers no longer replaced)."""
        self.run_lock: RunLock | None = None
        """This session's lock on the run directory (set by ``activation``)."""
        self.candidates: CandidateFeeders | None = None
        """With several candidates: one sequential test per candidate (``feeder`` is then ``None``)."""
        self.feeder = self._make_feeder()
        self.budget = BudgetGuard(context.budget_usd, in_flight=workers) if context.budget_usd is not None else None

    # -- set-up ---------------------------------------------------------------------------------------------

    def _make_feeder(self) -> SequentialFeeder | None:
        if not self.context.sprt:
            return None

        settings = SequentialSettings(alpha=self.context.alpha, beta=self.context.beta, delta=self.context.effect)
        if self.context.several_candidates:
            self.candidates = self._make_candidate_feeders(settings)
            return None
        if self.context.paired:
            direction = cast(Direction, self.context.direction)
            self.design = metric_design_for(settings, direction, self.context.metric)
            if self.context.metric is not None:
                from pytest_agentopt.run.metric_pairs import metric_pairs

                return SequentialFeeder(metric_test=metric_pairs(self.context.metric, settings, direction, self.design))
            return SequentialFeeder(paired_test=PairedSequentialTest(settings, direction, self.design))
        assert self.context.target is not None
        from pytest_agentopt.stats.target_design import target_design

        self.target_design = target_design(self.context.target, settings.alpha, settings.beta, settings.delta)
        return SequentialFeeder(
            target_test=TargetSequentialTest(self.context.target, settings, design=self.target_design)
        )

    def _make_candidate_feeders(self, settings: SequentialSettings) -> CandidateFeeders:
        """One paired test per candidate at alpha / K (``run.candidates``; under ``fdr`` the e-value test)."""
        from pytest_agentopt.run.candidates import candidate_alpha, candidate_feeders

        candidates = self.context.candidates
        direction = cast("Direction", self.context.direction)
        alpha = candidate_alpha(settings.alpha, len(candidates))
        self.design = design_for(alpha, settings.beta, settings.delta, direction)
        return candidate_feeders(
            candidates,
            alpha=settings.alpha,
            beta=settings.beta,
            effect=settings.delta,
            direction=direction,
            family_error=self.context.family_error,
        )

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [header_line(self.context, self.options), *self._header_warnings]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session
        if self.config.getoption("collectonly"):
            return
        context = self.context
        try:
            if self.options.resume is None:
                manifest = build_manifest(context, rootdir=self.config.rootpath, options=self._option_values())
                write_manifest(context, manifest)
            else:
                note_extension(context)
            self.run_started = True  # the run exists on disk: from now on it ends with a summary
            self.ledger = LedgerWriter(context.paths.trials)
        except OSError as exc:
            raise pytest.UsageError(
                f"{self.options.given('--agent-dir', self.options.agent_dir)}: cannot write the run directory "
                f"{context.run_dir}: {exc.strerror or exc}; give a writable directory"
            ) from None
        if self.options.resume is None:
            try:
                self.notes.extend(update_hash_dictionary(self.options.agent_dir, manifest["prompt_components"]))
            except OSError as exc:
                self.notes.append(f"could not update {self.options.agent_dir}/hashes.json: {exc}")
            if self.options.seed is not None:
                self._warn_about_replays()
        # Rebuild the sequential state (and the spend) of a resumed run from its ledger, in planned order.
        for record in sorted(context.resumed, key=lambda r: r["seq"]):
            self._feed(record["seq"], record["task_id"], record["arm"], record["trial"], record["outcome"], record)
            self._charge(record)

        self._progress = ProgressLine(self.config, self.context, resumed=context.resumed)

    def _warn_about_replays(self) -> None:
        """A run with an explicit seed may repeat an earlier run's trials: say so before they are paid for."""
        context = self.context
        earlier = earlier_runs_with_the_same_trials(
            self.options.agent_dir,
            run_id=context.run_id,
            seed=context.seed,
            config_hashes=context.hashes.values(),
            shard=str(context.shard) if context.shard is not None else None,
        )
        if earlier:
            self.notes.append(replay_warning(earlier, context.seed))
            self._header_warnings.append("agentopt: " + self.notes[-1])

    def _option_values(self) -> dict[str, Any]:
        """The options that are not run settings (those are the manifest's ``run`` section)."""
        options = self.options
        return {
            "fail_inconclusive": options.fail_inconclusive,
            "drift_gate": options.drift_gate,
            "drift_alpha": options.drift_alpha,
            "budget_usd": options.budget_usd,
            "infra_retries": options.infra_retries,
            "infra_max_share": options.infra_max_share,
            "timeout_s": options.timeout_s,
            "workers": self.workers,
        }

    # -- per report -----------------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload: dict[str, Any] | None = getattr(report, "agentopt", None)
        if payload is None:
            return
        self.plan_size = payload.get("plan_size", self.plan_size)
        if self.feeder is not None and self.plan_size:
            self.feeder.plan_size = self.plan_size
        if self.candidates is not None and self.plan_size:
            self.candidates.set_plan_size(self.plan_size)
        if payload.get("plan") is not None:
            self.learn_plan(payload["plan"])
            self.shard_plan = payload.get("shard_plan", self.shard_plan)
        record: TrialRecord | None = payload.get("record")
        if record is None:
            skipped = payload.get("skipped")
            if skipped is not None:
                self.skipped_total += 1
                if self.stop_reason is not None:
                    self.skipped_by_stop += 1
                self._feed(skipped["seq"], skipped["task_id"], skipped["arm"], skipped["trial"], "skipped")
            return
        self._take_notices(payload)
        if self.feeder is not None:
            record["after_decision"] = self.feeder.is_after_decision(record["seq"])
        elif self.candidates is not None:
            record["after_decision"] = self.candidates.is_after_decision(record["arm"], record["seq"])
        if self.ledger is not None and not self._append(record):
            return  # not in the ledger, so not counted: a resume runs it again
        self.records.append(record)
        self._call_user_hook("pytest_agentopt_trial_recorded", record=record)
        if record["outcome"] != "success":
            self._junit_output().add(report, record)
        self._charge(record)
        details = payload.get("details")
        if details is None and record["outcome"] in ("worker_crash", "timeout"):
            details = {"error_type": record["error_type"], "message": record["message"], "location": None}
        if details:
            self.details[(record["task_id"], record["arm"], record["trial"])] = details
        self._feed(record["seq"], record["task_id"], record["arm"], record["trial"], record["outcome"], record)
        if self._progress is not None:
            self._progress.update(record, self.feeder, self.plan_size)

    def learn_plan(self, plan: dict[str, int]) -> None:
        """What was collected: the cap's figures and, once at start-up, a warning when the cap cannot deliver
        the planned error rates (``run.sequential_design.CapAssessment``)."""
        first_plan = self.plan is None
        self.plan = dict(plan)
        if first_plan and self.ledger is not None:
            self._write_plan_file(plan)
        if first_plan and not self._collection_warned and plan.get("items"):
            from pytest_agentopt.shell.collection_size import large_collection_warning
            from pytest_agentopt.shell.lazy_trials import lazy_allowed

            self._collection_warned = True
            design = self.design
            calibrated = design is not None and design.source == "calibrated"
            size = large_collection_warning(
                items=plan["items"],
                tasks=plan.get("tasks", 0),
                required_pairs=design.required_pairs if design is not None and calibrated else None,
                made_on_demand=lazy_allowed(self.config),
            )
            if size is not None:
                self.warn_live(f"agentopt: warning: {size}")
        if not plan.get("tasks"):
            return

        first = self.cap is None
        if self.design is not None:
            context = self.context
            quality_half = context.metric is not None and context.metric.kind == "cheaper_same_quality"
            self.cap = assess_cap(
                self.design,
                tasks=plan["tasks"],
                trials=plan["trials"],
                candidate_count=len(context.candidates) if context.several_candidates else 1,
                quality_half=quality_half,
            )
        elif self.target_design is not None:
            self.cap = assess_target_cap(self.target_design, tasks=plan["tasks"], trials=plan["trials"])
        else:
            return
        warning = self.cap.warning() if first else None
        if warning is not None:
            self.warn_live(f"agentopt: warning: {warning}")

    def _write_plan_file(self, plan: dict[str, int]) -> None:
        """What was collected, for ``agentopt watch`` (trials done of planned); a note when it cannot be written."""
        from pytest_agentopt.report.watch import PLAN_FILE

        try:
            write_json_atomic(self.context.run_dir / PLAN_FILE, plan)
        except OSError as exc:
            self.notes.append(f"could not write {self.context.run_dir / PLAN_FILE} (for agentopt watch): {exc}")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Without xdist the items live here: the plan is known as soon as they are collected."""
        items = self.config.stash.get(ITEMS_PLUGIN_KEY, None)
        if items is not None and items.plan_size:
            self.plan_size = items.plan_size
            if self.feeder is not None:
                self.feeder.plan_size = items.plan_size
            if self.candidates is not None:
                self.candidates.set_plan_size(items.plan_size)
            self.learn_plan(items.plan_info())
            self.shard_plan = items.shard_plan

    def _junit_output(self) -> JunitTrialOutput:
        if self._junit is None:
            self._junit = JunitTrialOutput(self.config)
        return self._junit

    def _take_notices(self, payload: dict[str, Any]) -> None:
        """A trial's warnings (printed at once) and notes (for the report), each kept once per run."""
        for warning in payload.get("warnings") or ():
            if warning not in self._notices:
                self._notices.add(warning)
                self.warn_live(f"agentopt: warning: {warning}")
        for note in payload.get("notes") or ():
            if note not in self._notices:
                self._notices.add(note)
                self.notes.append(note)

    def _feed(
        self, seq: int, task_id: str, arm: str, trial: int, outcome: str, record: TrialRecord | None = None
    ) -> None:
        if self.candidates is not None:
            for made in self.candidates.add(seq, task_id=task_id, arm=arm, trial=trial, outcome=outcome):
                self._publish_candidate(made.arm, made.decision)
            return
        if self.feeder is None:
            return
        value = None
        if record is not None and self.context.metric is not None:
            from pytest_agentopt.recording.metric_values import metric_value

            value = metric_value(record, self.context.metric)
        decision = self.feeder.add(seq, task_id=task_id, arm=arm, trial=trial, outcome=outcome, value=value)
        if decision is not None:
            self._publish(decision)

    def _append(self, record: TrialRecord) -> bool:
        """Write ``record`` to the ledger; on a write failure (full disk...) stop the run and say so."""
        assert self.ledger is not None
        if self.write_failure is None:
            try:
                self.ledger.append(record)
                return True
            except OSError as exc:
                self._write_failed(self.ledger.path, exc)
        assert self.write_failure is not None
        self.write_failure.unrecorded += 1
        return False

    def _write_failed(self, path: Path, exc: OSError) -> None:
        """A run file could not be written: stop at once (the first failure is the one reported)."""
        if self.write_failure is not None:
            return
        self.write_failure = WriteFailure(path, exc)
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None:  # at once (the summary's note says it again at the end)
            reporter.ensure_newline()
            reporter.write_line(self.write_failure.line(self.resume_command()), red=True, bold=True)
        if self.stop_reason is None:
            self._stop_everything(self.write_failure.stop_reason())

    def _charge(self, record: TrialRecord) -> None:
        if self.budget is None:
            return
        if record["cost_usd"] is None and self.budget.unpriced_trials == 0:
            self.warn_live(
                f"agentopt: warning: --agent-budget cannot count trials whose cost is unknown (model "
                f'{record["model"]!r} has no price: set "prices" in the config); the budget is not enforced for them'
            )
        if self.budget.add(record["cost_usd"]) and self.stop_reason is None:
            self._stop_everything(
                f"agentopt: budget of ${self.budget.limit_usd:g} reached "
                f"(estimated spend {usd(self.budget.spent_usd)}, the next trials would exceed it)"
            )

    def warn_live(self, line: str) -> None:
        """A warning the user must see while the run goes on (the report comes only at the end)."""
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(line, yellow=True)
            self._shown_live.add(line.removeprefix("agentopt: "))
        self.notes.append(line.removeprefix("agentopt: "))

    def _stop_everything(self, reason: str) -> None:
        """Stop at once: the flag first (workers check it before each item), then dispatch."""
        self.stop_reason = reason
        self.stop.publish(reason)
        if self.scheduler is not None:
            self.scheduler.stop()

    def _publish(self, decision: Decision) -> None:
        """Stop the run; record the decision once (a resumed run replaying it keeps the original record)."""
        decided_at = utc_now()
        units = "pairs" if self.context.paired else "trials"
        if self.stop_reason is None:
            how = " at the cap (last look)" if decision.at_cap else ""
            self._stop_everything(
                f"agentopt: sequential test decided '{decision.verdict}'{how} after {decision.units} {units}"
            )
        if self.context.paths.decision.exists():
            return
        try:
            write_json_atomic(
                self.context.paths.decision,
                {
                    "verdict": decision.verdict,
                    "seq": decision.seq,
                    "units": decision.units,
                    "at_cap": decision.at_cap,
                    "at": decided_at,
                },
            )
        except OSError as exc:
            self._write_failed(self.context.paths.decision, exc)

    def _publish_candidate(self, arm: str, decision: Decision) -> None:
        """A candidate decided: stop its arm on every worker; stop the run once every candidate has decided."""
        assert self.candidates is not None
        experiment = self.context.configs.raw(arm)["experiment_id"]
        how = " at the cap (last look)" if decision.at_cap else ""
        final = "; e-BH makes the final claims at the end" if self.candidates.family_error == "fdr" else ""
        verdict = f"'{decision.verdict}'{how} after {decision.units} pairs{final}"
        reason = f"agentopt: candidate {experiment} decided {verdict}"
        self.candidate_stops[arm] = reason
        self.stop.publish_arm(arm, reason)  # local workers skip the items they hold
        if self.candidates.all_decided:
            if self.stop_reason is None:
                self._stop_everything(f"agentopt: every candidate decided ({len(self.candidates.arms)} candidates)")
        elif self.scheduler is not None:
            self.scheduler.drop_arm(arm, reason)  # no worker gets another (remote ones see no flag)
        self._record_candidate_decision(arm, decision)

    def feed_dropped(self, nodeids: Sequence[str]) -> None:
        """A decided candidate's items the scheduler will never hand out: skipped, so that every candidate's
        committed prefix moves past them (reported skipped at the end, ``_report_never_dispatched``)."""
        if self.scheduler is None or self.scheduler.collection is None:
            return
        if self._positions is None:
            self._positions = PlanPositions(self.scheduler.collection, self.context)
        for nodeid in nodeids:
            key = parse_trial_nodeid(nodeid)
            seq = self._positions.seq(key) if key is not None else None
            if key is not None and seq is not None:
                self._feed(seq, key[0], key[1], key[2], "skipped")

    def _record_candidate_decision(self, arm: str, decision: Decision) -> None:
        """``decision.json`` holds each candidate's decision once (a resumed run replaying it keeps the first)."""
        import json

        path = self.context.paths.decision
        try:
            recorded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            recorded = {}
        candidates = recorded.setdefault("candidates", {})
        if arm in candidates:
            return
        candidates[arm] = {
            "experiment_id": self.context.configs.raw(arm)["experiment_id"],
            "verdict": decision.verdict,
            "seq": decision.seq,
            "units": decision.units,
            "at_cap": decision.at_cap,
            "at": utc_now(),
        }
        try:
            write_json_atomic(path, recorded)
        except OSError as exc:
            self._write_failed(path, exc)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, str | tuple[str, dict[str, bool]]] | None:
        payload = getattr(report, "agentopt", None)
        if payload is None:
            return None
        quiet = self._progress is not None and self._progress.replaces_letters
        if payload.get("requeued") or payload.get("already_recorded"):
            return "", "", ""  # a worker died holding this item: it runs again, or its trial is recorded already
        if payload.get("record") is None:
            # A skipped agent item (by the stop, or by the user): counted, but no letter beside the progress line.
            return ("skipped", "", "SKIPPED") if quiet and report.skipped else None
        if report.when != "call":
            return None
        outcome = payload["record"]["outcome"]
        category, letter, word, markup = CATEGORIES.get(outcome, CATEGORIES["error"])
        return category, "" if quiet else letter, (word, markup)

    # -- end of the run -------------------------------------------------------------------------------------

    # trylast: inside the terminal reporter's wrapper, so the never-run trials are deselected (and taken off the
    # collected count) before it writes the final progress figure ([100%], not the share of items that ran).
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        error: BaseException | None = None
        try:
            return (yield)
        except BaseException as exc:  # only looked at (-x, Ctrl-C, pytest.exit...), always raised again
            error = exc
            raise
        finally:
            if not self.config.getoption("collectonly") and self.usage_error is None:
                self._finishing.start()  # until the report is printed (pytest_sessionfinish)
                self._report_never_dispatched(session)
                stopped_by = stop_cause(error, session)
                if stopped_by is None and self.write_failure is not None:
                    stopped_by = self.write_failure.stop_cause()
                self._finish(session, stopped_by=stopped_by)

    def _report_never_dispatched(self, session: pytest.Session) -> None:
        """Trials that never ran once the run stopped: not handed out by the xdist scheduler, or not reached by the
        single process's run loop. pytest hears of them once, as deselected (``never_run``), not one by one."""
        from pytest_agentopt.shell.never_run import deselect_never_run

        sources: list[Sequence[str]] = []
        if self.scheduler is not None:
            sources.append(self.scheduler.never_dispatched)
        items = self.config.stash.get(ITEMS_PLUGIN_KEY, None)
        if items is not None:
            sources.extend(items.never_reached_nodeids())
        run_reason = self.stop_reason or "agentopt: run stopped"
        scheduler = self.scheduler if self.scheduler is not None and self.scheduler.dropped_any else None
        for nodeids in sources:
            count = deselect_never_run(self.config, session, nodeids)
            if not count:
                continue
            if scheduler is not None:  # a decided candidate's items, dropped while the others went on, say so
                for nodeid in nodeids:
                    reason = scheduler.drop_reason(nodeid) or run_reason
                    self.never_ran[reason] = self.never_ran.get(reason, 0) + 1
            else:
                self.never_ran[run_reason] = self.never_ran.get(run_reason, 0) + count
            self.skipped_by_stop += count
            self.skipped_total += count

    def _finish(self, session: pytest.Session | None, *, stopped_by: str | None) -> None:
        if self.plan_size is None:
            # No agent trial reported (e.g. -x on an ordinary test that ran first): ask the collection itself.
            items = self.config.stash.get(ITEMS_PLUGIN_KEY, None)
            self.plan_size = items.plan_size if items is not None else None
        if self._progress is not None:
            self._progress.close()
        if self.feeder is not None and stopped_by is None:
            # Every trial of a resumed run came from the ledger: the cap is reached without a new report.
            if self.plan_size is not None and self.feeder.plan_size is None:
                self.feeder.plan_size = self.plan_size
            decision = self.feeder.conclude_if_complete()
            if decision is not None:
                self._publish(decision)
        if self.candidates is not None and stopped_by is None:
            if self.plan_size is not None and self.candidates.plan_size is None:
                self.candidates.set_plan_size(self.plan_size)
            for made in self.candidates.conclude_if_complete():
                self._publish_candidate(made.arm, made.decision)
        if self.options.resume is not None:
            try:
                note_resume(self.context)  # only now: a resume refused at collection writes nothing
            except OSError as exc:
                self._write_failed(self.context.paths.manifest, exc)
        never_ran = self._never_ran() if stopped_by is None else 0
        if never_ran:
            self.halted = OperationalStop(NO_MORE_WORKERS)
            stopped_by = self.halted.cause
            self.notes.append(
                f"warning: the run ended before {never_ran} planned trials ran (xdist stops replacing crashed "
                "workers after --max-worker-restart crashes); they are not lost: resume the run"
            )
        interrupted = stopped_by is not None
        crashed = crash_note(self.records)
        if crashed is not None:
            self.notes.append(crashed)
        if self.write_failure is not None:
            self.notes.append(self.write_failure.note(self.resume_command()))
        summary = build_summary(
            records=self.records,
            context=self.context,
            feeder=self.feeder,
            plan_size=self.plan_size,
            skipped_by_stop=self.skipped_by_stop,
            interrupted=interrupted,
            stopped_by=stopped_by,
            notes=self.notes,
            budget=self.budget.as_dict() if self.budget is not None else None,
            resume_command=self.resume_command(),
            plan=self.plan,
            cap=self.cap.as_dict() if self.cap is not None else None,
            shard=self.shard_plan,
            drift_alpha=self.options.drift_alpha,
            candidates=self.candidates,
        )
        summary["finished_at"] = utc_now()
        if interrupted:
            summary["gate"] = {"passed": None, "reason": f"not evaluated: the run stopped early ({stopped_by})"}
        else:
            gate = evaluate_gate(summary, self.options)
            summary["gate"] = gate.as_dict()
            self.gate_failed = gate.failed
        self.summary = summary
        self._junit_output().add_summary(summary)
        self._write_reports(summary)
        # A requested file that could not be written fails the run (output_paths); --agent-json says which.
        summary["output_errors"] = [
            note.removeprefix(ERROR_PREFIX) + f" (the summary is in {self.context.paths.summary})"
            for note in summary["notes"]
            if note.startswith(ERROR_PREFIX)
        ]
        if self.options.json_path is not None:
            self._write_output(self.options.json_path, summary)
        self._call_user_hook("pytest_agentopt_run_finished", summary=summary)
        try:
            write_json_atomic(self.context.paths.summary, summary)  # last: with every note of the outputs
        except OSError as exc:
            self._write_failed(self.context.paths.summary, exc)

    def _never_ran(self) -> int:
        """Planned trials that neither ran nor were skipped: the run ended early without being stopped."""
        if self.plan_size is None or self.stop_reason is not None:
            return 0
        return max(0, self.plan_size - len(self.records) - self.skipped_total)

    def abandon_run(self) -> None:
        """A trial could not be interrupted after its timeout (single process): end the run, keeping its data.

        Called from the timeout watchdog's thread once the trial's record is in the ledger (see ``shell/timeouts.py``):
        write the partial summary and the reports, print the report with the resume command, and exit 2. The
        stuck trial's thread is never joined: this process ends here.
        """
        try:
            self.halted = OperationalStop(STUCK_TRIAL)
            self.notes.append(
                "warning: a trial could not be interrupted after its timeout, so the run stopped (recorded as "
                "timeout); resume it to go on, or run with -n 1 so that a stuck trial only costs its worker"
            )
            self._finish(None, stopped_by=self.halted.cause)
            reporter = self.config.pluginmanager.getplugin("terminalreporter")
            if reporter is not None:
                reporter.write("\n")  # after the progress letters
                self.pytest_terminal_summary(reporter, pytest.ExitCode.INTERRUPTED, self.config)
            sys.stdout.flush()
            sys.stderr.flush()
            if self.ledger is not None:
                self.ledger.close()
            if self.run_lock is not None:
                self.run_lock.release()  # the session ends here, finished: the next one is no take-over
        finally:
            os._exit(pytest.ExitCode.INTERRUPTED)

    def resume_command(self) -> str:
        """The exact command that continues this run (the user's arguments, with ``--agent-resume RUN``)."""
        return resume_command(self.config.invocation_params.args, self.context.run_id)

    def operational_stop(self) -> OperationalStop | None:
        """Why the run stopped on its own (a run file that cannot be written first): exit 2 and one last line."""
        if self.write_failure is not None:
            return self.write_failure.operational_stop()
        return self.halted

    def _call_user_hook(self, name: str, **kwargs: Any) -> None:
        """Call a user's hook; its failure is a note in the report, never a changed outcome (see ``hookspecs``)."""
        try:
            getattr(self.config.hook, name)(config=self.config, **kwargs)
        except Exception as exc:
            count = self._hook_failures.get(name, 0)
            self._hook_failures[name] = count + 1
            if count == 0:
                note = f"warning: your {name} hook raised {type(exc).__name__}: {exc}"
                (self.summary["notes"] if self.summary is not None else self.notes).append(note)

    def _write_output(self, path: Path, summary: RunSummary) -> None:
        try:
            write_json_atomic(path, summary)
        except OSError as exc:
            error = f"could not write {self.options.given('--agent-json', path)}: {exc.strerror or exc}"
            summary["notes"].append(ERROR_PREFIX + error)
            summary["output_errors"].append(f"{error} (the summary is in {self.context.paths.summary})")

    def _write_reports(self, summary: RunSummary) -> None:
        """Markdown, HTML and CSV outputs and ``$GITHUB_STEP_SUMMARY``; what was written (or not) becomes notes."""
        options = self.options
        summary["notes"].extend(
            write_run_reports(
                summary=summary,
                run_dir=self.context.run_dir,
                agent_dir=options.agent_dir,
                md_path=options.md_path,
                html_path=options.html_path,
                csv_path=options.csv_path,
                github_step_summary=os.environ.get("GITHUB_STEP_SUMMARY"),
                records=self.records,
            )
        )

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.summary is not None:
            self._render_summary(terminalreporter, config)
        if self.never_ran:  # also under -q: pytest's own line only counts them as deselected
            from pytest_agentopt.shell.never_run import never_ran_line

            for reason, count in self.never_ran.items():
                terminalreporter.write_line(never_ran_line(count, reason))
        stopped = self.operational_stop()
        if stopped is not None:  # last, just above pytest's own final line: the one line that says why
            terminalreporter.write_line(stopped.line(self.resume_command()), red=True, bold=True)

    def _render_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        assert self.summary is not None

        verbosity = config.get_verbosity()
        # Outside a terminal (a CI log) nothing is cut to a width: the log viewer wraps long lines.
        width = terminalreporter._tw.fullwidth if getattr(terminalreporter, "isatty", False) else None
        for line in render_summary(
            self.summary, verbosity=verbosity, width=width, details=self.details, shown_live=self._shown_live
        ):
            failed = line.startswith(FAILED_PREFIX)
            terminalreporter.write_line(line, red=failed, bold=failed)
        if self.gate_failed or self.summary.get("output_errors"):
            _show_session_as_failed(terminalreporter)

    # Outermost: Ctrl-C is held back (see interrupts.py) until pytest has printed the report.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Generator[None, object, object]:
        self._session_finished = True
        try:
            self._set_exit_status(session, exitstatus)
            return (yield)
        finally:
            self._finishing.stop()

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C or ``pytest.exit`` outside the test loop (which sees its own): remembered for the summary."""
        self._interruption = excinfo.value

    def _early_stop_cause(self, session: pytest.Session | None) -> str:
        """What ended the session before its test loop ran, in the words of ``stopped_by``."""
        cause = stop_cause(self._interruption, session) if session is not None else None
        return cause or "the session ended before its tests ran"

    def _set_exit_status(self, session: pytest.Session, exitstatus: int) -> None:
        if self.usage_error is not None:
            sys.stdout.flush()
            sys.stderr.write(f"\nERROR: {self.usage_error}\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if exitstatus in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            return
        if (
            self.summary is None
            and self.run_started
            and (self._interruption is not None or exitstatus == pytest.ExitCode.INTERRUPTED)
        ):
            # Interrupted before the test loop ran (while xdist started its workers, or during collection).
            self._finishing.start()
            self._finish(session, stopped_by=self._early_stop_cause(session))
        if self.operational_stop() is not None:
            # The run stopped on its own (a full disk, a stuck trial, workers no longer replaced): resumable, as
            # after Ctrl-C, and no gate was evaluated.
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            return
        if self.summary is None or exitstatus == pytest.ExitCode.INTERRUPTED:
            return
        if self.gate_failed or self.summary.get("output_errors"):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and self.records:
            session.exitstatus = pytest.ExitCode.OK  # every trial was resumed from the ledger

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.summary is None and self.run_started and not self._session_finished:
            # Interrupted while the session started (xdist starting its workers): pytest then skips
            # pytest_sessionfinish and its report, so the summary and the resume command are written here.
            self._finishing.start()
            try:
                self._finish(None, stopped_by=self._early_stop_cause(self._session))
                reporter = config.pluginmanager.getplugin("terminalreporter")
                if reporter is not None:
                    self.pytest_terminal_summary(reporter, pytest.ExitCode.INTERRUPTED, config)
            finally:
                self._finishing.stop()
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None
        self.stop.remove()


def _show_session_as_failed(terminalreporter: Any) -> None:
    """Make pytest's final line red for a run that exits 1 because of the gate or an unwritten output.

    pytest colours that line red only when its stats hold ``failed`` (or ``error``) reports; agent failures are
    categories of their own, which it shows in yellow. An empty ``failed`` list turns the colour red without
    adding a count or a line to the short test summary. ``_set_main_color`` recomputes the cached colour (it is
    not recomputed when the session stopped before its last item).
    """
    terminalreporter.stats.setdefault("failed", [])
    recompute = getattr(terminalreporter, "_set_main_color", None)
    if callable(recompute):
        recompute()
