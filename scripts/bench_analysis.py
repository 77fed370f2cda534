"""Benchmark of the analysis over a ledger of 1,000,000 trials (targets: < 10 s and < 1.5 GB).

    python scripts/bench_analysis.py                 # generate 1,000,000 trials in a temporary folder, measure
    python scripts/bench_analysis.py --trials 100000 # smaller
    python scripts/bench_analysis.py --write-docs    # also put the output into docs/analysis.md
    python scripts/bench_analysis.py --engines       # also time polars, duckdb and pyarrow, where installed

What it does:

1. **Generates** an agent directory with ``--runs`` runs (A/B runs and single-config runs over 12 configs of
   different models, 40 tasks of four kinds), each with a manifest, a summary and a ledger whose lines have the
   exact shape the plugin writes (compact JSON, every field; failures carry messages with ids and numbers).
   Success depends on the config and the task, failures take more steps and tokens, cost follows each model's
   price, so the figures look like a real history.
2. **Measures in a fresh process** (so that generating does not count): ``load_trials`` + ``config_table`` +
   ``pareto_front`` (1000 bootstrap resamples), each timed, and the peak resident memory of that process
   (``resource.getrusage``) and of the worker processes that decode blocks in parallel, if any.
3. **Times** ``agentopt pareto --json`` as a subprocess (the command a user runs), with its peak memory.
4. With ``--engines``, **times the engines** the loader could be built on instead (polars, duckdb, pyarrow; each
   one that is importable), each in a fresh process: reading the same ledgers into columns of the fields
   ``load_trials(columns=CONFIG_COLUMNS)`` decodes. That is only the parsing: the counting rule, replays, the
   categorical table and the report of torn lines would come on top.

Peak memory of worker processes: forked workers share pages with the main process, so "main + workers x peak"
is an upper bound of the total, which is what is compared with the target.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "analysis.md"
TARGET_SECONDS = 10.0
TARGET_MB = 1536.0
DOCS_START = "<!-- bench_analysis:start -->"
DOCS_END = "<!-- bench_analysis:end -->"

# (experiment id, parent, model, ability on the logit scale, $ per million input tokens, $ per million output)
CONFIGS: tuple[tuple[str, str | None, str, float, float, float], ...] = (
    ("baseline", None, "gpt-4.1-mini", 0.0, 0.40, 1.60),
    ("exp_101", "baseline", "gpt-4.1-mini", 0.3, 0.40, 1.60),
    ("exp_102", "exp_101", "gpt-4.1-mini", 0.6, 0.40, 1.60),
    ("exp_103", "exp_102", "gpt-4.1-nano", -0.4, 0.10, 0.40),
    ("exp_104", "exp_102", "gpt-5-mini", 1.1, 0.25, 2.00),
    ("exp_105", "exp_102", "gpt-5", 1.6, 1.25, 10.00),
    ("exp_106", "exp_102", "claude-sonnet-4-5", 1.4, 3.00, 15.00),
    ("exp_107", "exp_104", "gpt-5-mini", 1.3, 0.25, 2.00),
    ("exp_108", "exp_107", "gpt-5-mini", 1.2, 0.25, 2.00),
    ("exp_109", "exp_105", "gpt-5", 1.8, 1.25, 10.00),
    ("exp_110", "exp_103", "gpt-4.1-nano", -0.1, 0.10, 0.40),
    ("exp_111", "exp_106", "claude-haiku-4-5", 0.7, 1.00, 5.00),
)
GUIDELINES = {
    "exp_101": "Before the final answer, verify the checkout result.",
    "exp_102": "Check coupon limits first",
    "exp_107": "Re-read the basket before paying.",
    "exp_109": "Compare every coupon before applying one.",
    "exp_110": "Refuse when an item is out of stock.",
}
KINDS = (("trivial", 3.0), ("discriminative", 0.0), ("challenging", -2.5), ("impossible", -0.5))
FAILURE_TEMPLATES = (
    "wrong items: bought {sku} x{a}; expected {sku2} x{b}",
    "wrong coupon on order ord_{hex}: used SAVE{a}, expected TENOFF",
    "total ${a}.{b:02d} exceeds the budget of ${c}",
    "placed an order although the task is impossible",
    "basket still holds {a} items after checkout of order ord_{hex}",
)
ERROR_TEMPLATES = (("KeyError", "'{sku}'"), ("ValueError", "invalid quantity {a} for {sku}"))


@dataclass(frozen=True)
class Config:
    experiment_id: str
    parent: str | None
    model: str
    ability: float
    price_in: float
    price_out: float
    config_hash: str
    guidelines: tuple[str, ...]


def _configs() -> list[Config]:
    guidelines: dict[str, tuple[str, ...]] = {}
    configs: list[Config] = []
    for experiment_id, parent, model, ability, price_in, price_out in CONFIGS:
        inherited = guidelines.get(parent, ()) if parent else ()
        own = (GUIDELINES[experiment_id],) if experiment_id in GUIDELINES else ()
        guidelines[experiment_id] = (*inherited, *own)
        digest = hashlib.sha256(_json([model, guidelines[experiment_id]]).encode()).hexdigest()[:16]
        configs.append(
            Config(experiment_id, parent, model, ability, price_in, price_out, digest, guidelines[experiment_id])
        )
    return configs


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _manifest(run_id: str, created: str, arms: dict[str, Config], seed: int, trials: int) -> dict[str, Any]:
    from pytest_agentopt.configs.model import text_hash

    components = {text_hash(text): text for config in arms.values() for text in config.guidelines}
    return {
        "schema": 1,
        "run_id": run_id,
        "created_at": created,
        "experiment_id": arms["test"].experiment_id,
        "control_experiment_id": arms["control"].experiment_id if "control" in arms else None,
        "arms": {
            arm: {
                "experiment_id": config.experiment_id,
                "config_hash": config.config_hash,
                "source": f"configs/{config.experiment_id}.json",
                "config": {
                    "experiment_id": config.experiment_id,
                    "parent": config.parent,
                    "model_id": config.model,
                    "provider": "openai",
                    "guidelines": list(config.guidelines),
                    "system_prompt": [],
                    "temperature": 0.3,
                    "max_steps": 20,
                    "params": {},
                    "prices": {},
                },
                "prompt_components": sorted(text_hash(text) for text in config.guidelines),
            }
            for arm, config in arms.items()
        },
        "overrides": [],
        "prompt_components": components,
        "run": {
            "seed": seed,
            "trials": trials,
            "arms": list(arms),
            "sprt": False,
            "alpha": 0.05,
            "beta": 0.1,
            "effect": 0.15,
            "target": None,
            "direction": "both",
        },
        "options": {},
        "versions": {},
        "git_commit": None,
        "resumes": [],
    }


def _run_lines(
    run_id: str, arms: dict[str, Config], trials_per_task: int, tasks: list[tuple[str, str, int, float]], seed: int
) -> list[str]:
    """The ledger of one run: trial-major rounds, tasks shuffled per round, both arms of a pair adjacent."""
    rng = np.random.default_rng(seed)
    arm_names = list(arms)
    count = trials_per_task * len(tasks) * len(arm_names)
    task_index = np.concatenate([rng.permutation(len(tasks)) for _ in range(trials_per_task)]).repeat(len(arm_names))
    arm_index = np.tile(np.arange(len(arm_names)), count // len(arm_names))
    trial = np.arange(count) // (len(tasks) * len(arm_names))
    difficulty = np.array([task[3] for task in tasks])[task_index]
    ability = np.array([arms[name].ability for name in arm_names])[arm_index]
    p_success = 1.0 / (1.0 + np.exp(-(ability + difficulty)))
    draw = rng.random(count)
    outcome = np.where(draw < p_success, 0, np.where(rng.random(count) < 0.9, 1, 2))
    outcome = np.where(rng.random(count) < 0.01, 3, outcome)  # infrastructure errors
    optimal = np.array([task[2] for task in tasks])[task_index]
    steps = optimal + rng.poisson(np.where(outcome == 0, 0.5, 4.0))
    input_tokens = (steps * rng.integers(600, 1400, count)).astype(np.int64)
    output_tokens = (steps * rng.integers(40, 160, count)).astype(np.int64)
    cache_read = (input_tokens * rng.uniform(0.0, 0.7, count)).astype(np.int64)
    price_in = np.array([arms[name].price_in for name in arm_names])[arm_index]
    price_out = np.array([arms[name].price_out for name in arm_names])[arm_index]
    cost = np.round((input_tokens * price_in + output_tokens * price_out) / 1e6, 8)
    latency = np.round(rng.lognormal(np.log(8.0), 0.6, count) * np.where(outcome == 0, 1.0, 1.8), 6)
    started = np.datetime64(datetime.strptime(run_id[:15], "%Y%m%d-%H%M%S"), "ms") + (np.arange(count) * 700)
    finished = started + (latency * 1000).astype(np.int64)
    started_text = np.datetime_as_string(started, unit="ms").tolist()
    finished_text = np.datetime_as_string(finished, unit="ms").tolist()
    seeds = rng.integers(0, 2**31, count // len(arm_names)).repeat(len(arm_names))
    numbers = rng.integers(1, 100, size=(count, 3))
    skus = rng.integers(1000, 9999, size=(count, 2))
    arm_parts = [
        (
            _json(name),
            _json(config.experiment_id),
            _json(config.config_hash),
            _json(config.model),
        )
        for name, config in arms.items()
    ]
    task_parts = [(_json(task_id), _json(code), _json(code.split("_")[0])) for task_id, code, _, _ in tasks]
    # Plain Python numbers format as JSON does (numpy 2 scalars print as np.float64(...)).
    optimal_list, trial_list, seed_list, outcome_list = (
        optimal.tolist(),
        trial.tolist(),
        seeds.tolist(),
        outcome.tolist(),
    )
    input_list, output_list, cache_list = input_tokens.tolist(), output_tokens.tolist(), cache_read.tolist()
    cost_list, latency_list, steps_list = cost.tolist(), latency.tolist(), steps.tolist()
    arm_list, task_list, number_rows, sku_rows = (
        arm_index.tolist(),
        task_index.tolist(),
        numbers.tolist(),
        skus.tolist(),
    )
    lines: list[str] = []
    run_json = _json(run_id)
    outcome_names = ('"success"', '"failure"', '"error"', '"infra_error"')
    for i in range(count):
        arm_json, experiment_json, hash_json, model_json = arm_parts[arm_list[i]]
        task_json, code_json, category_json = task_parts[task_list[i]]
        kind = outcome_list[i]
        a, b, c = number_rows[i]
        sku, sku2 = f"SKU-{sku_rows[i][0]}", f"SKU-{sku_rows[i][1]}"
        if kind == 0:
            error_type, message = "null", "null"
        elif kind == 1:
            template = FAILURE_TEMPLATES[(task_list[i] + a) % len(FAILURE_TEMPLATES)]
            error_type = '"AssertionError"'
            message = _json(template.format(sku=sku, sku2=sku2, a=a, b=b, c=c, hex=f"{seed_list[i]:08x}"))
        elif kind == 2:
            name, template = ERROR_TEMPLATES[a % len(ERROR_TEMPLATES)]
            error_type, message = _json(name), _json(template.format(sku=sku, a=a))
        else:
            error_type, message = '"openai.RateLimitError"', '"Error code: 429 - rate limit exceeded"'
        impossible = "true" if tasks[task_list[i]][1].startswith("impossible") else "false"
        claimed = "true" if kind == 0 or (kind == 1 and a % 2 == 0) else "false"
        lines.append(
            f'{{"schema":1,"run_id":{run_json},"experiment_id":{experiment_json},"arm":{arm_json},'
            f'"config_hash":{hash_json},"task_id":{task_json},"task_code":{code_json},"category":{category_json},'
            f'"optimal_steps":{optimal_list[i]},"impossible":{impossible},"trial":{trial_list[i]},"seq":{i},'
            f'"seed":{seed_list[i]},"outcome":{outcome_names[kind]},"error_type":{error_type},"message":{message},'
            f'"tokens":{{"input":{input_list[i]},"output":{output_list[i]},"cache_read":{cache_list[i]},'
            f'"cache_write":0,"reasoning":0}},"model":{model_json},"cost_usd":{cost_list[i]!r},'
            f'"price_source":"genai-prices 0.2.3","latency_s":{latency_list[i]!r},"steps":{steps_list[i]},'
            f'"tool_calls":{steps_list[i] - 1},"metrics":{{"claimed_done":{claimed},"refused":false}},"attempts":1,'
            f'"worker":"gw{i % 8}","started_at":"{started_text[i]}Z","finished_at":"{finished_text[i]}Z",'
            '"after_decision":false}'
        )
    return lines


def _tasks() -> list[tuple[str, str, int, float]]:
    tasks = []
    for number in range(40):
        kind, base = KINDS[number % len(KINDS)]
        code = f"{kind}_{number:02d}"
        tasks.append((f"benchmarks/test_store_tasks.py::test_store_task[{code}]", code, 4 + number % 9, base))
    return tasks


def generate(agent_dir: Path, trials: int, runs: int, seed: int = 7) -> int:
    """Write ``runs`` runs with about ``trials`` trials in total; returns the number of trials written."""
    from pytest_agentopt.storage.ledger import write_json_atomic

    configs = _configs()
    by_id = {config.experiment_id: config for config in configs}
    tasks = _tasks()
    rng = np.random.default_rng(seed)
    written = 0
    for number in range(runs):
        test = configs[(number % (len(configs) - 1)) + 1]
        paired = number % 4 != 3
        arms = {"control": by_id[test.parent or "baseline"], "test": test} if paired else {"test": test}
        per_task = max(1, round(trials / runs / len(tasks) / len(arms)))
        created = datetime(2026, 10, 1, 9, 0, tzinfo=UTC).timestamp() + number * 86400
        stamp = datetime.fromtimestamp(created, UTC)
        run_id = f"{stamp:%Y%m%d-%H%M%S}-{test.experiment_id}-{number:04x}"
        directory = agent_dir / "runs" / run_id
        directory.mkdir(parents=True)
        created_text = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines = _run_lines(run_id, arms, per_task, tasks, int(rng.integers(2**31)))
        (directory / "trials.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_json_atomic(directory / "manifest.json", _manifest(run_id, created_text, arms, number, per_task))
        verdict = ("better", "no_difference", "worse", "inconclusive")[number % 4] if paired else None
        write_json_atomic(
            directory / "summary.json",
            {"schema": 1, "run_id": run_id, "verdict": verdict, "verdict_reason": "generated", "decided_by": "fixed"},
        )
        written += len(lines)
    return written


# ---------------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------------


def _peak_mb(who: int) -> float:
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(who).ru_maxrss / scale


def measure(agent_dir: Path, bootstrap: int, every_column: bool) -> dict[str, Any]:
    """Load + config table + Pareto front in this process; timings and peak memory."""
    started = time.perf_counter()
    from pytest_agentopt.analysis import CONFIG_COLUMNS, config_table, load_trials, pareto_front
    from pytest_agentopt.analysis.decode import json_decoder_name
    from pytest_agentopt.analysis.loading import ledger_files

    imported = time.perf_counter()
    table = load_trials(agent_dir, columns=None if every_column else CONFIG_COLUMNS)
    loaded = time.perf_counter()
    rows = config_table(table, bootstrap=bootstrap)
    tabled = time.perf_counter()
    front = pareto_front(table, bootstrap=bootstrap)
    done = time.perf_counter()
    size = sum(path.stat().st_size for path in ledger_files(agent_dir))
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_s": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
        "trials": len(table),
        "runs": len(table.runs),
        "configs": len(rows),
        "ledger_mb": size / 2**20,
        "problems": len(table.problems),
        "import_s": imported - started,
        "load_s": loaded - imported,
        "config_table_s": tabled - loaded,
        "pareto_s": done - tabled,
        "total_s": done - started,
        "peak_mb": _peak_mb(resource.RUSAGE_SELF),
        "worker_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "workers": _workers_used(agent_dir),
        "decoder": json_decoder_name(),
        "front": front["front"],
        "kpi": front["kpi"]["statement"],
    }


# The fields ``load_trials(columns=CONFIG_COLUMNS)`` decodes: the columns, the counting rule's and the replays'.
ENGINE_FIELDS: tuple[str, ...] = ("schema", "run_id", "experiment_id", "arm", "config_hash", "model", "task_id")
ENGINE_FIELDS += ("trial", "seed", "outcome", "cost_usd", "tokens")
ENGINES = ("polars", "duckdb", "pyarrow")


def _read_with(engine: str, files: list[Path]) -> int:
    """Read the ledgers' :data:`ENGINE_FIELDS` into columns with ``engine``; the number of rows."""
    names = [str(path) for path in files]
    if engine == "polars":
        import polars as pl

        tokens = pl.Struct({"input": pl.Int64, "output": pl.Int64})
        types = {"schema": pl.Int64, "trial": pl.Int64, "seed": pl.Int64, "cost_usd": pl.Float64, "tokens": tokens}
        schema = {name: types.get(name, pl.String) for name in ENGINE_FIELDS}
        return int(pl.scan_ndjson(names, schema=schema).select(list(ENGINE_FIELDS)).collect().height)
    if engine == "duckdb":
        import duckdb

        columns = dict.fromkeys(ENGINE_FIELDS, "VARCHAR")
        columns.update(schema="BIGINT", trial="BIGINT", seed="BIGINT", cost_usd="DOUBLE")
        columns["tokens"] = "STRUCT(input BIGINT, output BIGINT)"
        relation = duckdb.read_json(names, format="newline_delimited", columns=columns)
        return len(relation.fetchnumpy()["run_id"])
    import pyarrow as pa
    import pyarrow.json as pa_json

    tokens_type = pa.struct([("input", pa.int64()), ("output", pa.int64())])
    types = {"schema": pa.int64(), "trial": pa.int64(), "seed": pa.int64(), "cost_usd": pa.float64()}
    fields = [(name, tokens_type if name == "tokens" else types.get(name, pa.string())) for name in ENGINE_FIELDS]
    options = pa_json.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")
    return sum(pa_json.read_json(name, parse_options=options).num_rows for name in names)


