"""``agentopt watch``: a run as it goes, read incrementally from its directory."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.cli.main import main
from pytest_agentopt.report.watch import LedgerTail, WatchState, render_frame
from pytest_agentopt.storage.ledger import RunPaths
from tests.plugin.helpers import only_run, write_configs, write_suite

SPRT = ["--agent-config=configs/improved.json", "--sprt", "--agent-trials=40", "--agent-seed=3", "-p", "no:randomly"]


@pytest.fixture
def finished_run(pytester: pytest.Pytester) -> Path:
    write_configs(pytester)
    write_suite(pytester, p_control=0.4, p_test=0.95, tasks=4)
    assert pytester.runpytest(*SPRT).ret == 0
    return only_run(pytester)


def running_copy(run_dir: Path, lines: int, torn: bytes = b"") -> Path:
    """The run as it was after ``lines`` trials, with a session owning it and no decision or summary yet."""
    copy = run_dir.parent / (run_dir.name + "-live")
    shutil.copytree(run_dir, copy)
    for name in ("summary.json", "decision.json"):
        (copy / name).unlink(missing_ok=True)
    (copy / "session.json").write_text("{}")
    ledger = (run_dir / "trials.jsonl").read_bytes().splitlines(keepends=True)
    (copy / "trials.jsonl").write_bytes(b"".join(ledger[:lines]) + torn)
    return copy


def test_a_finished_run_shows_the_controllers_figures_and_verdict(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = json.loads((finished_run / "summary.json").read_text())
    assert main(["watch", "--once"]) == 0  # the newest run of .agentopt
    out = capsys.readouterr().out
    llr, (lower, upper) = summary["llr"], summary["bounds"]
    assert f"LLR better {llr['better']:+.2f}, worse {llr['worse']:+.2f}; bounds [{lower:+.2f}, {upper:+.2f}]" in out
    assert f"{summary['pairs_used']} pairs in the test" in out
    assert f"trials   {summary['trials_started']} of {summary['trials_planned']:,} planned done" in out
    assert f"verdict  {summary['verdict'].upper()}: {summary['verdict_reason']}" in out
    control = summary["arms"]["control"]
    assert f"solved {control['successes']}/{control['trials']}" in out
    assert "; finished" in out


def test_a_running_run_is_read_incrementally_and_a_torn_last_line_waits(finished_run: Path) -> None:
    full = (finished_run / "trials.jsonl").read_bytes().splitlines(keepends=True)
    live = running_copy(finished_run, 10, torn=full[10][:25])
    state = WatchState.open(RunPaths(live))
    state.refresh()
    assert state.done == 10
    assert state.tail.offset == len(b"".join(full[:10]))
    frame = "\n".join(render_frame(state))
    assert "running" in frame
    assert "verdict  not yet: the sequential test is running" in frame
    assert "a last line of 25 bytes without its newline waits" in frame
    assert "remains  at most" in frame
    # The rest of the torn line and more lines arrive: only they are read.
    with (live / "trials.jsonl").open("ab") as ledger:
        ledger.write(full[10][25:] + b"".join(full[11:20]))
    state.refresh()
    assert state.done == 20
    assert state.tail.pending == 0
    assert state.tail.offset == len(b"".join(full[:20]))


def test_the_live_llr_equals_the_controllers_once_every_trial_is_read(finished_run: Path) -> None:
    summary = json.loads((finished_run / "summary.json").read_text())
    lines = (finished_run / "trials.jsonl").read_bytes().count(b"\n")
    state = WatchState.open(RunPaths(running_copy(finished_run, lines)))
    state.refresh()
    assert state.feeder is not None
    assert state.feeder.paired_test is not None
    test: Any = state.feeder.paired_test  # the protocol types only what the feeder uses
    assert dict(test.llr) == summary["llr"]
    assert list(test.bounds) == summary["bounds"]


def test_a_finished_run_whose_summary_lost_its_shape_shows_no_verdict(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = json.loads((finished_run / "summary.json").read_text())
    summary["trials_planned"] = "all"  # edited by hand
    (finished_run / "summary.json").write_text(json.dumps(summary))
    assert main(["watch", "--once", str(finished_run)]) == 0
    out = capsys.readouterr().out
    assert "; finished" in out  # finished all the same: it wrote its summary
    assert "planned: unknown (its summary cannot be read)" in out
    assert f"verdict  unknown: {finished_run / 'summary.json'}: field 'trials_planned': expected int" in out
    assert summary["verdict"].upper() not in out.split("verdict  ", 1)[1]


def test_a_run_without_a_session_or_summary_says_so(finished_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = running_copy(finished_run, 4)
    (live / "session.json").unlink()
    assert main(["watch", str(live)]) == 0  # ends at once: nobody runs it
    assert "not running (no session owns it)" in capsys.readouterr().out


def test_no_run_to_watch_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--agent-dir", str(tmp_path), "--once"]) == 2
    assert f"--agent-dir {tmp_path}: no run in" in capsys.readouterr().err


def test_the_tail_skips_unreadable_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_bytes(b'{"not": "a record"}\nnot json\n')
    tail = LedgerTail(path)
    assert list(tail.read_new()) == []
    assert tail.skipped == 2
    assert tail.offset == path.stat().st_size


def test_the_newest_run_is_the_one_created_last_not_the_last_by_name(tmp_path: Path) -> None:
    """Run ids sort by time only to the second; within a second the manifest's milliseconds decide."""
    from pytest_agentopt.report.watch import newest_run

    runs = tmp_path / "runs"
    for name, created in (
        ("20261205-003000-exp_zzz-ffff", "2026-12-05T00:30:00.100Z"),
        ("20261205-003000-exp_aaa-0000", "2026-12-05T00:30:00.900Z"),
        ("20261205-002959-exp_zzz-9999", "2026-12-05T00:29:59.999Z"),
    ):
        (runs / name).mkdir(parents=True)
        (runs / name / "manifest.json").write_text(json.dumps({"schema": 1, "created_at": created}))
    (runs / "20261205-003001-exp_bad-1111").mkdir()
    (runs / "20261205-003001-exp_bad-1111" / "manifest.json").write_text("{not json")
    newest = newest_run(tmp_path)
    assert newest is not None
    assert newest.directory.name == "20261205-003000-exp_aaa-0000"
    assert newest_run(tmp_path / "nowhere") is None


