"""The run context: everything every process must agree on, built once by the controller.

The controller (or the single process) resolves the configs, picks the seed and the run id, and reads a resumed
run's ledger; xdist workers receive the result as plain values through ``workerinput`` and never look at local
files or environment variables for it, so collection is identical on every worker (and on remote workers).
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_agentopt.configs.data import find_config
from pytest_agentopt.configs.redaction import holds_redacted, secret_paths
from pytest_agentopt.errors import AgentoptUsageError, ConfigError, LedgerError
from pytest_agentopt.run.options import DEFAULT_FAMILY_ERROR, FamilyError, RunOptions
from pytest_agentopt.run.sequential_design import derived_cap_pairs, resolve_direction
from pytest_agentopt.run.shards import Shard
from pytest_agentopt.run.trial_order import ARMS_AB, ARMS_SINGLE, Arm
from pytest_agentopt.storage.ledger import RunPaths, new_run_id, read_ledger, read_manifest, resolve_run
from pytest_agentopt.storage.trial_record import TrialRecord

# The configs' pydantic models (pytest_agentopt.configs.model, arms, manifest_schema) are imported where they are
# used: workers import this module, and pydantic costs each of them about 0.2 s when no task asks for a config.

if TYPE_CHECKING:
    from pytest_agentopt.configs.hypothesis import Hypothesis
    from pytest_agentopt.configs.model import AgentConfig
    from pytest_agentopt.run.metric_choice import MetricChoice


class ConfigSet(Mapping[str, "AgentConfig"]):
    """The resolved configs by arm, validated on first access.

    Workers receive the configs as plain JSON; validating them imports pydantic (a fifth of a second per
    process), which a worker needs only when a task asks for ``agent_config`` or records usage to price.
    """

    def __init__(self, data: Mapping[str, Mapping[str, Any] | AgentConfig]) -> None:
        self._raw: dict[str, dict[str, Any]] = {}
        self._validated: dict[str, AgentConfig] = {}
        for arm, config in data.items():
            if isinstance(config, Mapping):
                self._raw[arm] = dict(config)
            else:
                self._validated[arm] = config
                self._raw[arm] = config.model_dump(mode="json")

    def __getitem__(self, arm: str) -> AgentConfig:
        config = self._validated.get(arm)
        if config is None:
            from pytest_agentopt.configs.model import AgentConfig

            config = self._validated[arm] = AgentConfig.model_validate(self._raw[arm])
        return config

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def raw(self, arm: str) -> dict[str, Any]:
        """The arm's config as JSON data, without validating it."""
        return self._raw[arm]


