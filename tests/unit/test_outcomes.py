"""What an exception means for a trial."""

from __future__ import annotations

import pytest

from pytest_agentopt.run.outcomes import InfraMatcher, classify, short_message


class RateLimitError(Exception):
    """Stands in for a client library's class (matched by package and name)."""


RateLimitError.__module__ = "openai._exceptions"


class HTTPStatusError(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


def test_success_failure_and_error() -> None:
    infra = InfraMatcher()
    assert classify(None, infra).outcome == "success"
    failure = classify(AssertionError("wrong coupon\nassert False\n +  where False = ok()"), infra)
    assert (failure.outcome, failure.error_type, failure.message) == ("failure", "AssertionError", "wrong coupon")
    error = classify(KeyError("basket"), infra)
    assert (error.outcome, error.error_type, error.message) == ("error", "KeyError", "'basket'")


def test_pytest_fail_is_an_agent_failure() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        pytest.fail("gave up")
    assert classify(info.value, InfraMatcher()).outcome == "failure"


def test_infrastructure_errors_match_by_package_and_name_or_status() -> None:
    infra = InfraMatcher()
    assert classify(RateLimitError("slow down"), infra).outcome == "infra_error"
    assert classify(RateLimitError("x"), infra).error_type == "openai.RateLimitError"
    assert classify(TimeoutError(), infra).outcome == "infra_error"
    assert classify(ConnectionResetError(), infra).outcome == "infra_error"  # a ConnectionError subclass
    assert classify(HTTPStatusError(503), infra).outcome == "infra_error"
    assert classify(HTTPStatusError(429), infra).outcome == "infra_error"
    assert classify(HTTPStatusError(404), infra).outcome == "error"


def test_the_list_of_infrastructure_exceptions_is_configurable() -> None:
    only_keyerror = InfraMatcher(["KeyError"])
    assert classify(KeyError("x"), only_keyerror).outcome == "infra_error"
    assert classify(RateLimitError("x"), only_keyerror).outcome == "error"


def test_long_messages_are_trimmed() -> None:
    message = short_message(ValueError("x" * 2000))
    assert len(message) == 500
    assert message.endswith("...")
