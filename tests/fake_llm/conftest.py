"""Fixtures for the fake_llm tests: the server (built as the plugin's ``fake_llm`` fixture builds it) and real
SDK clients pointed at it, with SDK retries off unless a test asks for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import anthropic
import openai
import pytest

from pytest_agentopt.fake_llm import FakeLLM
from pytest_agentopt.fake_llm.fixture import fake_llm_fixture

API_KEY = "test-key-9f8e7d6c5b4a"


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    yield from fake_llm_fixture()


@pytest.fixture
def api_key() -> str:
    """The key every client sends; no trace of it may reach the request log."""
    return API_KEY


@pytest.fixture
def make_openai(fake_llm: FakeLLM) -> Iterator[Callable[..., openai.OpenAI]]:
    """Build OpenAI clients on the fake server (``max_retries=0`` unless given); closed after the test."""
    with ExitStack() as clients:

        def build(**options: Any) -> openai.OpenAI:
            options = {"max_retries": 0, **options}
            client = openai.OpenAI(base_url=fake_llm.base_url, api_key=API_KEY, **options)
            return clients.enter_context(client)

        yield build


@pytest.fixture
def make_anthropic(fake_llm: FakeLLM) -> Iterator[Callable[..., anthropic.Anthropic]]:
    """Build Anthropic clients on the fake server (``max_retries=0`` unless given); closed after the test."""
    with ExitStack() as clients:

        def build(**options: Any) -> anthropic.Anthropic:
            options = {"max_retries": 0, **options}
            client = anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key=API_KEY, **options)
            return clients.enter_context(client)

        yield build


@pytest.fixture
def openai_client(make_openai: Callable[..., openai.OpenAI]) -> openai.OpenAI:
    return make_openai()


@pytest.fixture
def anthropic_client(make_anthropic: Callable[..., anthropic.Anthropic]) -> anthropic.Anthropic:
    return make_anthropic()
