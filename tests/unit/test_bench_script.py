"""Smoke tests of ``scripts/bench_overhead.py`` on tiny inputs.

They check that the benchmark's suites run, that its parsers and arithmetic give the exact values they should and
that its report has the expected structure. They never assert a timing: performance is measured by the script,
not asserted here (the machines are noisy).
"""

from __future__ import annotations

import cProfile
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_overhead.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_overhead", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


bench = _load_script()


def _timing(wall: float, cpu: float = 1.0, repeat: int = 0) -> Any:
    return bench.Timing(wall_s=wall, cpu_s=cpu, exit_code=0, passed=4, launched_at=0.0, finished_at=wall, repeat=repeat)


# -- the suites run and the measurements come back -----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_overhead(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    """One interleaved round of the baseline and the plugin command on 8 items (two real pytest processes).

    They run through the in-process timer (``pytest.main`` in a fresh interpreter), which also covers it.
    """
    scratch = tmp_path_factory.mktemp("bench")
    commands = bench.write_overhead_suite(scratch / "suite", items=8, trials=2)
    picked = {label: commands[label] for label in ("plain", "agentopt, marker")}
    env = bench.child_environment(None)
    results = bench.run_interleaved(picked, repeats=1, env=env, scratch=scratch / "runs", warmup=False, in_process=True)
    return results, commands


def test_it_runs_the_baseline_and_the_plugin_suite_with_every_item_passing(
    tiny_overhead: tuple[Any, dict[str, Any]],
) -> None:
    results, _ = tiny_overhead
    assert results.failures == []
    for label in ("plain", "agentopt, marker"):
        (timing,) = results.good(label)
        assert timing.exit_code == 0
        assert timing.passed == 8
        assert timing.cpu_s > 0
        assert 0 < timing.inner_s < timing.wall_s
        assert timing.inner_cpu_s > 0


def test_it_reads_the_plugin_run_phases_from_its_ledger(tiny_overhead: tuple[Any, dict[str, Any]]) -> None:
    results, _ = tiny_overhead
    (run,) = results.good("agentopt, marker")
    assert run.agent_dir is not None
    assert len(bench.ledger_records(run.agent_dir)) == 8
    phases = bench.run_timeline(run)
    assert phases.workers == 1
    # Ledger timestamps have millisecond resolution: allow that much either side of the process's lifetime.
    assert -0.002 <= phases.first_trial_s <= run.wall_s + 0.002
    assert phases.span_s >= 0


def test_it_builds_timing_and_ratio_tables_with_one_row_per_command(
    tiny_overhead: tuple[Any, dict[str, Any]],
) -> None:
    results, commands = tiny_overhead
    picked = {label: commands[label] for label in ("plain", "agentopt, marker")}
    table = bench.timing_table(results, picked)
    assert table[0].startswith("| run")
    assert [line.split("|")[1].strip() for line in table[2:]] == ["plain", "agentopt, marker"]
    found = bench.ratio(results.good("agentopt, marker"), results.good("plain"))
    assert found.per_repeat_low == found.per_repeat_high == found.of_medians == found.of_minima > 0


def test_it_writes_a_latency_suite_with_the_xdist_floor_last(tmp_path: Path) -> None:
    commands = bench.write_latency_suite(tmp_path, trials_total=8, trials=2, latency_s=0.1, workers=3)
    assert list(commands) == ["100 ms, -n 3", "100 ms, -n 0", "0 ms, -n 3", "0 ms, -n 0", "0 ms, -n 3, plugin off"]
    assert len(commands) == len(bench.LATENCY_ROLES)
    assert "time.sleep(0.1)" in (tmp_path / "test_latency.py").read_text()
    assert "time.sleep(0.0)" in (tmp_path / "test_zero_latency.py").read_text()
    floor = commands["0 ms, -n 3, plugin off"]
    assert "no:agentopt" in floor.args
    assert floor.agent_dir is None
    assert all(command.expected_passed == 8 for command in commands.values())


# -- pure functions: exact values -------------------------------------------------------------------------------


def test_it_rejects_an_item_count_that_is_not_whole_tasks() -> None:
    assert bench.tasks_for(2000, 10) == 100
    with pytest.raises(ValueError, match="not a whole number"):
        bench.tasks_for(2001, 10)


def test_it_reads_the_passed_count_from_pytests_summary_line() -> None:
    assert bench.parse_passed("....\n2000 passed in 2.74s\n") == 2000
    assert bench.parse_passed("..s\n2 passed, 1 skipped in 0.1s") == 2
    assert bench.parse_passed("F\n1 failed in 0.1s") == 0
    assert bench.parse_passed("no summary here") is None
    assert bench.parse_inner_elapsed(f"x\n{bench.ELAPSED_TAG}1.250000 0.500000\n") == (1.25, 0.5)
    assert bench.parse_inner_elapsed("2 passed in 0.1s") is None


def test_it_rotates_the_run_order_every_repeat() -> None:
    labels = ["a", "b", "c"]
    assert [bench.rotated(labels, repeat) for repeat in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]


def test_it_pairs_repeats_for_the_ratio_spread() -> None:
    plugin = [_timing(3.0, cpu=2.0, repeat=0), _timing(1.5, cpu=4.0, repeat=1), _timing(2.0, cpu=3.0, repeat=2)]
    plain = [_timing(2.0, cpu=1.0, repeat=0), _timing(1.0, cpu=2.0, repeat=1), _timing(2.0, cpu=3.0, repeat=2)]
    found = bench.ratio(plugin, plain)
    assert found.of_medians == pytest.approx(2.0 / 2.0)
    assert found.of_minima == pytest.approx(1.5 / 1.0)
    assert (found.per_repeat_low, found.per_repeat_high) == pytest.approx((1.0, 1.5))
    assert found.of_cpu_medians == pytest.approx(3.0 / 2.0)
    # A repeat that failed for one command is left out of the pairs instead of shifting them.
    shifted = bench.ratio([plugin[0], plugin[2]], [plain[1], plain[2]])
    assert (shifted.per_repeat_low, shifted.per_repeat_high) == pytest.approx((1.0, 1.0))
    assert bench.spread([3.0, 1.0, 2.0, 10.0]) == bench.Spread(2.5, 1.0, 10.0, 4)


def test_it_gives_a_verdict_only_when_every_estimate_agrees() -> None:
    def at_most(value: float) -> bool:
        return value <= 1.3

    assert bench.verdict([1.1, 1.2, None], at_most) == "PASS"
    assert bench.verdict([1.4, 1.5, 1.6], at_most) == "FAIL"
    assert bench.verdict([1.2, 1.5, 1.4], at_most) == "UNSETTLED"
    assert bench.verdict([None], at_most) == "UNSETTLED"
    noisy = bench.Ratio(of_medians=1.2, of_minima=1.7, per_repeat_low=1.0, per_repeat_high=1.8, of_cpu_medians=1.6)
    assert bench.overhead_verdict(noisy) == "UNSETTLED"


def test_it_splits_time_into_a_fixed_cost_and_a_cost_per_item() -> None:
    fixed, per_item = bench.fixed_and_per_item((200, 0.7), (2000, 2.5))
    assert per_item == pytest.approx(0.001)
    assert fixed == pytest.approx(0.5)
    with pytest.raises(ValueError, match="two different sizes"):
        bench.fixed_and_per_item((10, 1.0), (10, 2.0))


def test_it_reports_the_plugins_extra_cost_per_item_against_plain() -> None:
    # plain: 0.2 s + 1 ms/item; plugin: 0.5 s + 1.5 ms/item (CPU); wall is twice the CPU.
    cpu = {("plain", 100): 0.3, ("plain", 1000): 1.2, ("agentopt", 100): 0.65, ("agentopt", 1000): 2.0}
    wall = {key: 2 * value for key, value in cpu.items()}
    rows = bench.inprocess_rows(["plain", "agentopt", "missing"], wall, cpu, small=100, large=1000)
    assert rows == [
        ["plain", "2.400", "1.000", "1.200", "1.000", "200", "1000", "+0"],
        ["agentopt", "4.000", "1.667", "2.000", "1.667", "500", "1500", "+500"],
    ]
    assert bench.inprocess_rows(["plain"], wall, cpu, small=None, large=1000)[0][5:] == ["n/a", "n/a", "n/a"]


def test_it_finds_the_trial_count_where_the_speedup_reaches_the_target() -> None:
    # (1 + n * 0.1) / (3 + n * 0.0125) = 5  <=>  n * (0.1 - 0.0625) = 15 - 1  <=>  n = 373.33...
    needed = bench.break_even_trials(
        fixed_parallel=3.0, fixed_serial=1.0, per_trial_parallel=0.0125, per_trial_serial=0.1, target=5.0
    )
    assert needed == pytest.approx(14 / 0.0375)
    assert bench.break_even_trials(
        fixed_parallel=3.0, fixed_serial=1.0, per_trial_parallel=0.05, per_trial_serial=0.1, target=5.0
    ) == float("inf")
    assert (
        bench.break_even_trials(
            fixed_parallel=0.1, fixed_serial=1.0, per_trial_parallel=0.01, per_trial_serial=0.1, target=5.0
        )
        == 0.0
    )


def test_it_reads_module_self_times_from_importtime_output() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   pydantic.errors\n"
        "import time:       300 |        420 | pydantic\n"
        "import time:        50 |         50 | json\n"
        "unrelated line\n"
    )
    modules = bench.parse_importtime(stderr)
    assert modules == {"pydantic.errors": 120, "pydantic": 300, "json": 50}
    assert bench.extra_imports(modules, {"json": 40}) == [("pydantic", 2, 420)]


def test_it_buckets_profiled_functions_by_module() -> None:
    site = "/venv/lib/python3.11/site-packages"
    assert bench.profile_area("/repo/pytest_agentopt/items.py", "f") == "pytest_agentopt/items.py"
    assert bench.profile_area(f"{site}/_pytest/fixtures.py", "f") == "_pytest/fixtures.py"
    assert bench.profile_area(f"{site}/numpy/core/x.py", "f") == "numpy"
    assert bench.profile_area("/usr/lib/python3.11/json/encoder.py", "f") == "stdlib json"
    assert bench.profile_area("<frozen importlib._bootstrap>", "f") == "import machinery"
    assert bench.profile_area("~", "<built-in method builtins.exec>") == "builtin builtins.exec"
    assert (
        bench.profile_area("~", "<method 'write' of '_io.TextIOWrapper' objects>") == "builtin _io.TextIOWrapper.write"
    )


def test_it_reads_a_profile_and_lists_the_plugins_functions(tmp_path: Path) -> None:
    from pytest_agentopt.plan import trial_seed

    profiler = cProfile.Profile()
    profiler.runcall(lambda: [trial_seed(1, f"task-{index}", index) for index in range(5)])
    dump = tmp_path / "run.prof"
    profiler.dump_stats(str(dump))
    profile = bench.load_profile(dump)
    rows = bench.plugin_functions(profile, 50)
    assert any(
        where.startswith("plan.py:") and where.endswith(" trial_seed") and calls == 5 for where, calls, *_ in rows
    )
    areas = bench.time_by_area(profile)
    assert "pytest_agentopt/plan.py" in areas
    differences = bench.area_differences({"a": 3.0, "b": 1.0}, {"a": 1.0, "c": 0.5})
    assert differences == [("a", 3.0, 1.0), ("b", 1.0, 0.0), ("c", 0.0, 0.5)]


def test_it_splits_a_run_into_phases_from_ledger_timestamps() -> None:
    records = [
        {"worker": "gw0", "started_at": "2026-01-01T00:00:02.000Z", "finished_at": "2026-01-01T00:00:02.100Z"},
        {"worker": "gw1", "started_at": "2026-01-01T00:00:02.500Z", "finished_at": "2026-01-01T00:00:03.000Z"},
        {"worker": "gw0", "started_at": "2026-01-01T00:00:02.100Z", "finished_at": "2026-01-01T00:00:02.400Z"},
        {"worker": "gw1", "started_at": None, "finished_at": None},
    ]
    launched = bench._epoch("2026-01-01T00:00:00.000Z")
    phases = bench.timeline(records, launched_at=launched, finished_at=launched + 4.0)
    assert phases == bench.Timeline(
        first_trial_s=pytest.approx(2.0),
        all_workers_started_s=pytest.approx(2.5),
        span_s=pytest.approx(1.0),
        tail_s=pytest.approx(1.0),
        workers=2,
    )
    assert bench.timeline([], launched_at=0.0, finished_at=1.0) is None


def test_it_collects_the_verdicts_into_a_final_summary_and_a_docs_page() -> None:
    overhead = ["table", "overhead (agentopt, marker): PASS  ratio of medians 1.10"]
    latency = ["speed-up: FAIL  -n 8 4.00 s vs -n 0 17.00 s = 4.25x"]
    summary = bench.final_summary(overhead, latency)
    assert summary[0] == "## Summary"
    assert [line.strip() for line in summary[2:]] == [overhead[1], latency[0]]
    page = bench.render_markdown("python scripts/bench_overhead.py", ["- machine: x"], [*overhead, *latency], 90.0)
    for heading in ("# Performance of pytest-agentopt", "## What it measures", "## How to rerun", "## Latest output"):
        assert f"\n{heading}\n" in f"\n{page}"
    assert "took 1.5 min" in page
    assert "- machine: x" in page


def test_it_gives_children_a_private_bytecode_cache_and_no_pytest_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = bench.child_environment(tmp_path)
    assert "PYTEST_ADDOPTS" not in env
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path)
    assert bench.child_environment(None)["PYTHONDONTWRITEBYTECODE"] == "1"


def test_rewriting_the_page_keeps_the_memory_section() -> None:
    previous = (
        "# old page\n\nold figures\n\n<!-- bench_memory: start -->\n## Memory\n| a |\n<!-- bench_memory: end -->\n"
    )
    page = bench.keep_memory_section("# new page\n\nnew figures\n", previous)
    assert (
        page
        == "# new page\n\nnew figures\n\n<!-- bench_memory: start -->\n## Memory\n| a |\n<!-- bench_memory: end -->\n"
    )
    assert bench.keep_memory_section("# new page\n", "# old page without one\n") == "# new page\n"
