"""Secret-looking config values: which are secret, how they are shown, and that hashes and diffs still see them."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from pytest_agentopt.configs.data import data_hash, diff_config_data
from pytest_agentopt.configs.model import AgentConfig, config_hash
from pytest_agentopt.configs.redaction import (
    fingerprint,
    holds_redacted,
    is_secret_key,
    looks_like_credential,
    redact,
    redact_assignment,
    secret_paths,
)

KEY = "sk-proj-0123456789abcdefghij"


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "apiKey",
        "APIKey",
        "OPENAI_API_KEY",
        "x-api-key",
        "hf_token",
        "accessToken",
        "refresh-token",
        "client_secret",
        "password",
        "db.passwd",
        "Authorization",
        "proxy_auth",
        "credentials",
        "session_cookie",
        "private_keys",
    ],
)
def test_keys_that_name_a_secret_are_secret(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["max_tokens", "max_output_tokens", "tokens_per_minute", "tokenizer", "keyword", "author", "temperature", "tools"],
)
def test_token_counts_and_words_that_only_start_like_a_secret_are_not(key: str) -> None:
    assert not is_secret_key(key)


def test_numbers_booleans_and_null_under_a_secret_key_stay_visible() -> None:
    data = {"params": {"token": 4096, "token_limit": 1000, "use_auth": True, "api_key": None}}
    assert redact(data) == data
    assert secret_paths(data) == []


@pytest.mark.parametrize(
    "value",
    [
        "Bearer abc.def-123",
        "basic dXNlcjpwYXNz",
        "postgres://user:hunter2@db.example:5432/x",
        KEY,
        "sk-ant-api03-abcdefghijklmnop0123",
        "ghp_0123456789abcdefghijABCD",
        "AKIA0123456789ABCDEF",
    ],
)
def test_credential_shaped_strings_are_secret_whatever_their_key(value: str) -> None:
    assert looks_like_credential(value)
    assert redact({"params": {"note": value}})["params"]["note"] == fingerprint(value)


@pytest.mark.parametrize(
    "value",
    ["Basic answer style", "sk-learn-compatible-model", "https://api.example.com:8443/v1", "gpt-4.1-mini", ""],
)
def test_ordinary_text_is_not_mistaken_for_a_credential(value: str) -> None:
    assert not looks_like_credential(value)


def test_a_secret_becomes_the_first_eight_hex_digits_of_its_sha256() -> None:
    digest = hashlib.sha256(KEY.encode()).hexdigest()[:8]
    data = {"params": {"api_key": KEY, "headers": {"Authorization": "Bearer t0ken", "X-Trace": "1"}, "keys": ["a"]}}
    redacted = redact(data)
    assert redacted["params"]["api_key"] == f"<redacted:{digest}>"
    assert redacted["params"]["headers"] == {"Authorization": fingerprint("Bearer t0ken"), "X-Trace": "1"}
    assert redacted["params"]["keys"] == fingerprint(["a"])
    assert data["params"]["api_key"] == KEY  # a copy: the original keeps the real value
    assert secret_paths(data) == ["params.api_key", "params.headers.Authorization", "params.keys"]
    assert redact(redacted) == redacted
    assert holds_redacted(redacted)
    assert not holds_redacted(data)


def base(**params: Any) -> dict[str, Any]:
    return AgentConfig(experiment_id="e", model_id="m", params=params).model_dump(mode="json")


def test_a_changed_secret_changes_the_hash_and_shows_in_the_diff_without_its_value() -> None:
    before, after = base(api_key="sk-one-0123456789abcdefgh"), base(api_key="sk-two-0123456789abcdefgh")
    assert data_hash(before) != data_hash(after)
    (change,) = diff_config_data(before, after)
    assert change.key == "params.api_key"
    assert change.before == fingerprint("sk-one-0123456789abcdefgh")
    assert "sk-" not in change.describe()


def test_the_hash_of_a_redacted_manifest_config_is_the_hash_of_the_real_config() -> None:
    real = base(api_key=KEY, max_tokens=100)
    assert data_hash(redact(real)) == data_hash(real)
    assert data_hash(base(max_tokens=100)) == data_hash(base(max_tokens=100))


def test_repr_and_str_of_a_config_redact_and_its_values_stay_real() -> None:
    config = AgentConfig(experiment_id="e", model_id="m", params={"api_key": KEY, "max_tokens": 7})
    for shown in (repr(config), str(config), f"{config!r}"):
        assert KEY not in shown
        assert fingerprint(KEY) in shown
        assert "'max_tokens': 7" in shown
    assert config.params["api_key"] == KEY
    assert config.model_dump()["params"]["api_key"] == KEY
    assert config_hash(config) == data_hash(redact(config.model_dump(mode="json")))


def test_an_override_with_a_secret_is_written_as_its_fingerprint() -> None:
    assert redact_assignment(f"params.api_key={KEY}") == f"params.api_key={fingerprint(KEY)}"
    assert redact_assignment('params.headers={"Authorization": "Bearer x1"}') == (
        'params.headers={"Authorization": "' + fingerprint("Bearer x1") + '"}'
    )
    assert redact_assignment("temperature=0.3") == "temperature=0.3"
    assert redact_assignment("params.max_tokens=100") == "params.max_tokens=100"
