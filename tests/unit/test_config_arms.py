"""The run's arms: each validated into JSON data; an invalid config or a broken chain is the user's error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.configs.arms import validate_arms
from pytest_agentopt.configs.data import FIELD_NAMES
from pytest_agentopt.configs.model import AgentConfig, load_config
from pytest_agentopt.errors import ConfigError
from pytest_agentopt.run.options import RunOptions


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "m", "max_steps": 5}))
    (tmp_path / "exp.json").write_text(json.dumps({"parent": "base", "guidelines+": ["Be brief"], "temperature": 1}))
    return tmp_path


def options(folder: Path, **kwargs: Any) -> RunOptions:
    return RunOptions(config_path=folder / "exp.json", **kwargs)


def test_each_arm_is_its_validated_config_as_json_data(folder: Path) -> None:
    arms = validate_arms(options(folder))
    assert list(arms) == ["control", "test"]
    test = load_config(folder / "exp.json")
    assert arms["test"].data == test.config.model_dump(mode="json")
    assert arms["test"].hash == test.hash
    assert arms["control"].data["experiment_id"] == "base"


def test_an_invalid_config_is_reported(folder: Path) -> None:
    (folder / "exp.json").write_text(json.dumps({"parent": "base", "temperature": 7}))
    with pytest.raises(ConfigError, match=r"exp\.json: field 'temperature'"):
        validate_arms(options(folder))


def test_files_that_do_not_form_a_chain_get_the_validating_message(folder: Path) -> None:
    (folder / "exp.json").write_text(json.dumps({"parent": "missing", "model_id": "m"}))
    with pytest.raises(ConfigError, match="no config with experiment_id 'missing'"):
        validate_arms(options(folder))


def test_the_pure_field_list_matches_the_model() -> None:
    assert tuple(AgentConfig.model_fields) == FIELD_NAMES
