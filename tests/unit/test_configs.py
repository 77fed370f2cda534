"""Configs: inheritance, list forms, overrides, hashes, diffs and the messages of every kind of error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.configs.model import (
    apply_overrides,
    config_hash,
    diff_configs,
    find_config,
    load_config,
    load_parent,
    parse_assignment,
    prompt_components,
    text_hash,
)
from pytest_agentopt.errors import ConfigError


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "baseline.json",
        {
            "experiment_id": "baseline",
            "model_id": "gpt-5-mini",
            "guidelines": ["Be precise"],
            "params": {"tools": ["search", "basket"], "retry": {"max": 2, "backoff": 1.0}},
        },
    )
    write(tmp_path, "exp_041.json", {"experiment_id": "exp_041", "parent": "baseline", "temperature": 0.3})
    return write(
        tmp_path,
        "exp_042.json",
        {
            "experiment_id": "exp_042",
            "parent": "exp_041",
            "guidelines+": ["Check coupon limits first"],
            "params": {"retry": {"max": 5}, "tools+": ["coupons"]},
        },
    )


def test_it_resolves_a_chain_with_deep_merge_and_list_forms(chain: Path) -> None:
    resolved = load_config(chain)
    config = resolved.config
    assert config.experiment_id == "exp_042"
    assert config.parent == "exp_041"
    assert config.model_id == "gpt-5-mini"
    assert config.temperature == 0.3
    assert config.guidelines == ["Be precise", "Check coupon limits first"]
    assert config.params == {"tools": ["search", "basket", "coupons"], "retry": {"max": 5, "backoff": 1.0}}
    assert [p.name for p in resolved.chain] == ["exp_042.json", "exp_041.json", "baseline.json"]


def test_it_finds_the_parent_by_path_or_by_experiment_id(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    write(tmp_path, "renamed.json", {"experiment_id": "root", "model_id": "m"})
    by_id = write(tmp_path, "child.json", {"experiment_id": "child", "parent": "root"})
    by_path = write(sub, "child2.json", {"experiment_id": "child2", "parent": "../renamed.json"})
    assert load_config(by_id).config.model_id == "m"
    assert load_config(by_path).config.model_id == "m"
    parent = load_parent(load_config(by_id))
    assert parent is not None
    assert parent.experiment_id == "root"


def test_a_file_without_experiment_id_takes_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "exp_7.json", {"model_id": "m"})
    assert load_config(path).experiment_id == "exp_7"


def test_removing_a_list_item_and_replacing_a_list(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"experiment_id": "a", "model_id": "m", "guidelines": ["x", "y"], "system_prompt": ["p"]})
    child = write(tmp_path, "b.json", {"parent": "a", "guidelines-": ["x"], "system_prompt": ["q", "r"]})
    config = load_config(child).config
    assert config.guidelines == ["y"]
    assert config.system_prompt == ["q", "r"]


def test_the_hash_ignores_ids_and_parents_but_not_content(chain: Path, tmp_path: Path) -> None:
    same = write(
        tmp_path,
        "flat.json",
        {
            "experiment_id": "flat",
            "model_id": "gpt-5-mini",
            "temperature": 0.3,
            "guidelines": ["Be precise", "Check coupon limits first"],
            "params": {"tools": ["search", "basket", "coupons"], "retry": {"max": 5, "backoff": 1.0}},
        },
    )
    assert load_config(chain).hash == load_config(same).hash
    changed = apply_overrides(load_config(same), ["temperature=0.4"])
    assert changed.hash != load_config(same).hash
    assert len(config_hash(changed.config)) == 16


def test_prompt_components_map_md5_to_text(chain: Path) -> None:
    components = prompt_components(load_config(chain).config)
    assert components[text_hash("Check coupon limits first")] == "Check coupon limits first"
    assert set(components.values()) == {"Be precise", "Check coupon limits first"}


def test_md5_of_a_guideline_is_the_standard_md5() -> None:
    # echo -n "abc" | md5sum
    assert text_hash("abc") == "900150983cd24fb0d6963f7d28e17f72"


def test_overrides_use_dotted_keys_json_values_and_append(chain: Path) -> None:
    resolved = apply_overrides(
        load_config(chain),
        ["temperature=0.7", "params.retry.max=9", 'guidelines+=["Be brief"]', "model_id=gpt-5"],
    )
    config = resolved.config
    assert config.temperature == 0.7
    assert config.params["retry"] == {"max": 9, "backoff": 1.0}
    assert config.guidelines[-1] == "Be brief"
    assert config.model_id == "gpt-5"
    assert resolved.overrides == (
        "temperature=0.7",
        "params.retry.max=9",
        'guidelines+=["Be brief"]',
        "model_id=gpt-5",
    )


def test_diff_lists_changed_keys_with_added_guidelines(chain: Path, tmp_path: Path) -> None:
    control = load_config(tmp_path / "exp_041.json").config
    test = load_config(chain).config
    changes = {change.key: change for change in diff_configs(control, test)}
    assert set(changes) == {"guidelines", "params.retry.max", "params.tools"}
    assert changes["guidelines"].describe() == 'guidelines: +"Check coupon limits first"'
    assert changes["params.retry.max"].describe() == "params.retry.max: 2 -> 5"


def test_find_config_accepts_a_path_or_an_id(chain: Path, tmp_path: Path) -> None:
    assert find_config(str(tmp_path / "baseline.json"), relative_to=chain) == tmp_path / "baseline.json"
    assert find_config("exp_041", relative_to=chain) == tmp_path / "exp_041.json"


# -- errors ---------------------------------------------------------------------------------------------------


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{"model_id": "m",\n  "temperature": }')
    message = error_of(path)
    assert message.startswith(f"{path}: invalid JSON at line 2, column 18")


def test_an_unknown_key_names_the_file_that_has_it_and_the_valid_keys(tmp_path: Path) -> None:
    write(tmp_path, "base.json", {"experiment_id": "base", "model_id": "m", "guidlines": ["typo"]})
    child = write(tmp_path, "child.json", {"experiment_id": "child", "parent": "base"})
    message = error_of(child)
    assert message.startswith(f"{tmp_path / 'base.json'}: field 'guidlines': unknown key")
    assert "valid keys are experiment_id, parent, model_id" in message
    assert "'params'" in message


def test_free_form_keys_are_allowed_under_params(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", {"model_id": "m", "params": {"anything": {"goes": [1, 2]}}})
    assert load_config(path).config.params == {"anything": {"goes": [1, 2]}}


def test_a_wrong_type_names_the_field_and_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", {"model_id": "m", "temperature": "hot"})
    message = error_of(path)
    assert message.startswith(f"{path}: field 'temperature': Input should be a valid number")
    assert '(got "hot")' in message


def test_an_out_of_range_value_says_what_is_valid(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a.json", {"model_id": "m", "max_steps": 0}))
    assert "field 'max_steps': Input should be greater than or equal to 1" in message


def test_a_nested_price_error_names_the_dotted_field(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", {"model_id": "m", "prices": {"m": {"input": -1, "output": 2}}})
    assert "field 'prices.m.input'" in error_of(path)


def test_a_missing_parent_lists_the_experiment_ids_found(tmp_path: Path) -> None:
    write(tmp_path, "base.json", {"experiment_id": "base", "model_id": "m"})
    child = write(tmp_path, "child.json", {"parent": "bsae"})
    message = error_of(child)
    assert message.startswith(f"{child}: field 'parent': no config with experiment_id 'bsae'")
    assert "base" in message


def test_a_missing_parent_path_names_the_path(tmp_path: Path) -> None:
    child = write(tmp_path, "child.json", {"parent": "../nowhere/base.json"})
    assert "field 'parent': no config file" in error_of(child)


def test_a_cycle_is_reported_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"experiment_id": "a", "parent": "b", "model_id": "m"})
    write(tmp_path, "b.json", {"experiment_id": "b", "parent": "c"})
    c = write(tmp_path, "c.json", {"experiment_id": "c", "parent": "a"})
    message = error_of(c)
    assert "field 'parent': inheritance cycle" in message
    assert "a.json" in message
    assert "b.json" in message


def test_a_missing_required_field_says_where_it_can_be_set(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "a.json", {"experiment_id": "a"}))
    assert "field 'model_id': required, missing (set it here or in a parent config)" in message


def test_removing_an_absent_item_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"experiment_id": "a", "model_id": "m", "guidelines": ["x"]})
    child = write(tmp_path, "b.json", {"parent": "a", "guidelines-": ["y"]})
    assert "field 'guidelines-': cannot remove 'y'" in error_of(child)


def test_a_list_form_on_an_unknown_key_is_an_unknown_key(tmp_path: Path) -> None:
    assert "field 'tools+': unknown key" in error_of(write(tmp_path, "a.json", {"model_id": "m", "tools+": ["x"]}))


def test_a_config_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", "[1, 2]")
    assert error_of(path) == f"{path}: a config must be a JSON object, got a list"


def test_a_bad_override_names_the_option(chain: Path) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(load_config(chain), ["temperature=hot"])
    assert str(info.value).startswith("--agent-set temperature=hot: field 'temperature'")
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignment("temperature")
    with pytest.raises(ConfigError, match="'experiment_id' cannot be overridden"):
        parse_assignment("experiment_id=x")


def test_an_override_value_that_is_not_json_is_a_string() -> None:
    assert parse_assignment("model_id=gpt-5") == ("model_id", "gpt-5")
    assert parse_assignment("params.n=3") == ("params.n", 3)


def test_a_parent_id_the_system_cannot_take_as_a_file_name_is_no_such_config(tmp_path: Path) -> None:
    from pytest_agentopt.configs.model import load_config
    from pytest_agentopt.errors import ConfigError

    (tmp_path / "child.json").write_text(json.dumps({"model_id": "m", "parent": "9" * 5000}))
    with pytest.raises(ConfigError, match="field 'parent': no config with experiment_id '9999"):
        load_config(tmp_path / "child.json")
