"""``scripts/bench_memory.py``'s parsing and its docs block, on hand-made inputs (it measures nothing here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_memory.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_memory", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_script()


def test_the_probe_lines_give_the_largest_peak_per_role(tmp_path: Path) -> None:
    probe = tmp_path / "probe.jsonl"
    lines = [
        {"role": "controller", "pid": 1, "peak_kb": 102400},
        {"role": "worker", "pid": 2, "peak_kb": 51200},
        {"role": "worker", "pid": 3, "peak_kb": 76800},
    ]
    probe.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert bench.read_probe(probe) == {"controller": 100.0, "worker": 75.0}
    assert bench.read_probe(tmp_path / "absent.jsonl") == {}


def test_trials_run_are_read_from_pytest_s_last_line() -> None:
    output = "....\n===== 32 passed, 196 skipped, 11 agent_failed, 1 worker_crash in 7.34s =====\n"
    assert bench.trials_run(output) == 44
    assert bench.trials_run("no summary") == 0


def test_the_docs_block_is_replaced_in_place_or_appended() -> None:
    block = bench.render_doc_block("python scripts/bench_memory.py", 12.0, ["- date: x"], ["| a |"])
    assert block.startswith(bench.DOC_START)
    assert block.endswith(bench.DOC_END)
    page = "# Performance\n\nintro\n"
    once = bench.replace_doc_block(page, block)
    assert once == page.rstrip("\n") + "\n\n" + block + "\n"
    newer = block.replace("| a |", "| b |")
    assert bench.replace_doc_block(once, newer) == page.rstrip("\n") + "\n\n" + newer + "\n"


def test_an_earlier_run_s_output_is_shown_for_comparison(tmp_path: Path) -> None:
    earlier = tmp_path / "before.txt"
    earlier.write_text(
        "noise\nCommand: python scripts/bench_memory.py (took 9 s)\n- date: x\n\n| a | 1 |\nmore noise\n"
    )
    assert bench.compared_lines(earlier) == [
        "### Compared with an earlier run (`before.txt`)",
        "",
        "Command: python scripts/bench_memory.py (took 9 s)",
        "- date: x",
        "",  # a Markdown table needs a blank line before it
        "| a | 1 |",
    ]


def test_a_saved_output_is_read_back_for_the_docs() -> None:
    printed = "\n".join(
        [
            "Command: python scripts/bench_memory.py --only cap (took 61 s)",
            "- date: x",
            "- load average (1, 5, 15 min) at the start: 1.00, 1.00, 1.00",
            "",
            "| scenario | wall s |",
            "| a | 1.0 |",
            "",
            "Commands (in each scenario's directory):",
            "",
            "### Compared with an earlier run (`before.txt`)",
            "| old |",
        ]
    )
    command, duration, machine, body = bench.parse_saved_output(printed)
    assert command == "python scripts/bench_memory.py --only cap"
    assert duration == 61.0
    assert machine == ["- date: x", "- load average (1, 5, 15 min) at the start: 1.00, 1.00, 1.00"]
    assert body == ["| scenario | wall s |", "| a | 1.0 |", "", "Commands (in each scenario's directory):"]