@dataclass
class RunContext:
    run_id: str
    run_dir: Path
    seed: int
    trials: int
    arms: tuple[Arm, ...]
    configs: ConfigSet
    hashes: dict[str, str]
    sprt: bool
    alpha: float
    beta: float
    effect: float
    target: float | None
    direction: str
    stop_path: Path | None
    """The stop flag's file (``run/stop.py``); ``None`` on a remote worker, which is stopped by the scheduler."""
    infra_exceptions: tuple[str, ...]
    infra_retries: int
    infra_backoff: float
    budget_usd: float | None
    timeout_s: float | None = None
    resumed: list[TrialRecord] = field(default_factory=list)
    """The finished trials of a resumed run (on the controller; workers get ``finished`` instead)."""
    finished: dict[str, Sequence[int]] = field(default_factory=dict)
    """On workers: the finished trials of a resumed run, compactly (see :meth:`_finished_payload`)."""
    sources: dict[str, str | None] = field(default_factory=dict)
    lineages: dict[str, list[str]] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    cap_pairs: int | None = None
    """The cap in pairs when ``--agent-trials`` was not given under ``--sprt`` (paired): trials per task are
    derived from it once the tasks are counted (``trial_expansion``). ``None``: ``trials`` per task."""
    shard: Shard | None = None
    """``--agent-shard``: the share of the planned tasks this run runs (``None``: every task)."""
    notes: list[str] = field(default_factory=list)
    """What the controller must tell the user about how the run was set up (e.g. a direction chosen for CI)."""
    metric: MetricChoice | None = None
    """What the paired sequential test decides on when not success (``--agent-metric`` or the hypothesis)."""
    hypothesis: dict[str, Any] | None = None
    """The test config's hypothesis (``configs.hypothesis``), recorded in the manifest and the summary."""
    candidate_hypotheses: dict[str, dict[str, Any]] = field(default_factory=dict)
    """With several candidates: each candidate's hypothesis by arm (``hypothesis`` is then ``None``); recorded in
    the manifest and in that candidate's entry of the summary's ``candidates``."""
    family_error: FamilyError = DEFAULT_FAMILY_ERROR
    """With several candidates: the error rate controlled across them (``--agent-family-error``)."""

    @property
    def paired(self) -> bool:
        return self.arms == ARMS_AB

    @property
    def candidates(self) -> tuple[Arm, ...]:
        """The candidate arms (``test``, ``test2``...): several only in a run that compares them with one control."""
        return tuple(arm for arm in self.arms if arm != "control")

    @property
    def several_candidates(self) -> bool:
        return "control" in self.arms and len(self.candidates) > 1

    @property
    def has_finished_trials(self) -> bool:
        return bool(self.resumed or self.finished)

    def finished_positions(self) -> Iterator[tuple[tuple[str, str, int], int]]:
        """``((task_id, arm, trial), seq)`` of every finished trial of a resumed run."""
        for record in self.resumed:
            yield (record["task_id"], record["arm"], record["trial"]), record["seq"]
        for task_id, flat in self.finished.items():
            for index in range(0, len(flat), 3):
                yield (task_id, self.arms[flat[index]], flat[index + 1]), flat[index + 2]

    def _finished_payload(self) -> dict[str, str]:
        """Per task, ``"arm index,trial,seq,..."``: a resumed run of 200,000 trials sends each worker a few
        megabytes instead of 200,000 small dicts. One string per task, not a list of integers: execnet's serializer
        holds about 1.5 KB per trial while it encodes a list of 600,000 integers (300 MB for each worker, in the
        controller, and as much in each worker's peak), and one chunk for a string."""
        compact: dict[str, list[int]] = {task_id: list(flat) for task_id, flat in self.finished.items()}
        arm_index: dict[str, int] = {arm: index for index, arm in enumerate(self.arms)}
        for record in self.resumed:
            compact.setdefault(record["task_id"], []).extend((arm_index[record["arm"]], record["trial"], record["seq"]))
        return {task_id: ",".join(map(str, flat)) for task_id, flat in compact.items()}

    @property
    def paths(self) -> RunPaths:
        from pytest_agentopt.storage.ledger import RunPaths

        return RunPaths(self.run_dir)

    def run_settings(self) -> dict[str, Any]:
        """What a resumed run must keep (the manifest's ``run`` section)."""
        return {
            "seed": self.seed,
            "trials": self.trials,
            "arms": list(self.arms),
            "sprt": self.sprt,
            "alpha": self.alpha,
            "beta": self.beta,
            "effect": self.effect,
            "target": self.target,
            "direction": self.direction,
            "cap_pairs": self.cap_pairs,
            "metric": self.metric.as_dict() if self.metric is not None else None,
            "hypothesis": self.hypothesis,
            "shard": str(self.shard) if self.shard is not None else None,
            **({"candidate_hypotheses": self.candidate_hypotheses} if self.candidate_hypotheses else {}),
            **({"family_error": self.family_error} if self.several_candidates else {}),
        }

    # -- crossing to workers --------------------------------------------------------------------------------

    def to_payload(self, *, stop_flag: bool = True) -> dict[str, Any]:
        """Plain values for ``workerinput`` (no dataclasses, no paths: execnet sends only builtins).

        ``stop_flag``: send the stop flag's path (local workers); a remote worker cannot see the controller's files.
        """
        return {
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "seed": self.seed,
            "trials": self.trials,
            "arms": list(self.arms),
            "configs": {arm: self.configs.raw(arm) for arm in self.configs},
            "hashes": dict(self.hashes),
            "sprt": self.sprt,
            "alpha": self.alpha,
            "beta": self.beta,
            "effect": self.effect,
            "target": self.target,
            "direction": self.direction,
            "stop_path": str(self.stop_path) if stop_flag and self.stop_path is not None else None,
            "infra_exceptions": list(self.infra_exceptions),
            "infra_retries": self.infra_retries,
            "infra_backoff": self.infra_backoff,
            "budget_usd": self.budget_usd,
            "timeout_s": self.timeout_s,
            "cap_pairs": self.cap_pairs,
            "shard": str(self.shard) if self.shard is not None else None,
            # Workers need only the keys and planned positions of finished trials, not whole records.
            "finished": self._finished_payload(),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> RunContext:
        return cls(
            run_id=payload["run_id"],
            run_dir=Path(payload["run_dir"]),
            seed=payload["seed"],
            trials=payload["trials"],
            arms=tuple(payload["arms"]),
            configs=ConfigSet(payload["configs"]),
            hashes=dict(payload["hashes"]),
            sprt=payload["sprt"],
            alpha=payload["alpha"],
            beta=payload["beta"],
            effect=payload["effect"],
            target=payload["target"],
            direction=payload["direction"],
            stop_path=Path(payload["stop_path"]) if payload["stop_path"] is not None else None,
            infra_exceptions=tuple(payload["infra_exceptions"]),
            infra_retries=payload["infra_retries"],
            infra_backoff=payload["infra_backoff"],
            budget_usd=payload["budget_usd"],
            timeout_s=payload["timeout_s"],
            finished={
                task_id: array("q", map(int, text.split(",")) if text else ())
                for task_id, text in payload["finished"].items()
            },
            cap_pairs=payload.get("cap_pairs"),
            shard=Shard.parse(payload["shard"]) if payload.get("shard") else None,
        )


def build_context(options: RunOptions) -> tuple[RunContext, list[str]]:
    """The context of a new or resumed run, and notes for the user (e.g. torn ledger lines skipped)."""
    from pytest_agentopt.configs.arms import validate_arms

    if options.resume is not None:
        return _resumed_context(options)

    notes: list[str] = []
    arms = validate_arms(options, notes)
    paired = "control" in arms
    several = options.candidate_count > 1
    candidate_hypotheses = _candidate_hypotheses(options, notes) if several else {}
    hypothesis = None if several else _hypothesis_of(options)
    if hypothesis is not None:
        options = _with_hypothesis(options, hypothesis)
    metric = _metric_of(options, paired=paired)
    if metric is not None and metric.kind == "cheaper_same_quality":
        # Its quality half asks only "worse" (not worse by the effect): the cap is that question's.
        sources = {**options.sources, "--agent-direction": "--agent-metric=cheaper_same_quality"}
        options = dataclasses.replace(options, direction="worse", sources=sources)
    direction, direction_note = resolve_direction(options, paired=paired, environ=os.environ)
    arm_names = tuple(arms)  # control first, then the candidates (``test``, ``test2``...)
    test = arms["test"]
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    run_id = new_run_id(test.data["experiment_id"])
    run_dir = options.agent_dir / "runs" / run_id
    context = RunContext(
        run_id=run_id,
        run_dir=run_dir,
        seed=seed,
        trials=options.trials,
        arms=arm_names if len(arm_names) > 2 else (ARMS_AB if "control" in arms else ARMS_SINGLE),
        configs=ConfigSet({name: arm.data for name, arm in arms.items()}),
        hashes={name: arm.hash for name, arm in arms.items()},
        sprt=options.sprt,
        alpha=options.alpha,
        beta=options.beta,
        effect=options.effect,
        target=options.target,
        direction=direction,
        stop_path=run_dir / f"stop-{secrets.token_hex(4)}",
        infra_exceptions=options.infra_exceptions,
        infra_retries=options.infra_retries,
        infra_backoff=options.infra_backoff,
        budget_usd=options.budget_usd,
        timeout_s=options.timeout_s,
        sources={name: arm.source for name, arm in arms.items()},
        lineages={name: list(arm.lineage) for name, arm in arms.items()},
        overrides=options.overrides,
        cap_pairs=derived_cap_pairs(options, paired=paired, direction=direction),
        shard=options.shard,
        notes=[direction_note] if direction_note else [],
        metric=metric,
        hypothesis=hypothesis.as_dict() if hypothesis is not None else None,
        candidate_hypotheses=candidate_hypotheses,
        family_error=cast(FamilyError, options.family_error),
    )
    warnings = secret_warnings({name: (arm.data, arm.source) for name, arm in arms.items()})
    return context, [*dict.fromkeys(notes), *warnings]


def _hypothesis_of(options: RunOptions) -> Hypothesis | None:
    from pytest_agentopt.configs.hypothesis import load_hypothesis_beside

    return load_hypothesis_beside(options.config_path) if options.config_path is not None else None


def _candidate_hypotheses(options: RunOptions, notes: list[str]) -> dict[str, dict[str, Any]]:
    """Each candidate's hypothesis (a ``<config>.hypothesis.json`` beside it), by arm, recorded against it.

    With several candidates every one is decided on success at the run's ``--agent-effect`` (one paired test
    each): a hypothesis that names another metric is a usage error, one that expects another effect is noted.
    """
    from pytest_agentopt.configs.hypothesis import load_hypothesis_beside
    from pytest_agentopt.run.trial_order import candidate_arms

    found: dict[str, dict[str, Any]] = {}
    paths = options.candidate_paths
    for arm, path in zip(candidate_arms(len(paths)), paths, strict=True):
        hypothesis = load_hypothesis_beside(path)
        if hypothesis is None:
            continue
        if hypothesis.metric_name != "success":
            raise AgentoptUsageError(
                f"{hypothesis.source}: field 'metric': {hypothesis.metric_name!r} with --agent-config given "
                f'{len(paths)} times: several candidates are each decided on success only; set "metric": '
                '"success" (or leave it out), or run this candidate alone'
            )
        effect = hypothesis.effect()
        if effect is not None and abs(effect - options.effect) > 1e-12:
            notes.append(
                f"hypothesis {hypothesis.id} ({hypothesis.source}) expects an effect of {effect:g}; with several "
                f"candidates every candidate is tested at the run's {options.given('--agent-effect', options.effect)}"
            )
        found[arm] = hypothesis.as_dict()
    return found


def _with_hypothesis(options: RunOptions, hypothesis: Hypothesis) -> RunOptions:
    """The hypothesis's metric and effect, where the user gave no option for them (options win)."""
    from pytest_agentopt.run.options import validate

    given = options.sources
    changes: dict[str, Any] = {}
    sources = dict(given)
    where = f"{hypothesis.source}"
    if "--agent-metric" not in given and hypothesis.metric_name != "success":
        changes["metric"] = hypothesis.metric_name
        sources["--agent-metric"] = where
    if "--agent-effect" not in given and hypothesis.effect() is not None:
        changes["effect"] = hypothesis.effect()
        sources["--agent-effect"] = where
    if "--agent-effect-ratio" not in given and hypothesis.effect_ratio() is not None:
        changes["effect_ratio"] = hypothesis.effect_ratio()
        sources["--agent-effect-ratio"] = where
    if not changes:
        return options
    updated = dataclasses.replace(options, **changes, sources=sources)
    validate(updated)
    return updated


def _metric_of(options: RunOptions, *, paired: bool) -> MetricChoice | None:
    from pytest_agentopt.run.metric_choice import choose_metric

    return choose_metric(
        options.metric,
        options.effect_ratio,
        name_given=options.given("--agent-metric", options.metric),
        ratio_given=options.given("--agent-effect-ratio", options.effect_ratio),
        sprt=options.sprt,
        paired=paired,
    )


def secret_warnings(arms: Mapping[str, tuple[Mapping[str, Any], str | None]]) -> list[str]:
    """One warning for a run whose configs hold secrets: where they are, and how to keep them out of configs."""

    found = []
    for arm, (data, source) in arms.items():
        paths = secret_paths(data)
        if paths:
            found.append(f"the {arm} config{f' ({source})' if source else ''} at {', '.join(paths)}")
    if not found:
        return []
    return [
        "warning: secret-looking values in " + "; ".join(found) + ": the agent receives them, and the run's "
        "files, reports and terminal show them only as <redacted:...> fingerprints; better keep secrets out of "
        'configs: read them in the task from an environment variable (e.g. os.environ["OPENAI_API_KEY"], which '
        "the OpenAI and Anthropic SDKs also read by themselves); see docs/configs.md"
    ]


_RESUME_FIXED = {
    "--agent-trials": "trials",
    "--agent-seed": "seed",
    "--sprt": "sprt",
    "--agent-alpha": "alpha",
    "--agent-beta": "beta",
    "--agent-effect": "effect",
    "--agent-target": "target",
    "--agent-direction": "direction",
    "--agent-shard": "shard",
    "--agent-family-error": "family_error",
}


def _resumed_context(options: RunOptions) -> tuple[RunContext, list[str]]:
    assert options.resume is not None
    from pytest_agentopt.storage.manifest_schema import check_resumable

    paths = resolve_run(options.resume, options.agent_dir)
    manifest = read_manifest(paths)
    check_resumable(manifest, paths.manifest)
    run = manifest["run"]
    notes: list[str] = []
    trials = _extended_trials(options, run, paths.run_id)
    for flag, key in _RESUME_FIXED.items():
        given_value = getattr(options, key)
        if isinstance(given_value, Shard):
            given_value = str(given_value)
        if flag not in options.sources or given_value == run.get(key):
            continue
        if flag == "--agent-trials" and trials != run["trials"]:
            continue
        given = options.given(flag, getattr(options, key))
        if options.from_command_line(flag):
            raise AgentoptUsageError(
                f"{given} conflicts with the resumed run {paths.run_id} ({key} = {run.get(key)}); "
                f"a resumed run keeps its settings: drop {flag}"
            )
        notes.append(f"{given} is ignored: the resumed run {paths.run_id} keeps {key} = {run.get(key)}")
    notes.extend(_check_control(options, manifest, paths))
    from pytest_agentopt.configs.model import apply_overrides, load_config

    given_test: AgentConfig | None = None
    if options.config_path is not None:
        resolved = apply_overrides(load_config(options.config_path, notes=notes), options.overrides)
        expected = manifest["arms"]["test"]["config_hash"]
        if resolved.hash != expected:
            given = options.given("--agent-config", options.config_path)
            if options.from_command_line("--agent-config"):
                raise LedgerError(
                    f"{given} (hash {resolved.hash}) is not the test config of run {paths.run_id} (hash "
                    f"{expected}); drop --agent-config to resume with the run's own configs"
                )
            notes.append(f"{given} is ignored: the resumed run {paths.run_id} keeps its own configs")
        else:
            given_test = resolved.config
    configs = ConfigSet(
        {
            arm: _resumed_config(arm, data, manifest, paths.run_id, given_test if arm == "test" else None)
            for arm, data in manifest["arms"].items()
        }
    )
    # The records the run counts: its own (not another run's), the first of each trial (``ledger_rule``).
    ledger = read_ledger(paths.trials, owner=manifest["run_id"])
    context = RunContext(
        run_id=manifest["run_id"],
        run_dir=paths.directory,
        seed=run["seed"],
        trials=trials,
        arms=tuple(run["arms"]),
        configs=configs,
        hashes={arm: data["config_hash"] for arm, data in manifest["arms"].items()},
        sprt=run["sprt"],
        alpha=run["alpha"],
        beta=run["beta"],
        effect=run["effect"],
        target=run["target"],
        direction=run.get("direction", "both"),
        stop_path=paths.directory / f"stop-{secrets.token_hex(4)}",
        infra_exceptions=options.infra_exceptions,
        infra_retries=options.infra_retries,
        infra_backoff=options.infra_backoff,
        budget_usd=options.budget_usd,
        timeout_s=options.timeout_s,
        resumed=ledger.records,
        sources={arm: data.get("source") for arm, data in manifest["arms"].items()},
        lineages={arm: list(data.get("lineage", [])) for arm, data in manifest["arms"].items()},
        overrides=tuple(manifest.get("overrides", ())),
        cap_pairs=run.get("cap_pairs"),
        metric=_resumed_metric(run.get("metric"), paths.manifest),
        hypothesis=run.get("hypothesis") if isinstance(run.get("hypothesis"), dict) else None,
        candidate_hypotheses=_resumed_candidate_hypotheses(run.get("candidate_hypotheses")),
        family_error=run.get("family_error", DEFAULT_FAMILY_ERROR),
        shard=Shard.parse(run["shard"]) if run.get("shard") else None,
    )
    if trials != run["trials"]:
        notes.append(
            f"extending run {paths.run_id} from {run['trials']} to {trials} trials per task and arm: its "
            f"{len(ledger.records)} finished trials count once and the sequential test continues from its state "
            "(docs/statistics.md, extending an inconclusive run)"
        )
    sources = {arm: context.sources.get(arm) for arm in configs}
    warnings = secret_warnings({arm: (configs.raw(arm), sources[arm]) for arm in configs})
    # Skipped ledger lines are missing data: warnings, which the terminal shows under -q too.
    return context, [*notes, *(f"warning: {problem}" for problem in ledger.problems), *warnings]


def _resumed_candidate_hypotheses(data: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(data, dict):
        return {}
    return {str(arm): dict(value) for arm, value in data.items() if isinstance(value, dict)}


def _resumed_metric(data: Any, manifest: Path) -> MetricChoice | None:
    """The decided metric a manifest recorded; a damaged entry is a :class:`LedgerError` naming the field."""
    from pytest_agentopt.run.metric_choice import MetricChoice

    if data is None:
        return None
    ratio = data.get("effect_ratio") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("name"), str)
        or data.get("kind") not in ("binary", "numeric", "cheaper_same_quality")
        or (
            data["kind"] != "binary"
            and not (isinstance(ratio, int | float) and not isinstance(ratio, bool) and ratio > 0)
        )
    ):
        raise LedgerError(
            f"{manifest}: field 'run.metric': must be null or an object with a name, a kind (binary, numeric, "
            "cheaper_same_quality) and, unless binary, a positive effect_ratio; the manifest is damaged or was "
            "edited: this run cannot be resumed (start a new run)"
        )
    return MetricChoice.from_dict(data)


