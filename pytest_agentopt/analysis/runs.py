"""``load_runs``: what each run under ``<agent-dir>/runs/`` was (its manifest and, when written, its summary)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_agentopt.configs.redaction import redact
from pytest_agentopt.errors import LedgerError
from pytest_agentopt.run.trial_order import is_candidate_arm
from pytest_agentopt.storage.ledger import RunPaths, iter_runs, read_manifest
from pytest_agentopt.storage.summary_schema import read_summary

__all__ = ["ArmInfo", "RunInfo", "load_run", "load_runs", "parent_id", "recorded_lineage"]


@dataclass(frozen=True)
class ArmInfo:
    """One arm of a run: its config as the manifest recorded it."""

    experiment_id: str
    config_hash: str
    model_id: str | None
    parent: str | None
    """The parent's experiment id: the second id of ``lineage`` when the manifest recorded one; in older manifests,
    the config's ``parent`` reference (a path is reduced to its file name without ``.json``, which is the parent's
    experiment id only when the file does not set another)."""
    guidelines: tuple[str, ...]
    prompt_components: tuple[str, ...]
    """MD5s of the arm's guidelines and system-prompt parts."""
    config: dict[str, Any] = field(default_factory=dict, compare=False)
    """The resolved config as recorded (empty when the manifest had none)."""
    lineage: tuple[str, ...] = ()
    """The experiment ids of the config's resolved inheritance chain, this arm's first, as the manifest recorded them
    (empty for manifests written before they were recorded)."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    created_at: str | None
    experiment_id: str | None
    control_experiment_id: str | None
    arms: dict[str, ArmInfo]
    verdict: str | None
    verdict_reason: str | None
    decided_by: str | None
    path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    """The manifest's ``run`` section: seed, trials, arms, sprt, alpha, beta, effect, target, direction."""
    components: dict[str, str] = field(default_factory=dict)
    """MD5 -> text of every prompt component of the run."""
    summary_problem: str | None = field(default=None, compare=False)
    """Why the run's ``summary.json`` cannot be read (then its verdict is unknown); ``None`` when it was read or
    not written yet (a run that has not finished)."""
    candidate_verdicts: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """A run with several candidates: arm -> (verdict, reason) of that candidate against the control."""

    def candidate_arms(self) -> list[str]:
        """The arms compared with the control: ``test`` and, with several candidates, ``test2``, ``test3``..."""
        if "control" not in self.arms:
            return []
        return [arm for arm in self.arms if is_candidate_arm(arm)]

    def verdict_of(self, arm: str) -> tuple[str | None, str | None]:
        """(verdict, reason) of the comparison of ``arm`` with the control in this run."""
        if arm in self.candidate_verdicts:
            return self.candidate_verdicts[arm]
        return (self.verdict, self.verdict_reason) if arm == "test" else (None, None)

    @property
    def paired(self) -> bool:
        return "control" in self.arms and "test" in self.arms

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["summary_problem"]
        data["path"] = str(self.path)
        for arm in data["arms"].values():
            arm["guidelines"] = list(arm["guidelines"])
            arm["prompt_components"] = list(arm["prompt_components"])
            arm["lineage"] = list(arm["lineage"])
        return data


def parent_id(reference: object) -> str | None:
    """The experiment id a ``parent`` reference names: ``exp_041``, ``exp_041.json`` and ``../x/exp_041.json``."""
    if not isinstance(reference, str) or not reference:
        return None
    name = reference.replace("\\", "/").rsplit("/", 1)[-1]
    return name[: -len(".json")] if name.endswith(".json") else name


def _arm(data: dict[str, Any]) -> ArmInfo:
    recorded = data.get("config")
    # Manifests written before secrets were redacted may hold them: nothing read from them shows one.
    config = redact(recorded) if isinstance(recorded, dict) else {}
    guidelines = _list(config.get("guidelines"))
    experiment_id = str(data.get("experiment_id") or config.get("experiment_id") or "")
    lineage = recorded_lineage(data.get("lineage"), experiment_id)
    if len(lineage) < 2 and config.get("parent"):
        lineage = ()  # recorded without its chain (a run resumed from an older manifest): not evidence of no parent
    return ArmInfo(
        experiment_id=experiment_id,
        config_hash=str(data.get("config_hash") or ""),
        model_id=_text(config.get("model_id")),
        parent=lineage[1] if len(lineage) > 1 else parent_id(config.get("parent")),
        guidelines=tuple(str(text) for text in guidelines),
        prompt_components=tuple(str(digest) for digest in _list(data.get("prompt_components"))),
        config=config,
        lineage=lineage,
    )


def recorded_lineage(value: object, experiment_id: str) -> tuple[str, ...]:
    """The arm's ``lineage`` as the manifest recorded it (child first), or ``()`` when it has none usable.

    Manifests written before the lineage was recorded have none; neither has one whose first id is not the arm's.
    """
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        return ()
    return tuple(value) if value[0] == experiment_id else ()


def load_run(paths: RunPaths) -> RunInfo | None:
    """The run in ``paths`` (its manifest, and its summary when written); ``None`` when the manifest is unreadable."""
    try:
        manifest = read_manifest(paths)
    except LedgerError:
        return None
    # The summary is checked once: one that does not have the documented shape gives no figure (its verdict is
    # unknown, and summary_problem says why). A damaged or hand-edited manifest: a value of the wrong type reads
    # as unknown, never a crash.
    stored = read_summary(paths.summary)
    summary = stored.summary
    arms = _dict(manifest.get("arms"))
    return RunInfo(
        run_id=_text(manifest.get("run_id")) or paths.run_id,
        created_at=_text(manifest.get("created_at")),
        experiment_id=_text(manifest.get("experiment_id")),
        control_experiment_id=_text(manifest.get("control_experiment_id")),
        arms={str(arm): _arm(data) for arm, data in arms.items() if isinstance(data, dict)},
        verdict=summary["verdict"] if summary is not None else None,
        verdict_reason=summary["verdict_reason"] if summary is not None else None,
        decided_by=summary["decided_by"] if summary is not None else None,
        path=paths.directory,
        settings=_dict(manifest.get("run")),
        components={str(k): str(v) for k, v in _dict(manifest.get("prompt_components")).items()},
        summary_problem=stored.problem if paths.summary.is_file() else None,
        candidate_verdicts=_candidate_verdicts(summary.get("candidates") if summary is not None else None),
    )


def _candidate_verdicts(value: object) -> dict[str, tuple[str | None, str | None]]:
    """arm -> (verdict, reason) from a summary's ``candidates`` (a damaged entry is left out)."""
    if not isinstance(value, list):
        return {}
    verdicts: dict[str, tuple[str | None, str | None]] = {}
    for candidate in value:
        if isinstance(candidate, dict) and isinstance(candidate.get("arm"), str):
            verdicts[candidate["arm"]] = (_text(candidate.get("verdict")), _text(candidate.get("verdict_reason")))
    return verdicts


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def load_runs(agent_dir: Path) -> list[RunInfo]:
    """Every run with a readable manifest, oldest first (unreadable manifests are skipped)."""
    runs = [info for paths in iter_runs(Path(agent_dir)) if (info := load_run(paths)) is not None]
    runs.sort(key=lambda run: (run.created_at or "", run.run_id))
    return runs