def measure_engine(agent_dir: Path, engine: str) -> dict[str, Any]:
    from pytest_agentopt.analysis.loading import ledger_files

    files = ledger_files(agent_dir)
    started = time.perf_counter()
    module = __import__(engine)
    imported = time.perf_counter()
    rows = _read_with(engine, files)
    done = time.perf_counter()
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "engine": f"{engine} {getattr(module, '__version__', '')}".strip(),
        "rows": rows,
        "import_s": imported - started,
        "read_s": done - imported,
        "cpu_s": own.ru_utime + own.ru_stime,
        "peak_mb": _peak_mb(resource.RUSAGE_SELF),
    }


def _engines_in_children(agent_dir: Path) -> list[dict[str, Any]]:
    measured = []
    for engine in ENGINES:
        command = [sys.executable, __file__, "--measure-engine", engine, str(agent_dir)]
        _, _, code, error = _timed_subprocess(command)
        if code != 0:
            last = error.strip().splitlines()[-1:] or ["no output"]
            measured.append({"engine": engine, "error": last[0]})
            continue
        measured.append(json.loads((agent_dir / f"engine-{engine}.json").read_text()))
    return measured


def _workers_used(agent_dir: Path) -> int:
    from pytest_agentopt.analysis.loading import decoding_processes

    return decoding_processes(agent_dir)