def _extended_trials(options: RunOptions, run: dict[str, Any], run_id: str) -> int:
    """The trials per task of a resumed run: its own, or more when ``--agent-trials`` on the command line extends a
    sequential run with an explicit cap (the planned order of the larger cap starts with the run's own plan)."""
    if not options.from_command_line("--agent-trials") or options.trials <= run["trials"]:
        return int(run["trials"])
    if len(run.get("arms") or ()) > 2:
        raise AgentoptUsageError(
            f"{options.given('--agent-trials', options.trials)}: run {run_id} has several candidates and cannot be "
            "extended: each candidate's test runs at alpha/K with its own stop, and an extension is designed for "
            "one paired test; drop --agent-trials to resume it, or start a new run with a larger --agent-trials"
        )
    if not run["sprt"] or run.get("cap_pairs") is not None:
        why = (
            "its cap was derived from the calibrated design, whose last look always ends with a claim"
            if run["sprt"]
            else "a fixed-sample run's analysis is planned for its number of trials (only --sprt runs extend)"
        )
        raise AgentoptUsageError(
            f"{options.given('--agent-trials', options.trials)}: run {run_id} cannot be extended: {why}; "
            "drop --agent-trials to resume it"
        )
    return options.trials


def _resumed_config(
    arm: str, data: Mapping[str, Any], manifest: Mapping[str, Any], run_id: str, given: AgentConfig | None
) -> AgentConfig:
    """The arm's config for a resumed run: the manifest's, unless it held secrets, which the manifest keeps only as
    fingerprints; then the config file is read again and must still be the one the run started with (its hash)."""
    from pytest_agentopt.configs.model import AgentConfig, apply_overrides, load_config

    if not holds_redacted(data["config"]):
        return AgentConfig.model_validate(data["config"])
    if given is not None:
        return given
    source = data.get("source")
    overrides = tuple(manifest.get("overrides", ())) if arm != "control" else ()
    if source is None or any(holds_redacted(override) for override in overrides):
        given_as = f"--agent-set {' '.join(overrides)}" if source is not None else "no config file"
        raise AgentoptUsageError(
            f"cannot resume run {run_id}: its {arm} config held secret values (given by {given_as}), which the "
            "manifest keeps only as fingerprints; start a new run, with the secrets read from environment variables"
        )
    try:
        resolved = apply_overrides(load_config(source), overrides)
    except ConfigError as exc:
        raise AgentoptUsageError(
            f"cannot resume run {run_id}: its {arm} config held secret values, which the manifest keeps only as "
            f"fingerprints, so it is read again from {source}: {exc}"
        ) from None
    if resolved.hash != data["config_hash"]:
        raise AgentoptUsageError(
            f"cannot resume run {run_id}: its {arm} config held secret values, which the manifest keeps only as "
            f"fingerprints, and {source} has changed since the run started (hash {resolved.hash}, the run's "
            f"{data['config_hash']}); restore it to resume"
        )
    return resolved.config