def test_a_running_run_forecasts_the_further_pairs_sessions_and_time(finished_run: Path) -> None:
    """The expected further pairs are the grid DP's from the live test's counts to the cap, the time is the
    expected sessions at the pace of the ledger's ``finished_at`` stamps."""
    from datetime import datetime

    from pytest_agentopt.report.watch_forecast import duration
    from pytest_agentopt.stats.extension import outlook, running_state

    live = running_copy(finished_run, 12)
    state = WatchState.open(RunPaths(live))
    state.refresh()
    frame = render_frame(state)
    assert state.feeder is not None
    test: Any = state.feeder.paired_test
    plan = json.loads((live / "plan.json").read_text())
    cap = test.pairs + math.ceil((plan["items"] - state.feeder.committed) / 2)
    reference = outlook(
        test.design,
        wins=test.wins,
        losses=test.losses,
        ties=test.ties,
        state=running_state("both", dict(test.states)),
        cap_pairs=cap,
        residual=0.0,
    )
    expected = reference.expected_pairs
    expect = next(line for line in frame if line.startswith("expect"))
    assert expect.startswith(
        f"expect   {expected:,.0f} more pairs ({2 * expected:,.0f} sessions) to a decision at the observed rates"
    )
    assert f"95% within {reference.p95_pairs}" in expect
    hypotheses = frame[frame.index(expect) + 1]
    assert "under the hypotheses, at the observed discordance" in hypotheses
    assert all(f"{name} " in hypotheses for name in ("no difference", "better by 0.15", "worse by 0.15"))
    stamps = [
        datetime.fromisoformat(json.loads(line)["finished_at"]).timestamp()
        for line in (live / "trials.jsonl").read_text().splitlines()
    ]
    pace = (len(stamps) - 1) / (max(stamps) - min(stamps))
    timing = next(line for line in frame if line.startswith("time"))
    assert timing.startswith(f"time     about {duration(2 * expected / pace)} at the observed rates")
    assert f"(pace {pace:.3g} sessions/s: the last 12 trials" in timing


