"""``agentopt replay``: recorded paired outcomes through the live sequential test, and its input errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pytest_agentopt.cli.main import main
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.run.stream_replay import ReplayInputError, read_stream, replay_stream
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

SETTINGS = SequentialSettings(alpha=0.05, beta=0.10, delta=0.15)


def _write_csv(path: Path, rows: list[tuple[str, int, str, str, float]]) -> Path:
    lines = ["task,trial,arm,outcome,cost"] + [f"{t},{k},{a},{o},{c}" for t, k, a, o, c in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stream(seed: int, pairs: int, p_control: float, p_test: float) -> list[tuple[str, int, str, str, float]]:
    rng = random.Random(seed)
    rows = []
    for index in range(pairs):
        task, trial = f"t{index % 7}", index // 7
        for arm, p in (("control", p_control), ("test", p_test)):
            rows.append((task, trial, arm, "success" if rng.random() < p else "failure", 0.01))
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_the_replay_decides_where_the_live_test_decides(tmp_path: Path, seed: int) -> None:
    rows = _stream(seed, 400, 0.5, 0.72)
    path = _write_csv(tmp_path / "log.csv", rows)
    design = design_for(0.05, 0.10, 0.15, "both")
    result = replay_stream(read_stream(path), SETTINGS, "both", design, open_ended=False)
    live = PairedSequentialTest(SETTINGS, "both", design)
    pair = 0
    for control, test in zip(rows[::2], rows[1::2], strict=True):
        live.add_pair(control[3] == "success", test[3] == "success")
        pair += 1
        if live.verdict is not None:
            break
    assert (result.verdict, result.pairs_used) == (live.verdict, pair)
    assert result.rows_used == 2 * pair
    assert result.cost_used == pytest.approx(0.02 * pair)


def test_the_end_of_the_file_is_the_cap_unless_open_ended(tmp_path: Path) -> None:
    rows = _stream(3, 30, 0.5, 0.5)
    path = _write_csv(tmp_path / "log.csv", rows)
    design = design_for(0.05, 0.10, 0.15, "both")
    closed = replay_stream(read_stream(path), SETTINGS, "both", design, open_ended=True)
    assert (closed.verdict, closed.pairs_used) == ("inconclusive", 30)
    live = PairedSequentialTest(SETTINGS, "both", design)
    for control, test in zip(rows[::2], rows[1::2], strict=True):
        live.add_pair(control[3] == "success", test[3] == "success")
    expected = live.conclude() or "inconclusive"
    capped = replay_stream(read_stream(path), SETTINGS, "both", design, open_ended=False)
    assert capped.verdict == expected
    assert capped.decided_at_cap is (expected != "inconclusive")


def test_seq_orders_the_rows_and_unscored_pairs_are_left_out(tmp_path: Path) -> None:
    lines = [
        {"task_id": "a", "trial": 1, "arm": "test", "outcome": "success", "seq": 3},
        {"task_id": "a", "trial": 0, "arm": "control", "outcome": "failure", "seq": 0},
        {"task_id": "a", "trial": 1, "arm": "control", "outcome": "infra_error", "seq": 2},
        {"task_id": "a", "trial": 0, "arm": "test", "outcome": True, "seq": 1},
        {"task_id": "b", "trial": 0, "arm": "test", "outcome": "success", "seq": 4},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    rows = read_stream(path)
    assert [row.seq for row in rows] == [0, 1, 2, 3, 4]
    result = replay_stream(rows, SETTINGS, "both", design_for(0.05, 0.1, 0.15, "both"), open_ended=True)
    assert (result.pairs, result.pairs_used, result.unpaired) == (1, 1, 1)
    assert result.cost_total is None  # no cost column: unknown, not zero


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("task,trial,arm\n", "line 1: no column 'outcome'"),
        ("trial,arm,outcome\n", "line 1: no column 'task' or 'task_id'"),
        (
            "task,trial,arm,outcome\na,0,ctrl,success\n",
            "line 2: field 'arm' is 'ctrl'; expected control, test, or a candidate arm",
        ),
        ("task,trial,arm,outcome\na,x,test,success\n", "line 2: field 'trial' is 'x'"),
        ("task,trial,arm,outcome\na,0,test,maybe\n", "line 2: field 'outcome' is 'maybe'"),
        ("task,trial,arm,outcome,cost\na,0,test,success,-1\n", "line 2: field 'cost' is '-1'"),
        ("task,trial,arm,outcome\na,0,test,success\na,0,test,failure\n", "line 3: task 'a' trial 0 arm test"),
        ("task,trial,arm,outcome\n,0,test,success\n", "line 2: field 'task' is missing"),
        ('{"task": "a", "trial": 0, "arm": "test", "outcome": "success"}\n{"task": \n', "line 2: not JSON"),
        ("", "empty"),
    ],
)
def test_bad_input_names_the_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReplayInputError, match=message.replace("(", r"\(")):
        read_stream(path)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agentopt: error: {path}")
    assert message in err


def test_the_command_prints_the_verdict_and_its_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_csv(tmp_path / "log.csv", _stream(1, 400, 0.5, 0.75))
    assert main(["replay", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["replay", str(path)]) == 0
    text = capsys.readouterr().out
    assert f"verdict  {shown['verdict']} after {shown['pairs_used']} pairs" in text
    assert (shown["settings"]["direction"], shown["boundaries"]) == ("both", "calibrated")
    assert main(["replay", str(path), "--direction", "worse", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] in ("not_worse", "worse", "inconclusive")
    assert main(["replay", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
