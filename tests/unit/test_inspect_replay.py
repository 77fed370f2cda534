"""``agentopt replay CONTROL_LOG TEST_LOG``: Inspect AI logs read, paired, scored, priced and replayed.

The hand-made logs follow Inspect AI's log schema (``inspect_ai.log``): an ``EvalLog`` has ``version``,
``status`` and ``eval`` (an ``EvalSpec``: ``eval_id``, ``task``, ``model``, ``dataset`` {``name``, ``samples``},
``config`` {``epochs``}); an ``EvalSample`` has ``id``, ``epoch``, ``scores`` (scorer name to a ``Score`` with
``value``), ``model_usage`` (model name to a ``ModelUsage``: ``input_tokens``, ``output_tokens``,
``total_tokens``, ``input_tokens_cache_read``, ``input_tokens_cache_write``, ``reasoning_tokens``,
``total_cost``) and ``error`` (an ``EvalError`` with ``message``). A ``.eval`` log is a zip with
``header.json`` (or, while the evaluation runs, ``_journal/start.json``) and one member
``samples/{id}_epoch_{epoch}.json`` per sample; a ``.json`` log is the whole ``EvalLog`` with its ``samples``.
``tests/unit/inspect_logs/`` holds two logs written by Inspect AI itself (zstandard members).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.cli.main import main
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.recording.inspect_trials import ScoreRule, pair_inspect_logs
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.run.stream_replay import read_stream, replay_stream
from pytest_agentopt.stats.sprt import SequentialSettings
from pytest_agentopt.storage.inspect_log import InspectLogError, looks_like_inspect_log, read_inspect_log

REAL_LOGS = Path(__file__).parent / "inspect_logs"
SETTINGS = SequentialSettings(alpha=0.05, beta=0.10, delta=0.15)


def _spec(model: str, *, task: str = "gsm", dataset: str | None = "gsm8k", eval_id: str = "") -> dict[str, Any]:
    return {
        "eval_id": eval_id or f"id-{model}",
        "run_id": "run",
        "created": "2026-01-01T00:00:00+00:00",
        "task": task,
        "task_id": "t",
        "dataset": {"name": dataset, "samples": 3},
        "model": model,
        "config": {"epochs": 2},
    }


def _sample(
    sample_id: int | str,
    epoch: int,
    value: Any = "C",
    *,
    scorer: str = "match",
    usage: dict[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    sample: dict[str, Any] = {
        "id": sample_id,
        "epoch": epoch,
        "input": "question",
        "target": "answer",
        "messages": [],
        "scores": None if value is None else {scorer: {"value": value, "answer": "a", "explanation": "e"}},
        "model_usage": usage or {},
        "total_time": 1.5,
    }
    if error is not None:
        sample["error"] = {"message": error, "traceback": "", "traceback_ansi": ""}
    return sample


def write_eval(
    path: Path,
    spec: dict[str, Any],
    samples: Sequence[dict[str, Any]],
    *,
    status: str = "success",
    journal_only: bool = False,
) -> Path:
    """A ``.eval`` log (deflate members, as Inspect wrote them before zstandard)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_journal/start.json", json.dumps({"version": 2, "eval": spec, "plan": {}}))
        for sample in samples:
            archive.writestr(f"samples/{sample['id']}_epoch_{sample['epoch']}.json", json.dumps(sample))
        if not journal_only:
            archive.writestr("header.json", json.dumps({"version": 2, "status": status, "eval": spec, "stats": {}}))
    return path


def write_json(path: Path, spec: dict[str, Any], samples: Sequence[dict[str, Any]], status: str = "success") -> Path:
    """A ``.json`` log, indented as Inspect writes it."""
    log = {"version": 2, "status": status, "eval": spec, "plan": {}, "results": None, "samples": list(samples)}
    path.write_text(json.dumps(log, indent=2), encoding="utf-8")
    return path


