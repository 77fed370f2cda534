"""Validated configs remembered by content: a hit gives what validation gives, any change of input misses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt import config_cache
from pytest_agentopt.config_cache import CACHE_KEY, MAX_ENTRIES, ArmConfig, resolve_arms, validate_arms
from pytest_agentopt.config_data import FIELD_NAMES
from pytest_agentopt.configs import AgentConfig, load_config
from pytest_agentopt.errors import ConfigError
from pytest_agentopt.options import RunOptions


class JsonCache:
    """pytest's cache in memory: values go through JSON, as on disk."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes = 0

    def get(self, key: str, default: Any) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    def set(self, key: str, value: object) -> None:
        self.writes += 1
        self.values[key] = json.dumps(value)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "m", "max_steps": 5}))
    (tmp_path / "exp.json").write_text(json.dumps({"parent": "base", "guidelines+": ["Be brief"], "temperature": 1}))
    return tmp_path


def options(folder: Path, **kwargs: Any) -> RunOptions:
    return RunOptions(config_path=folder / "exp.json", **kwargs)


def counting_validation(monkeypatch: pytest.MonkeyPatch) -> list[RunOptions]:
    calls: list[RunOptions] = []

    def validate(run_options: RunOptions, notes: list[str] | None = None) -> dict[str, ArmConfig]:
        calls.append(run_options)
        return validate_arms(run_options, notes)

    monkeypatch.setattr(config_cache, "validate_arms", validate)
    return calls


def test_a_hit_returns_what_validation_returned_without_validating(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = JsonCache()
    calls = counting_validation(monkeypatch)
    first = resolve_arms(options(folder), cache)
    second = resolve_arms(options(folder), cache)
    assert len(calls) == 1
    assert second == first
    assert list(second) == ["control", "test"]
    test = load_config(folder / "exp.json")
    assert second["test"].data == test.config.model_dump(mode="json")
    assert second["test"].hash == test.hash
    assert second["test"].lineage == ("exp", "base")
    assert second["test"].data["temperature"] == 1.0  # as validated (an int became a float)
    assert second["control"].data == load_config(folder / "base.json").config.model_dump(mode="json")


@pytest.mark.parametrize(
    ("change", "run_options"),
    [
        ("edit the parent", {}),
        ("edit the test config", {}),
        ("no edit", {"overrides": ("temperature=0.5",)}),
        ("no edit", {"control": "none"}),
        ("no edit", {"target": 0.8}),
    ],
)
def test_any_change_of_input_validates_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch, change: str, run_options: dict[str, Any]
) -> None:
    cache = JsonCache()
    calls = counting_validation(monkeypatch)
    before = resolve_arms(options(folder), cache)
    if change == "edit the parent":
        (folder / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "m", "max_steps": 6}))
    elif change == "edit the test config":
        (folder / "exp.json").write_text(json.dumps({"parent": "base", "temperature": 1}))
    after = resolve_arms(options(folder, **run_options), cache)
    assert len(calls) == 2
    assert after != before


def test_a_changed_validation_code_misses(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = JsonCache()
    calls = counting_validation(monkeypatch)
    resolve_arms(options(folder), cache)
    monkeypatch.setattr(config_cache, "validation_fingerprint", lambda: "another version of configs.py")
    resolve_arms(options(folder), cache)
    assert len(calls) == 2


def test_an_invalid_config_is_reported_every_time_and_never_stored(folder: Path) -> None:
    cache = JsonCache()
    (folder / "exp.json").write_text(json.dumps({"parent": "base", "temperature": 7}))
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"exp\.json: field 'temperature'"):
            resolve_arms(options(folder), cache)
    assert cache.writes == 0


def test_files_that_do_not_form_a_chain_get_the_validating_message(folder: Path) -> None:
    (folder / "exp.json").write_text(json.dumps({"parent": "missing", "model_id": "m"}))
    with pytest.raises(ConfigError, match="no config with experiment_id 'missing'"):
        resolve_arms(options(folder), JsonCache())


@pytest.mark.parametrize(
    "damage",
    [
        lambda arm: arm["data"].update(max_steps=99),  # the stored hash no longer matches the data
        lambda arm: arm.update(lineage="exp"),
        lambda arm: arm.pop("source"),
        lambda arm: arm.update(data=[]),
    ],
)
def test_a_damaged_entry_is_ignored(folder: Path, monkeypatch: pytest.MonkeyPatch, damage: Any) -> None:
    cache = JsonCache()
    calls = counting_validation(monkeypatch)
    expected = resolve_arms(options(folder), cache)
    entries = cache.get(CACHE_KEY, None)
    for entry in entries.values():
        damage(entry["test"])
    cache.set(CACHE_KEY, entries)
    assert resolve_arms(options(folder), cache) == expected
    assert len(calls) == 2


def test_unrelated_cache_contents_are_ignored(folder: Path) -> None:
    cache = JsonCache()
    cache.set(CACHE_KEY, ["not", "a", "mapping"])
    assert resolve_arms(options(folder), cache)["test"].data["experiment_id"] == "exp"
    assert isinstance(cache.get(CACHE_KEY, None), dict)


def test_the_cache_keeps_the_latest_entries(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = JsonCache()
    for value in range(MAX_ENTRIES + 3):
        resolve_arms(options(folder, overrides=(f"max_steps={value + 1}",)), cache)
    entries = cache.get(CACHE_KEY, None)
    assert len(entries) == MAX_ENTRIES
    calls = counting_validation(monkeypatch)
    resolve_arms(options(folder, overrides=(f"max_steps={MAX_ENTRIES + 3}",)), cache)  # the newest: kept
    resolve_arms(options(folder, overrides=("max_steps=1",)), cache)  # the oldest: evicted
    assert len(calls) == 1


def test_without_a_cache_every_run_validates(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_validation(monkeypatch)
    assert resolve_arms(options(folder), None) == resolve_arms(options(folder), None)
    assert len(calls) == 2


def test_the_pure_field_list_matches_the_model() -> None:
    assert tuple(AgentConfig.model_fields) == FIELD_NAMES
