"""The run context: everything every process must agree on, built once by the controller.

The controller (or the single process) resolves the configs, picks the seed and the run id, and reads a resumed
run's ledger; xdist workers receive the result as plain values through ``workerinput`` and never look at local
files or environment variables for it, so collection is identical on every worker (and on remote workers).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_agentopt.configs.data import find_config
from pytest_agentopt.configs.redaction import holds_redacted, secret_paths
from pytest_agentopt.errors import AgentoptUsageError, ConfigError, LedgerError
from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.trial_order import ARMS_AB, ARMS_SINGLE, Arm
from pytest_agentopt.storage.ledger import RunPaths, new_run_id, read_ledger, read_manifest, resolve_run
from pytest_agentopt.storage.trial_record import TrialRecord

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import AgentConfig


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
    stop_path: Path
    infra_exceptions: tuple[str, ...]
    infra_retries: int
    infra_backoff: float
    budget_usd: float | None
    timeout_s: float | None = None
    resumed: list[TrialRecord] = field(default_factory=list)
    """The finished trials of a resumed run (on the controller; workers get ``finished`` instead)."""
    finished: dict[str, list[int]] = field(default_factory=dict)
    """On workers: the finished trials of a resumed run, compactly (see :meth:`to_payload`)."""
    sources: dict[str, str | None] = field(default_factory=dict)
    lineages: dict[str, list[str]] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    cap_pairs: int | None = None
    """The cap in pairs when ``--agent-trials`` was not given under ``--sprt`` (paired): trials per task are
    derived from it once the tasks are counted (``trial_expansion``). ``None``: ``trials`` per task."""
    notes: list[str] = field(default_factory=list)
    """What the controller must tell the user about how the run was set up (e.g. a direction chosen for CI)."""

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

    def _finished_payload(self) -> dict[str, list[int]]:
        """Per task, ``[arm index, trial, seq, ...]``: a resumed run of 200,000 trials sends each worker a few
        megabytes of integers instead of 200,000 small dicts."""
        compact: dict[str, list[int]] = {task_id: list(flat) for task_id, flat in self.finished.items()}
        arm_index: dict[str, int] = {arm: index for index, arm in enumerate(self.arms)}
        for record in self.resumed:
            compact.setdefault(record["task_id"], []).extend((arm_index[record["arm"]], record["trial"], record["seq"]))
        return compact

    @property
    def paths(self) -> RunPaths:
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
        }

    # -- crossing to workers --------------------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """Plain values for ``workerinput`` (no dataclasses, no paths: execnet sends only builtins)."""
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
            "stop_path": str(self.stop_path),
            "infra_exceptions": list(self.infra_exceptions),
            "infra_retries": self.infra_retries,
            "infra_backoff": self.infra_backoff,
            "budget_usd": self.budget_usd,
            "timeout_s": self.timeout_s,
            "cap_pairs": self.cap_pairs,
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
            stop_path=Path(payload["stop_path"]),
            infra_exceptions=tuple(payload["infra_exceptions"]),
            infra_retries=payload["infra_retries"],
            infra_backoff=payload["infra_backoff"],
            budget_usd=payload["budget_usd"],
            timeout_s=payload["timeout_s"],
            finished=payload["finished"],
            cap_pairs=payload.get("cap_pairs"),
        )


def build_context(options: RunOptions) -> tuple[RunContext, list[str]]:
    """The context of a new or resumed run, and notes for the user (e.g. torn ledger lines skipped)."""
    from pytest_agentopt.configs.arms import validate_arms

    if options.resume is not None:
        return _resumed_context(options)
    import os

    from pytest_agentopt.run.sequential_design import derived_cap_pairs, resolve_direction

    notes: list[str] = []
    arms = validate_arms(options, notes)
    paired = "control" in arms
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
        notes=[direction_note] if direction_note else [],
    )
    warnings = secret_warnings({name: (arm.data, arm.source) for name, arm in arms.items()})
    return context, [*dict.fromkeys(notes), *warnings]


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
}


def _resumed_context(options: RunOptions) -> tuple[RunContext, list[str]]:
    assert options.resume is not None
    from pytest_agentopt.storage.manifest_schema import check_resumable

    paths = resolve_run(options.resume, options.agent_dir)
    manifest = read_manifest(paths)
    check_resumable(manifest, paths.manifest)
    run = manifest["run"]
    notes: list[str] = []
    for flag, key in _RESUME_FIXED.items():
        if flag not in options.sources or getattr(options, key) == run.get(key):
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
        trials=run["trials"],
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
    )
    sources = {arm: context.sources.get(arm) for arm in configs}
    warnings = secret_warnings({arm: (configs.raw(arm), sources[arm]) for arm in configs})
    # Skipped ledger lines are missing data: warnings, which the terminal shows under -q too.
    return context, [*notes, *(f"warning: {problem}" for problem in ledger.problems), *warnings]


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
    overrides = tuple(manifest.get("overrides", ())) if arm == "test" else ()
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