def test_the_forecast_says_unknown_when_it_cannot_be_computed(finished_run: Path) -> None:
    def frame_after(lines: int) -> str:
        state = WatchState.open(RunPaths(running_copy(finished_run, lines)))
        state.refresh()
        text = "\n".join(render_frame(state))
        shutil.rmtree(state.paths.directory)
        return text

    # One trial: no pair in the test yet.
    assert "expect   unknown: no pairs in the test yet" in frame_after(1)
    assert "time     unknown: no forecast of the sessions" in frame_after(1)
    # Two pairs but four trials: a forecast, and no pace yet.
    few = frame_after(4)
    assert "more pairs (" in few
    assert "time     unknown: no pace yet (fewer than 5 trials finished" in few
    # No plan yet: no cap to forecast to.
    (finished_run / "plan.json").unlink()
    assert "expect   unknown: the run has not reported its collection yet" in frame_after(12)


def test_several_candidates_each_get_their_forecast_and_the_run_its_sessions(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each undecided candidate's further pairs are the DP's at its own design (alpha / K) from its live counts;
    the run's sessions are every candidate's own plus the control's until the last decides; in the background a
    frame says the forecast is being computed instead of waiting for it."""
    import threading

    from pytest_agentopt.report import watch_forecast
    from pytest_agentopt.report.watch_forecast import Forecaster
    from pytest_agentopt.stats.extension import running_state
    from pytest_agentopt.stats.remaining import paired_remaining
    from tests.plugin.test_candidates_run import write_candidates

    write_candidates(pytester)
    args = ["--agent-config=configs/better.json", "--agent-config=configs/equal.json"]
    args += ["--agent-config=configs/worse.json", "--sprt", "--agent-trials=10", "--agent-seed=3", "-p", "no:randomly"]
    assert pytester.runpytest(*args).ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    live = running_copy(only_run(pytester), 24)  # six pairs of each candidate: none has decided
    state = WatchState.open(RunPaths(live))
    state.refresh()
    frame = render_frame(state)
    assert state.candidates is not None
    plan = json.loads((live / "plan.json").read_text())
    cap = (plan["items"] - state.candidates.committed) // 4
    for arm, feeder in state.candidates.feeders.items():
        test: Any = feeder.paired_test
        assert feeder.decision is None
        assert test.design.alpha == pytest.approx(0.05 / 3)
        (expected,) = paired_remaining(
            test.design,
            wins=test.wins,
            losses=test.losses,
            ties=test.ties,
            state=running_state("both", dict(test.states)),
            cap_pairs=test.pairs + cap,
            distributions=[(test.losses / test.pairs, test.ties / test.pairs, test.wins / test.pairs)],
        )
        name = json.loads((live / "manifest.json").read_text())["arms"][arm]["experiment_id"]
        line = next(line for line in frame if line.startswith(f"expect   {arm} {name}: "))
        assert f": {expected.expected:,.0f}" in line
        assert f" more pairs ({expected.expected:,.0f}" in line
        assert f"; 95% within {expected.p95:,}; about " in line
    run_line = next(line for line in frame if line.startswith("expect   the run: "))
    assert "until the last decides" in run_line
    assert any(line.startswith("time     the run: about ") for line in frame)
    assert not any("not computed" in line for line in frame)

    # In the background (the live view), a frame that finds the forecast computing says so and does not wait.
    release = threading.Event()
    compute = watch_forecast._compute_paired

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=60)
        return compute(*args, **kwargs)

    monkeypatch.setattr(watch_forecast, "_compute_paired", slow)
    state.forecaster = Forecaster(background=True)
    computing = render_frame(state)
    assert any(line.startswith("expect   being computed (for ") for line in computing), computing
    assert "time     unknown until the forecast of the sessions is computed" in computing
    release.set()
    state.forecaster.wait()
    assert [line for line in render_frame(state) if line.startswith("expect")] == [
        line for line in frame if line.startswith("expect")
    ]
