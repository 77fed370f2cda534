"""An OpenAI-compatible backend for the agent loop (Chat Completions with structured JSON output).

Selected by ``params.backend = "openai"``. The model is the config's ``model_id``; the endpoint is
``params.base_url`` (else the SDK's default, which honours ``OPENAI_BASE_URL``); the API key is read from the
environment variable named by ``params.api_key_env`` (default ``OPENAI_API_KEY``) when the client is built.
The key is never part of a returned object, a log line or an error message raised here: an SDK error whose
text contains it is re-raised with the key masked.

Reasoning models (``gpt-5*``, ``o1``/``o3``/``o4*``) accept only their default temperature, so none is sent to
them. Usage comes from the response's ``usage`` (cached and reasoning tokens included) through
:func:`pytest_agentopt.recording.usage.normalize_usage`; a response without usage gives ``None`` (unknown).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, cast

import openai

from pytest_agentopt import AgentConfig, normalize_usage

from .llm import Message, ModelReply
from .params import ExampleParams

_FIXED_TEMPERATURE_MODELS = re.compile(r"^(gpt-5|o\d)")


class MissingApiKeyError(RuntimeError):
    """The environment variable that should hold the API key is not set."""


class BackendError(RuntimeError):
    """A provider error re-raised with the API key masked out of its message."""


class OpenAIChatClient:
    """:class:`~.llm.LLMClient` over an OpenAI-compatible Chat Completions endpoint."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        json_mode: str = "json_schema",
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.json_mode = json_mode
        self.sends_temperature = not _FIXED_TEMPERATURE_MODELS.match(model.split("/")[-1].lower())
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries)

    @classmethod
    def from_config(cls, config: AgentConfig, params: ExampleParams) -> OpenAIChatClient:
        api_key = os.environ.get(params.api_key_env, "")
        if not api_key:
            raise MissingApiKeyError(
                f"config {config.experiment_id}: the openai backend reads its API key from the environment "
                f"variable {params.api_key_env} (params.api_key_env), which is not set"
            )
        return cls(
            model=config.model_id,
            api_key=api_key,
            base_url=params.base_url,
            timeout_s=params.request_timeout_s,
            max_retries=params.max_retries,
            json_mode=params.json_mode,
        )

    def close(self) -> None:
        """Release the HTTP connections of the underlying SDK client."""
        self._client.close()

    def __repr__(self) -> str:
        return f"OpenAIChatClient(model={self.model!r}, base_url={self.base_url!r})"

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_schema: dict[str, Any],
        temperature: float,
        seed: int,
    ) -> ModelReply:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(message) for message in messages],
            "response_format": self._response_format(response_schema),
            "seed": seed,
        }
        if self.sends_temperature:
            request["temperature"] = temperature
        try:
            response = self._client.chat.completions.create(**request)
        except openai.OpenAIError as exc:
            secret = self._client.api_key
            if secret and secret in str(exc):
                raise BackendError(f"{type(exc).__name__}: {str(exc).replace(secret, '***')}") from None
            raise
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = normalize_usage(response.usage, model=self.model) if response.usage is not None else None
        return ModelReply(text=text, usage=usage)

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.json_mode == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": "NextStep", "schema": strict_json_schema(schema), "strict": True},
        }


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema in the subset OpenAI's strict structured outputs accept.

    Every object gets ``additionalProperties: false`` and lists all its properties as required; ``oneOf``
    becomes ``anyOf``; ``const`` becomes a one-value ``enum``; ``discriminator`` and ``default`` are dropped.
    """
    return cast(dict[str, Any], _strict(schema))


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("discriminator", "default"):
            continue
        if key == "oneOf":
            result["anyOf"] = _strict(value)
        elif key == "const":
            result["enum"] = [value]
        elif key in ("properties", "$defs"):
            result[key] = {name: _strict(sub) for name, sub in value.items()}
        else:
            result[key] = _strict(value)
    if result.get("type") == "object" and "properties" in result:
        result["additionalProperties"] = False
        result["required"] = list(result["properties"])
    return result
