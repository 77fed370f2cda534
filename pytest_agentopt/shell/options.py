"""Command-line options and ini keys, read and validated into :class:`~pytest_agentopt.run.options.RunOptions`.

Every option has an ini key of the same name with ``-`` turned into ``_`` and an ``agent_`` prefix where it lacks
one (``--agent-trials`` -> ``agent_trials``, ``--sprt`` -> ``agent_sprt``) under ``[tool.pytest.ini_options]``;
the command line wins. Paths in the ini file are relative to the ini file's folder, paths on the command line to
the current directory. This module imports nothing heavy: it runs in every pytest process, active or not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import (
    CLI,
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    DEFAULT_DIR,
    DEFAULT_DRIFT_ALPHA,
    DEFAULT_EFFECT,
    DEFAULT_FAMILY_ERROR,
    DEFAULT_GATE_RULE,
    DEFAULT_INFRA_BACKOFF,
    DEFAULT_INFRA_MAX_SHARE,
    DEFAULT_INFRA_RETRIES,
    DEFAULT_TRIALS,
    FAMILY_ERRORS,
    GATE_RULES,
    RunOptions,
    describe,
    ini_key,
    parse_lookahead,
    validate,
)
from pytest_agentopt.run.outcomes import DEFAULT_INFRA_EXCEPTIONS
from pytest_agentopt.run.shards import Shard


@dataclass(frozen=True)
class _Spec:
    flag: str
    help: str
    kind: str = "string"  # string | int | float | bool | list | path | paths
    metavar: str | None = None

    @property
    def ini(self) -> str:
        return ini_key(self.flag)

    @property
    def dest(self) -> str:
        return "agentopt_" + self.ini.removeprefix("agent_")


SPECS: tuple[_Spec, ...] = (
    _Spec(
        "--agent-config",
        "experiment config of the test arm (JSON); activates pytest-agentopt; repeat it (or give a glob such as "
        "'configs/candidates/*.json') to compare several candidates with one control",
        "paths",
        "PATH",
    ),
    _Spec(
        "--agent-control",
        "config of the control arm: a path or an experiment id; default the test config's parent; "
        "'none' for single-config mode",
        "string",
        "PATH|ID|none",
    ),
    _Spec(
        "--agent-trials",
        f"trials per task per arm (the cap under --sprt); default {DEFAULT_TRIALS}",
        "int",
        "N",
    ),
    _Spec("--agent-seed", "run seed (default: random, recorded in the manifest)", "int", "N"),
    _Spec("--agent-dir", f"where runs are stored; default {DEFAULT_DIR}/", "path", "DIR"),
    _Spec("--agent-json", "write the machine-readable run summary to PATH", "path", "PATH"),
    _Spec("--agent-md", "write a GitHub-flavoured Markdown summary to PATH", "path", "PATH"),
    _Spec("--agent-html", "write a self-contained HTML report to PATH", "path", "PATH"),
    _Spec("--agent-csv", "write one CSV row per trial to PATH", "path", "PATH"),
    _Spec(
        "--agent-set",
        "override one field of the test config for this run: KEY=VALUE, dotted KEY, JSON VALUE; repeatable",
        "list",
        "KEY=VALUE",
    ),
    _Spec("--sprt", "stop as soon as the sequential probability ratio test decides", "bool"),
    _Spec("--agent-alpha", f"type I error of each sequential claim; default {DEFAULT_ALPHA}", "float", "A"),
    _Spec("--agent-beta", f"type II error at the effect size; default {DEFAULT_BETA}", "float", "B"),
    _Spec(
        "--agent-effect",
        f"smallest success-rate difference worth detecting; default {DEFAULT_EFFECT}",
        "float",
        "D",
    ),
    _Spec(
        "--agent-target",
        "single-config mode: test H0 p <= P - effect against H1 p >= P (needs --sprt)",
        "float",
        "P",
    ),
    _Spec(
        "--agent-direction",
        "question of the paired sequential test: both (better, worse or no difference; default), better "
        "(better or not), worse (worse or not: the CI gate's question, fastest when nothing changed)",
        "string",
        "both|better|worse",
    ),
    _Spec(
        "--agent-metric",
        "what the paired sequential test decides on: success (default), a flag recorded with "
        "agent_trial.record(NAME=True/False), a number (cost, tokens, latency, steps, tool_calls or any recorded "
        "number, with --agent-effect-ratio), or cheaper_same_quality",
        "string",
        "NAME",
    ),
    _Spec(
        "--agent-effect-ratio",
        "numeric metric: the smallest relative change worth detecting, test/control of the median pair; "
        "below 1 when lower is better (0.8: 20%% less), above 1 when higher is better",
        "float",
        "R",
    ),
    _Spec("--agent-fail-inconclusive", "exit 1 when the verdict is inconclusive", "bool"),
    _Spec(
        "--agent-drift-gate",
        "exit 1 when the drift report finds that a recorded feature (steps, tool calls, tokens, latency, cost, "
        "custom numbers) moved between control and test at equal outcome",
        "bool",
    ),
    _Spec(
        "--agent-drift-alpha",
        f"family-wise error rate of the drift report over its features; default {DEFAULT_DRIFT_ALPHA}",
        "float",
        "A",
    ),
    _Spec(
        "--agent-gate-rule",
        "with several candidates, when the run exits 1: any-worse (any candidate proven worse; default), "
        "all-worse (every candidate proven worse), none-better (no candidate proven better)",
        "string",
        "|".join(GATE_RULES),
    ),
    _Spec(
        "--agent-family-error",
        "with several candidates, the error rate controlled across them: fwer (family-wise error rate, "
        "Bonferroni; default) or fdr (false discovery rate of the better and of the worse claims, e-BH)",
        "string",
        "|".join(FAMILY_ERRORS),
    ),
    _Spec("--agent-resume", "continue an interrupted run (a run id or a run directory)", "string", "RUN"),
    _Spec(
        "--agent-shard",
        "run shard I of N (whole tasks, dealt round-robin in sorted order) into its own run; combine the shards "
        "with 'agentopt merge'; not with --sprt",
        "string",
        "I/N",
    ),
    _Spec("--agent-budget", "stop starting trials once the estimated spend would exceed USD", "float", "USD"),
    _Spec(
        "--agent-lookahead",
        "under --sprt with xdist: how many items beyond the lowest unfinished one may start; auto (default) runs "
        "ahead as far as the test certainly needs plus 2 per worker, N trades money for time",
        "string",
        "auto|N",
    ),
    _Spec(
        "--agent-timeout",
        "end a trial that runs longer than S seconds and record it as 'timeout' (an agent failure); "
        "a task's @pytest.mark.agent_task(timeout=...) overrides it; default none",
        "float",
        "S",
    ),
    _Spec(
        "--agent-infra-retries",
        f"retries of a trial that hit an infrastructure error; default {DEFAULT_INFRA_RETRIES}",
        "int",
        "N",
    ),
    _Spec(
        "--agent-infra-backoff",
        "seconds before the first retry of an infrastructure error, doubling each time; "
        f"default {DEFAULT_INFRA_BACKOFF}",
        "float",
        "S",
    ),
    _Spec(
        "--agent-infra-max-share",
        f"fail the run when more than this share of trials are infra errors; default {DEFAULT_INFRA_MAX_SHARE}",
        "float",
        "S",
    ),
    _Spec(
        "--agent-infra-exceptions",
        "exception names counted as infrastructure errors (replaces the defaults), e.g. openai.RateLimitError",
        "list",
        "NAME",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentopt", "pytest-agentopt: sequential A/B testing of LLM agents")
    for spec in SPECS:
        if spec.kind == "bool":
            group.addoption(spec.flag, action="store_true", default=None, dest=spec.dest, help=spec.help)
            parser.addini(spec.ini, spec.help, type="bool", default=False)
        elif spec.kind in ("list", "paths"):
            group.addoption(
                spec.flag, action="append", default=None, dest=spec.dest, metavar=spec.metavar, help=spec.help
            )
            parser.addini(spec.ini, spec.help, type="linelist", default=[])
        else:
            group.addoption(spec.flag, default=None, dest=spec.dest, metavar=spec.metavar, help=spec.help)
            if spec.flag != "--agent-resume":
                parser.addini(spec.ini, spec.help, type="string", default="")


def _raw_value(config: pytest.Config, spec: _Spec) -> tuple[Any, Path | None, str]:
    """The option's value, the folder its relative paths are relative to (None: the invocation dir) and where it
    came from (``"cli"``, or the ini file's name)."""
    cli = config.getoption(spec.dest)
    if cli not in (None, []):
        return cli, None, CLI
    if spec.flag == "--agent-resume":
        return None, None, CLI
    ini = config.getini(spec.ini)
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    source = config.inipath.name if config.inipath is not None else "the ini file"
    if spec.kind == "bool":
        return (True if ini else None), base, source
    if ini in ("", [], None):
        return None, base, source
    return ini, base, source


def read_options(config: pytest.Config) -> RunOptions:
    """Read and validate every option; raise :class:`AgentoptUsageError` naming the option on bad input."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    invocation_dir = config.invocation_params.dir
    for spec in SPECS:
        raw, base, source = _raw_value(config, spec)
        if raw is None:
            continue
        sources[spec.flag] = source
        values[spec.flag] = _convert(spec, raw, base if base is not None else invocation_dir, source)
    return _build(values, sources)


def _convert(spec: _Spec, raw: Any, base: Path, source: str) -> Any:
    if spec.kind == "bool":
        return bool(raw)
    if spec.kind == "list":
        items = [raw] if isinstance(raw, str) else list(raw)
        return tuple(str(item).strip() for item in items if str(item).strip())
    if spec.kind == "paths":
        items = [raw] if isinstance(raw, str) else list(raw)
        return _expand_paths(spec, [str(item).strip() for item in items if str(item).strip()], base, source)
    text = str(raw).strip()
    if spec.kind == "path":
        path = Path(text).expanduser()
        return path if path.is_absolute() else base / path
    if spec.kind == "int":
        return _parse(spec, text, int, "an integer", source)
    if spec.kind == "float":
        value = _parse(spec, text, float, "a number", source)
        if not math.isfinite(value):
            raise AgentoptUsageError(f"{describe(spec.flag, text, source)}: must be a finite number")
        return value
    return text


def _expand_paths(spec: _Spec, texts: list[str], base: Path, source: str) -> tuple[Path, ...]:
    """Paths, a glob (``*``, ``?``, ``[``) expanded in sorted order; a glob that matches no file is a usage error."""
    import glob

    paths: list[Path] = []
    for text in texts:
        path = Path(text).expanduser()
        path = path if path.is_absolute() else base / path
        if not glob.has_magic(text):
            paths.append(path)
            continue
        matches = sorted(Path(match) for match in glob.glob(str(path)) if Path(match).is_file())
        if not matches:
            raise AgentoptUsageError(
                f"{describe(spec.flag, text, source)}: the pattern matches no config file; give config paths "
                "or a glob that matches some (e.g. 'configs/candidates/*.json')"
            )
        paths.extend(matches)
    return tuple(paths)


def _parse(spec: _Spec, text: str, kind: Callable[[str], Any], what: str, source: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise AgentoptUsageError(f"{describe(spec.flag, text, source)}: must be {what}") from None


def _build(values: dict[str, Any], sources: dict[str, str]) -> RunOptions:
    options = RunOptions(
        config_path=values["--agent-config"][0] if values.get("--agent-config") else None,
        candidate_paths=values.get("--agent-config", ()) if len(values.get("--agent-config", ())) > 1 else (),
        control=values.get("--agent-control"),
        gate_rule=values.get("--agent-gate-rule", DEFAULT_GATE_RULE),
        family_error=values.get("--agent-family-error", DEFAULT_FAMILY_ERROR),
        trials=values.get("--agent-trials", DEFAULT_TRIALS),
        seed=values.get("--agent-seed"),
        agent_dir=values.get("--agent-dir", Path(DEFAULT_DIR)),
        json_path=values.get("--agent-json"),
        md_path=values.get("--agent-md"),
        html_path=values.get("--agent-html"),
        csv_path=values.get("--agent-csv"),
        overrides=values.get("--agent-set", ()),
        sprt=values.get("--sprt", False),
        alpha=values.get("--agent-alpha", DEFAULT_ALPHA),
        beta=values.get("--agent-beta", DEFAULT_BETA),
        effect=values.get("--agent-effect", DEFAULT_EFFECT),
        target=values.get("--agent-target"),
        direction=values.get("--agent-direction", "both"),
        metric=values.get("--agent-metric"),
        effect_ratio=values.get("--agent-effect-ratio"),
        fail_inconclusive=values.get("--agent-fail-inconclusive", False),
        drift_gate=values.get("--agent-drift-gate", False),
        drift_alpha=values.get("--agent-drift-alpha", DEFAULT_DRIFT_ALPHA),
        resume=values.get("--agent-resume"),
        shard=_shard(values.get("--agent-shard"), sources),
        budget_usd=values.get("--agent-budget"),
        lookahead=_lookahead(values.get("--agent-lookahead"), sources),
        timeout_s=values.get("--agent-timeout"),
        infra_retries=values.get("--agent-infra-retries", DEFAULT_INFRA_RETRIES),
        infra_backoff=values.get("--agent-infra-backoff", DEFAULT_INFRA_BACKOFF),
        infra_max_share=values.get("--agent-infra-max-share", DEFAULT_INFRA_MAX_SHARE),
        infra_exceptions=values.get("--agent-infra-exceptions", DEFAULT_INFRA_EXCEPTIONS),
        sources=sources,
    )
    if options.active:
        validate(options)
    return options


def _lookahead(text: str | None, sources: dict[str, str]) -> int | None:
    if text is None:
        return None
    try:
        return parse_lookahead(text)
    except ValueError as exc:
        given = describe("--agent-lookahead", text, sources.get("--agent-lookahead", CLI))
        raise AgentoptUsageError(f"{given}: {exc}") from None


def _shard(text: str | None, sources: dict[str, str]) -> Shard | None:
    if text is None:
        return None
    try:
        return Shard.parse(text)
    except ValueError as exc:
        given = describe("--agent-shard", text, sources.get("--agent-shard", CLI))
        raise AgentoptUsageError(f"{given}: {exc}") from None