def _check_control(options: RunOptions, manifest: dict[str, Any], paths: RunPaths) -> list[str]:
    """Refuse (command line) or ignore with a note (ini file) an ``--agent-control`` that is not the run's control."""
    if "--agent-control" not in options.sources or options.control is None:
        return []
    conflict = _control_conflict(options, manifest)
    if conflict is None:
        return []
    given = options.given("--agent-control", options.control)
    if options.from_command_line("--agent-control"):
        raise AgentoptUsageError(
            f"{given} conflicts with the resumed run {paths.run_id} ({conflict}); a resumed run keeps its configs: "
            "drop --agent-control"
        )
    return [f"{given} is ignored: the resumed run {paths.run_id} keeps its configs ({conflict})"]


def _control_conflict(options: RunOptions, manifest: dict[str, Any]) -> str | None:
    """Why ``--agent-control`` is not the resumed run's control arm, or ``None`` when it is."""
    assert options.control is not None
    control = manifest["arms"].get("control")
    if options.single_config:
        return None if control is None else f"its control is {control['config'].get('experiment_id')}"
    if control is None:
        return "it is a single-config run: it has no control arm"
    if options.control in (control["config"].get("experiment_id"), control.get("source")):
        return None
    from pytest_agentopt.configs.model import load_config

    source = control.get("source") or manifest["arms"]["test"].get("source")
    relative_to = options.config_path or (Path(source) if isinstance(source, str) else None)
    try:
        resolved = load_config(find_config(options.control, relative_to=relative_to))
    except AgentoptUsageError as exc:
        return f"its control is {control['config'].get('experiment_id')}; {options.control} cannot be read: {exc}"
    if resolved.hash == control["config_hash"]:
        return None
    return (
        f"its control is {control['config'].get('experiment_id')} (hash {control['config_hash']}), not "
        f"{resolved.experiment_id} (hash {resolved.hash})"
    )
