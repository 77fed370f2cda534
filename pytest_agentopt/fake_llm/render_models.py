"""``GET /v1/models``: the model list as OpenAI writes it, or Anthropic when ``anthropic-version`` is sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# A fixed creation time keeps bodies deterministic: 2025-01-01T00:00:00Z.
CREATED_AT_UNIX = 1_735_689_600
CREATED_AT_ISO = "2025-01-01T00:00:00Z"


def openai_model(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": CREATED_AT_UNIX, "owned_by": "fake_llm"}


def anthropic_model(model: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model,
        "display_name": model,
        "created_at": CREATED_AT_ISO,
        "lifecycle": "active",
    }


def openai_models(models: Sequence[str]) -> dict[str, Any]:
    return {"object": "list", "data": [openai_model(model) for model in models]}


def anthropic_models(models: Sequence[str]) -> dict[str, Any]:
    return {
        "data": [anthropic_model(model) for model in models],
        "has_more": False,
        "first_id": models[0] if models else None,
        "last_id": models[-1] if models else None,
    }