def _random_samples(seed: int, ids: int, epochs: int, p: float) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        _sample(i, e, "C" if rng.random() < p else "I", usage={"openai/gpt-4o": {"total_cost": 0.01}})
        for e in range(1, epochs + 1)
        for i in range(1, ids + 1)
    ]


def _replay(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["replay", *args, "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


# Reading the two formats ---------------------------------------------------------------------------------------


def test_logs_written_by_inspect_itself_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    control = read_inspect_log(REAL_LOGS / "arith_control.eval")
    test = read_inspect_log(REAL_LOGS / "arith_test.eval")
    assert (control.format, control.status, control.task, control.model) == (
        "eval",
        "success",
        "arith",
        "mockllm/model",
    )
    assert [(s.id, s.epoch) for s in control.samples] == [(1, 1), (2, 1), ("s3", 1), (1, 2), (2, 2), ("s3", 2)]
    assert [s.scores["exact"] for s in control.samples] == ["C", "I", "I"] * 2
    assert [s.scores["exact"] for s in test.samples] == ["C", "C", "P"] * 2
    result = _replay([str(REAL_LOGS / "arith_control.eval"), str(REAL_LOGS / "arith_test.eval")], capsys)
    assert (result["pairs"], result["inspect"]["scorer"], result["inspect"]["paired_samples"]) == (6, "exact", 6)
    assert (result["cost_total_usd"], result["inspect"]["samples_without_usage"]) == (None, 12)


def test_a_zstandard_log_needs_the_extra_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard raises ImportError
    monkeypatch.setattr(zipfile, "ZIP_ZSTANDARD", None, raising=False)  # as on Python < 3.14
    with pytest.raises(InspectLogError, match=r"arith_control\.eval: member .*pytest-agentopt\[inspect\]"):
        read_inspect_log(REAL_LOGS / "arith_control.eval")


def test_a_damaged_zstandard_member_is_refused(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.eval"
    shutil.copy(REAL_LOGS / "arith_control.eval", damaged)
    with zipfile.ZipFile(damaged) as archive:
        info = archive.getinfo("samples/2_epoch_1.json")
    data = bytearray(damaged.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(InspectLogError, match=r"damaged\.eval: not a readable \.eval log"):
        read_inspect_log(damaged)


def test_the_eval_and_json_formats_read_alike(tmp_path: Path) -> None:
    samples = [_sample(10, 1, "I"), _sample(2, 1), _sample("a", 1), _sample(2, 2, error="boom", value=None)]
    from_zip = read_inspect_log(write_eval(tmp_path / "log.eval", _spec("openai/gpt-4o"), samples))
    from_json = read_inspect_log(write_json(tmp_path / "log.json", _spec("openai/gpt-4o"), samples))
    assert (from_zip.format, from_json.format) == ("eval", "json")
    assert [(s.id, s.epoch, dict(s.scores), s.error) for s in from_zip.samples] == [
        (2, 1, {"match": "C"}, None),
        (10, 1, {"match": "I"}, None),  # numbers by value, before text ids, as Inspect orders them
        ("a", 1, {"match": "C"}, None),
        (2, 2, {}, "boom"),
    ]
    assert [(s.id, s.epoch, dict(s.scores), s.error) for s in from_json.samples] == [
        (s.id, s.epoch, dict(s.scores), s.error) for s in from_zip.samples
    ]
    assert (from_zip.task, from_zip.dataset, from_zip.epochs, from_zip.dataset_samples) == ("gsm", "gsm8k", 2, 3)
    assert looks_like_inspect_log(tmp_path / "log.eval")
    assert looks_like_inspect_log(tmp_path / "log.json")


def test_a_sample_written_twice_counts_once_the_last_one(tmp_path: Path) -> None:
    path = write_eval(tmp_path / "log.eval", _spec("m"), [_sample(1, 1, "I")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate name
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("samples/1_epoch_1.json", json.dumps(_sample(1, 1, "C")))
    assert [dict(s.scores) for s in read_inspect_log(path).samples] == [{"match": "C"}]
    twice = write_json(tmp_path / "log.json", _spec("m"), [_sample(1, 1, "I"), _sample(2, 1), _sample(1, 1, "C")])
    read = read_inspect_log(twice).samples
    assert [(s.id, dict(s.scores)) for s in read] == [(1, {"match": "C"}), (2, {"match": "C"})]


def test_a_chunked_sample_shell_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log.eval"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.json", json.dumps({"version": 2, "status": "success", "eval": _spec("m")}))
        archive.writestr("samples/7_epoch_1/sample.json", json.dumps(_sample(7, 1, "C")))
        archive.writestr("samples/7_epoch_1/events/0.json", json.dumps([{"event": "model"}]))
    assert [(s.id, s.epoch, s.where) for s in read_inspect_log(path).samples] == [
        (7, 1, "samples/7_epoch_1/sample.json")
    ]


# Pairing, outcomes and cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_two_logs_decide_where_the_same_pairs_as_a_csv_stream_decide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    control = _random_samples(seed, 30, 8, 0.5)
    test = _random_samples(seed + 100, 30, 8, 0.8)
    random.Random(seed).shuffle(test)  # the file's order is not the replay's: (epoch, id) is
    write_eval(tmp_path / "control.eval", _spec("openai/gpt-4o"), control)
    write_json(tmp_path / "test.json", _spec("anthropic/claude-sonnet-4-5"), test)
    by_key = {(s["id"], s["epoch"]): s for s in test}
    lines = ["task,trial,arm,outcome,cost"]
    for c in control:  # control is written in (epoch, id) order
        t = by_key[(c["id"], c["epoch"])]
        for arm, sample in (("control", c), ("test", t)):
            lines.append(f"{sample['id']},{sample['epoch']},{arm},{sample['scores']['match']['value'] == 'C'},0.01")
    (tmp_path / "same.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    design = design_for(0.05, 0.10, 0.15, "both")
    expected = replay_stream(read_stream(tmp_path / "same.csv"), SETTINGS, "both", design, open_ended=False)
    result = _replay([str(tmp_path / "control.eval"), str(tmp_path / "test.json")], capsys)
    assert expected.verdict != "inconclusive"  # the seeds make a stream that decides
    assert (result["verdict"], result["pairs_used"], result["rows_used"]) == (
        expected.verdict,
        expected.pairs_used,
        expected.rows_used,
    )
    assert result["llr"] == expected.llr
    assert result["cost_used_usd"] == pytest.approx(0.01 * expected.rows_used)


def test_only_samples_both_logs_have_are_paired_and_the_rest_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    control = [_sample(i, 1) for i in (1, 2, 3, 4, 5)] + [_sample(1, 2, value=None, error="sandbox died")]
    test = [_sample(i, 1, "I") for i in (1, 2, 3, 4, 6)] + [_sample(1, 2, "C"), _sample(9, 2, "C")]
    paths = [
        str(write_eval(tmp_path / "control.eval", _spec("m1"), control)),
        str(write_eval(tmp_path / "test.eval", _spec("m2"), test)),
    ]
    result = _replay([*paths, "--open-ended"], capsys)
    inspect = result["inspect"]
    assert (inspect["paired_samples"], inspect["only_control"], inspect["only_test"]) == (5, 1, 2)
    assert (inspect["unscored"], inspect["errors"]) == ({"control": 1, "test": 0}, {"control": 1, "test": 0})
    assert (result["pairs"], result["pairs_used"], result["rows"]) == (4, 4, 10)
    assert main(["replay", *paths, "--open-ended"]) == 0
    text = capsys.readouterr().out
    assert "pairs    5 samples in both logs" in text
    assert "1 only in the control log, 2 only in the test log (left out)" in text
    assert "unscored 1 control and 0 test samples have no 'match' score" in text
    assert "4 scored pairs remain" in text


def _outcomes(tmp_path: Path, values: Sequence[Any], rule: ScoreRule) -> list[str]:
    """The test arm's outcome for each score value (the control's sample is unscored: its pair is left out)."""
    control = read_inspect_log(write_json(tmp_path / "c.json", _spec("m1"), [_sample(1, 1, value=None)]))
    outcomes = []
    for value in values:
        test = read_inspect_log(write_json(tmp_path / "t.json", _spec("m2"), [_sample(1, 1, value)]))
        outcomes.append(pair_inspect_logs(control, test, rule).rows[1].outcome)
    return outcomes


def test_the_default_rule_passes_correct_and_fails_incorrect_partial_and_no_answer(tmp_path: Path) -> None:
    passing = ["C", "correct", "TRUE", "yes", "pass", True, 1, 1.0, "1"]
    failing = ["I", "P", "N", "incorrect", "partial", "false", "no", "fail", False, 0, 0.0, "0"]
    outcomes = _outcomes(tmp_path, passing + failing, ScoreRule())
    assert outcomes == ["success"] * len(passing) + ["failure"] * len(failing)


def test_pass_values_and_a_threshold_replace_the_default_rule(tmp_path: Path) -> None:
    assert _outcomes(tmp_path, ["C", "P", "I"], ScoreRule(pass_values=("C", "P"))) == ["success", "success", "failure"]
    assert _outcomes(tmp_path, ["B", "A", 2, "2.0"], ScoreRule(pass_values=("B", "2"))) == [
        "success",
        "failure",
        "success",
        "success",
    ]
    assert _outcomes(tmp_path, [0.7, 0.5, 0.49, "0.9"], ScoreRule(pass_threshold=0.5)) == [
        "success",
        "success",
        "failure",
        "success",
    ]


@pytest.mark.parametrize(
    ("value", "rule", "message"),
    [
        (0.7, ScoreRule(), r"is 0\.7; not a pass or a fail by the default rule .* --pass-threshold NUMBER"),
        ("B", ScoreRule(), r"is 'B'; not a pass or a fail by the default rule .* --pass-value VALUE"),
        (["C", "I"], ScoreRule(), r"a score with several values cannot decide a pair"),
        ({"a": "C"}, ScoreRule(), r"a score with several values cannot decide a pair"),
        ("C", ScoreRule(pass_threshold=0.5), r"is 'C'; --pass-threshold needs numeric scores"),
    ],
)
def test_a_score_no_rule_maps_names_the_file_sample_and_field(
    tmp_path: Path, value: Any, rule: ScoreRule, message: str
) -> None:
    with pytest.raises(AgentoptUsageError, match=r"t\.json: samples\[0\]: field 'scores\.match\.value' .*" + message):
        _outcomes(tmp_path, [value], rule)


def test_the_scorer_is_the_only_one_or_the_named_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two = [_sample(1, 1, "C") | {"scores": {"match": {"value": "C"}, "f1": {"value": 0.4}}}]
    paths = [
        str(write_json(tmp_path / "c.json", _spec("m1"), two)),
        str(write_json(tmp_path / "t.json", _spec("m2"), [_sample(1, 1, "I")])),
    ]
    assert main(["replay", *paths]) == 2
    assert "several scorers ('match', 'f1'); choose the one that decides with --score NAME" in capsys.readouterr().err
    assert main(["replay", *paths, "--score", "exact"]) == 2
    assert "--score exact: no sample of" in capsys.readouterr().err
    result = _replay([*paths, "--score", "f1", "--pass-threshold", "0.3"], capsys)
    assert result["inspect"]["unscored"] == {"control": 0, "test": 1}  # the test sample has no f1 score
    assert main(["replay", *paths, "--score", "match", "--pass-value", "C", "--pass-threshold", "1"]) == 2
    assert "give one rule, not both" in capsys.readouterr().err


def test_the_cost_is_inspects_total_cost_or_the_tokens_priced(tmp_path: Path) -> None:
    from genai_prices import Usage, calc_price

    usage = {
        "openai/gpt-4o": {
            "input_tokens": 1000,
            "output_tokens": 200,
            "total_tokens": 1700,
            "input_tokens_cache_read": 500,
            "reasoning_tokens": None,
        },
        "anthropic/claude-x": {"input_tokens": 9, "output_tokens": 9, "total_cost": 0.25},
    }
    control = read_inspect_log(write_json(tmp_path / "c.json", _spec("m1"), [_sample(1, 1, usage=usage)]))
    unknown = {"mockllm/model": {"input_tokens": 5, "output_tokens": 5}}
    test = read_inspect_log(write_json(tmp_path / "t.json", _spec("m2"), [_sample(1, 1, usage=unknown)]))
    pairing = pair_inspect_logs(control, test, ScoreRule())
    # Inspect's input_tokens leave cached tokens out; genai-prices takes the whole input, cache reads included.
    priced = calc_price(
        Usage(input_tokens=1500, cache_read_tokens=500, output_tokens=200), "gpt-4o", provider_id="openai"
    )
    assert pairing.rows[0].cost == pytest.approx(float(priced.total_price) + 0.25)
    assert pairing.rows[1].cost is None  # a model nothing prices: unknown, never 0
    assert pairing.unpriced == ["mockllm/model"]
    assert "Inspect's total_cost" in pairing.cost_sources
    assert any(source.startswith("genai-prices ") for source in pairing.cost_sources)


def test_an_unfinished_log_is_replayed_open_ended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = [_sample(i, 1) for i in range(1, 4)]
    paths = [
        str(write_eval(tmp_path / "control.eval", _spec("m1"), samples, journal_only=True)),
        str(write_eval(tmp_path / "test.eval", _spec("m2"), samples, status="cancelled")),
    ]
    result = _replay(paths, capsys)
    assert result["settings"]["open_ended"] is True
    assert (result["inspect"]["logs"]["control"]["status"], result["verdict"]) == ("started", "inconclusive")
    assert main(["replay", *paths]) == 0
    assert (
        "note     the control log's status is 'started' and the test log's status is 'cancelled' (not a finished "
        "evaluation): replayed open-ended, no last look"
    ) in capsys.readouterr().out


# Errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("control_spec", "test_spec", "message"),
    [
        (_spec("m1", task="gsm"), _spec("m2", task="math"), "evaluate different tasks (field eval.task: 'gsm' and"),
        (_spec("m1", dataset="a"), _spec("m2", dataset="b"), "use different datasets (field eval.dataset.name: 'a'"),
        (_spec("m1", eval_id="x"), _spec("m2", eval_id="x"), "are the same evaluation (field eval.eval_id 'x')"),
    ],
)
def test_logs_that_cannot_be_paired_are_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    control_spec: dict[str, Any],
    test_spec: dict[str, Any],
    message: str,
) -> None:
    control = write_eval(tmp_path / "control.eval", control_spec, [_sample(1, 1)])
    test = write_json(tmp_path / "test.json", test_spec, [_sample(1, 1)])
    assert main(["replay", str(control), str(test)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agentopt: error: {control} and {test} ")
    assert message in err


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


HEADER = json.dumps({"version": 2, "status": "success", "eval": _spec("m")})


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.eval", b"PK\x03\x04 truncated", "bad.eval: not a readable .eval log (zip:"),
        ("bad.json", b'{"version": 2,\n "eval": ', "bad.json: neither a .eval log (zip) nor a .json log (JSON:"),
        ("bad.json", b'{\n"version": 2}', "bad.json: a JSON document without an 'eval' object"),
        ("bad.eval", {"other.json": "{}"}, "bad.eval: a zip without header.json or _journal/start.json"),
        ("bad.eval", {"header.json": "[1]"}, "bad.eval: member header.json: expected a JSON object, got list"),
        ("bad.eval", {"header.json": HEADER, "samples/1_epoch_1.json": "{"}, "member samples/1_epoch_1.json: not JSON"),
        (
            "bad.eval",
            {"header.json": HEADER, "samples/1_epoch_1.json": json.dumps(_sample(1, 0))},
            "bad.eval: samples/1_epoch_1.json: field 'epoch' is 0; expected a whole number >= 1",
        ),
        (
            "bad.eval",
            {"header.json": HEADER, "samples/1_epoch_1.json": json.dumps(_sample(True, 1))},
            "field 'id' is True; expected a sample id",
        ),
        (
            "bad.eval",
            {"header.json": json.dumps({"version": 2, "eval": _spec("m") | {"task": 3}})},
            "bad.eval: header.json: field 'eval.task' is 3; expected text",
        ),
        (
            "bad.json",
            json.dumps({"eval": _spec("m"), "samples": [_sample(1, 1) | {"scores": ["C"]}]}).encode(),
            "bad.json: samples[0]: field 'scores' is a list; expected an object of scores",
        ),
        (
            "bad.json",
            json.dumps({"eval": _spec("m"), "samples": [_sample(1, 1, usage={"m": {"input_tokens": -1}})]}).encode(),
            "bad.json: samples[0]: field 'model_usage.m.input_tokens' is -1; expected a token count >= 0",
        ),
        (
            "bad.json",
            json.dumps({"eval": _spec("m"), "samples": [_sample(1, 1, usage={"m": {"total_cost": "x"}})]}).encode(),
            "field 'model_usage.m.total_cost' is 'x'; expected dollars >= 0",
        ),
    ],
)
def test_a_bad_log_names_the_file_member_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | dict[str, str], message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, dict):
        _zip(path, content)
    else:
        path.write_bytes(content)
    good = write_json(tmp_path / "good.json", _spec("other"), [_sample(1, 1)])
    with pytest.raises(InspectLogError) as raised:
        read_inspect_log(path)
    assert message in str(raised.value)
    assert main(["replay", str(good), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agentopt: error: {path}")
    assert message in err


def test_logs_without_scores_or_with_the_wrong_number_of_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unscored = write_json(tmp_path / "c.json", _spec("m1"), [_sample(1, 1, value=None)])
    other = write_json(tmp_path / "t.json", _spec("m2"), [])
    assert main(["replay", str(unscored), str(other)]) == 2
    assert "no sample has a score (field 'scores')" in capsys.readouterr().err
    assert main(["replay", str(unscored)]) == 2
    assert "c.json: an Inspect AI log; a replay pairs two, the control's and the test's" in capsys.readouterr().err
    assert main(["replay", str(unscored), str(other), str(other)]) == 2
    assert "3 files given" in capsys.readouterr().err
    csv = tmp_path / "trials.csv"
    csv.write_text("task,trial,arm,outcome\na,0,control,success\na,0,test,failure\n", encoding="utf-8")
    assert main(["replay", str(csv), "--score", "match"]) == 2
    assert "--score: applies to Inspect AI logs (CONTROL_LOG TEST_LOG), not to" in capsys.readouterr().err
    assert not looks_like_inspect_log(csv)
    pretty = tmp_path / "rows.json"
    pretty.write_text('{\n  "task": "a"\n}\n', encoding="utf-8")
    assert not looks_like_inspect_log(pretty)  # an indented JSON document, but no Inspect log


def test_the_command_replays_two_logs_end_to_end(tmp_path: Path) -> None:
    """The installed command as a user runs it: a separate process, its text output and its exit status."""
    control = write_eval(tmp_path / "control.eval", _spec("openai/gpt-4o"), _random_samples(1, 30, 8, 0.5))
    test = write_json(tmp_path / "test.json", _spec("openai/gpt-4o-mini"), _random_samples(2, 30, 8, 0.85))
    done = subprocess.run(
        [sys.executable, "-m", "pytest_agentopt.cli.main", "replay", str(control), str(test)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0] == "replay   Inspect AI logs of task 'gsm'"
    assert lines[1] == f"logs     control {control} (eval, model openai/gpt-4o, 240 samples, status success)"
    assert lines[2] == f"         test {test} (json, model openai/gpt-4o-mini, 240 samples, status success)"
    assert any(line.startswith("verdict  better after ") for line in lines)
    assert any(line.startswith("cost     $") for line in lines)
    assert "         from Inspect's total_cost" in lines


# Damaged logs never end in a traceback ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_offset", "value"),
    [(8, b"\x01\x00"), (10, b"\x63\x00")],  # the flags say "encrypted"; an unknown compression method (99)
    ids=["encrypted", "unknown-method"],
)
def test_a_member_zipfile_cannot_open_is_refused_naming_the_file(
    tmp_path: Path, field_offset: int, value: bytes
) -> None:
    path = write_eval(tmp_path / "log.eval", _spec("m"), [_sample(1, 1)])
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)  # the sample's central directory entry
    data[entry + field_offset : entry + field_offset + 2] = value
    path.write_bytes(bytes(data))
    with pytest.raises(InspectLogError, match=r"log\.eval: not a readable \.eval log \(zip: "):
        read_inspect_log(path)


def _mutated_document(document: Any, rng: random.Random) -> Any:
    """``document`` with one value somewhere replaced by a value of another type."""
    replacements: list[Any] = [None, -1, "x", [], {}, 1.5, True, float("nan"), {"value": []}, ["C"]]
    if isinstance(document, dict) and document and rng.random() < 0.8:
        key = rng.choice(sorted(document, key=str))
        return document | {key: _mutated_document(document[key], rng)}
    if isinstance(document, list) and document and rng.random() < 0.8:
        index = rng.randrange(len(document))
        return [*document[:index], _mutated_document(document[index], rng), *document[index + 1 :]]
    return rng.choice(replacements)


@pytest.mark.parametrize("seed", range(3))
def test_mutated_logs_are_replayed_or_refused_never_a_traceback(tmp_path: Path, seed: int) -> None:
    """What ``agentopt replay`` runs, without the command line (whose usage errors exit 2, tested above)."""
    rng = random.Random(seed)
    usage = {"openai/gpt-4o": {"input_tokens": 10, "output_tokens": 5, "input_tokens_cache_read": 2}}
    samples = [_sample(i, e, rng.choice(["C", "I", "P"]), usage=usage) for e in (1, 2) for i in (1, 2, "z")]
    good = read_inspect_log(write_json(tmp_path / "good.json", _spec("openai/gpt-4o"), samples))
    document = json.loads((tmp_path / "good.json").read_text(encoding="utf-8"))
    document["eval"] = _spec("anthropic/claude-sonnet-4-5")
    eval_bytes = write_eval(tmp_path / "log.eval", _spec("openai/gpt-4o-mini"), samples).read_bytes()
    design = design_for(0.05, 0.10, 0.15, "both")
    refused = 0
    for case in range(60):
        mutated = tmp_path / f"case-{case}"
        if case % 2:
            mutated.write_text(json.dumps(_mutated_document(document, rng)), encoding="utf-8")
        else:
            data = bytearray(eval_bytes)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            mutated.write_bytes(bytes(data))
        problem = ""
        try:
            pairing = pair_inspect_logs(good, read_inspect_log(mutated), ScoreRule())
        except (InspectLogError, AgentoptUsageError) as exc:
            problem = str(exc)
        else:
            replay_stream(pairing.rows, SETTINGS, "both", design, open_ended=False)
        if problem:
            refused += 1
            assert str(mutated) in problem
    assert refused > 0