def _timed_subprocess(command: list[str]) -> tuple[float, float, int, str]:
    """Wall time, peak memory (MB, the process and its waited-for children), exit code, stderr."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    error = process.stderr.read()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return elapsed, usage.ru_maxrss / scale, process.returncode, error


def _measure_in_child(agent_dir: Path, bootstrap: int, *, every_column: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", str(agent_dir), "--bootstrap", str(bootstrap)]
    _, _, code, error = _timed_subprocess([*command, "--every-column"] if every_column else command)
    if code != 0:
        raise SystemExit(f"measuring failed ({code}):\n{error}")
    result: dict[str, Any] = json.loads(Path(agent_dir / "measure.json").read_text())
    return result


def run_benchmark(trials: int, runs: int, bootstrap: int, directory: Path | None, engines: bool) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="agentopt-bench-analysis-", dir=directory))
    try:
        agent_dir = base / ".agentopt"
        started = time.perf_counter()
        written = generate(agent_dir, trials, runs)
        generated = time.perf_counter() - started
        result = _measure_in_child(agent_dir, bootstrap, every_column=False)
        full = _measure_in_child(agent_dir, bootstrap, every_column=True)
        result.update({"written": written, "generate_s": generated, "full": full})
        cli_wall, cli_peak, cli_code, cli_error = _timed_subprocess(
            [sys.executable, "-m", "pytest_agentopt.cli.main", "pareto", "--agent-dir", str(agent_dir), "--json"]
        )
        if cli_code != 0:
            raise SystemExit(f"agentopt pareto failed ({cli_code}):\n{cli_error}")
        result.update({"cli_s": cli_wall, "cli_peak_mb": cli_peak})
        if engines:
            result["engines"] = _engines_in_children(agent_dir)
        return result
    finally:
        shutil.rmtree(base, ignore_errors=True)


def report(result: dict[str, Any], command: str) -> list[str]:
    workers = result["workers"]
    memory = result["peak_mb"] + (workers * result["worker_peak_mb"] if workers > 1 else 0.0)
    passed_time = result["total_s"] < TARGET_SECONDS and result["cli_s"] < TARGET_SECONDS
    passed_memory = memory < TARGET_MB and result["cli_peak_mb"] < TARGET_MB
    load = os.getloadavg()
    lines = [
        f"Command: `{command}`",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}, nproc {os.cpu_count()}; load average {load[0]:.2f}, {load[1]:.2f}, "
        f"{load[2]:.2f}",
        f"- python: {platform.python_implementation()} {platform.python_version()}; numpy {np.__version__}; JSON "
        f"decoder: {result['decoder']}; decoding processes: {workers}",
        f"- ledger: {result['trials']:,} trials ({result['written']:,} written) in {result['runs']} runs, "
        f"{result['configs']} configs, {result['ledger_mb']:.0f} MiB of JSON Lines (generated in "
        f"{result['generate_s']:.1f} s); unreadable lines: {result['problems']}",
        "",
        "| step | seconds |",
        "|---|---|",
        f"| import the analysis package | {result['import_s']:.2f} |",
        f"| `load_trials(columns=CONFIG_COLUMNS)` | {result['load_s']:.2f} |",
        f"| `config_table` (1000 bootstrap resamples) | {result['config_table_s']:.2f} |",
        f"| `pareto_front` (1000 bootstrap resamples) | {result['pareto_s']:.2f} |",
        f"| **total in process** (target < {TARGET_SECONDS:g} s) | **{result['total_s']:.2f}** |",
        f"| `agentopt pareto --json` as a subprocess, wall | **{result['cli_s']:.2f}** |",
        f"| CPU time of the in-process run (main + decoding workers) | {result['cpu_s']:.2f} |",
        "",
        "| peak resident memory | MB |",
        "|---|---|",
        f"| main process | {result['peak_mb']:.0f} |",
        f"| each decoding worker, at most | {result['worker_peak_mb']:.0f} |",
        f"| upper bound of the total (main + workers) (target < {TARGET_MB:g} MB) | **{memory:.0f}** |",
        f"| `agentopt pareto --json` (its largest process) | {result['cli_peak_mb']:.0f} |",
        "",
        f"For comparison, loading every column (`load_trials(...)`, what `records()` and the CSV need): "
        f"{result['full']['load_s']:.2f} s, then config table and front {result['full']['config_table_s']:.2f} + "
        f"{result['full']['pareto_s']:.2f} s; peak {result['full']['peak_mb']:.0f} MB (main) + "
        f"{result['full']['worker_peak_mb']:.0f} MB per worker.",
        "",
        f"Time: {'PASS' if passed_time else 'FAIL'}; memory: {'PASS' if passed_memory else 'FAIL'}.",
        "",
        f"Front: {', '.join(result['front'])}. KPI: {result['kpi']}",
    ]
    if "engines" in result:
        lines += ["", "| engine: read the same fields into columns | import s | read s | CPU s | peak MB |"]
        lines.append("|---|---|---|---|---|")
        lines.append(
            f"| this loader: `load_trials(columns=CONFIG_COLUMNS)`, everything included | {result['import_s']:.2f} | "
            f"{result['load_s']:.2f} | {result['cpu_s']:.2f} (with the tables) | {result['peak_mb']:.0f} + workers |"
        )
        for engine in result["engines"]:
            if "error" in engine:
                lines.append(f"| {engine['engine']}: not measured ({engine['error']}) | | | | |")
            else:
                lines.append(
                    f"| {engine['engine']} ({engine['rows']:,} rows) | {engine['import_s']:.2f} | "
                    f"{engine['read_s']:.2f} | {engine['cpu_s']:.2f} | {engine['peak_mb']:.0f} |"
                )
    return lines


def write_docs(lines: list[str]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.index(DOCS_START) + len(DOCS_START), text.index(DOCS_END)
    DOCS.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1_000_000, help="trials to generate (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=20, help="runs to spread them over (default 20)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--dir", type=Path, default=None, help="where to make the temporary folder")
    parser.add_argument("--write-docs", action="store_true", help="put the output into docs/analysis.md")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--every-column", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engines", action="store_true", help="also time polars, duckdb and pyarrow, if installed")
    parser.add_argument("--measure-engine", nargs=2, metavar=("ENGINE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_engine is not None:
        engine, directory = args.measure_engine[0], Path(args.measure_engine[1])
        (directory / f"engine-{engine}.json").write_text(json.dumps(measure_engine(directory, engine)))
        return 0
    if args.measure is not None:
        result = measure(args.measure, args.bootstrap, args.every_column)
        (args.measure / "measure.json").write_text(json.dumps(result))
        return 0
    result = run_benchmark(args.trials, args.runs, args.bootstrap, args.dir, args.engines)
    command = "python scripts/bench_analysis.py" + (f" --trials {args.trials}" if args.trials != 1_000_000 else "")
    command += " --engines" if args.engines else ""
    lines = report(result, command)
    print("\n".join(lines))
    if args.write_docs:
        write_docs(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
