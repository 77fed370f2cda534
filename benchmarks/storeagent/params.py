"""The example agent's own settings, read from the config's free-form ``params`` section."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_agentopt import AgentConfig


class ExampleParams(BaseModel):
    """``params`` keys understood by the store agent (unknown keys are an error, to catch typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["simulated", "openai"] = "simulated"
    # Simulated backend.
    sim_tier: Literal["small", "medium", "large", "frontier"] | None = None
    sim_latency_s: Annotated[float, Field(ge=0)] = 0.0
    # OpenAI-compatible backend.
    base_url: str | None = None
    api_key_env: Annotated[str, Field(min_length=1)] = "OPENAI_API_KEY"
    json_mode: Literal["json_schema", "json_object"] = "json_schema"
    request_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    max_retries: Annotated[int, Field(ge=0)] = 2


def example_params(config: AgentConfig) -> ExampleParams:
    """Validate ``config.params``; raises :class:`ValueError` naming the config and the bad key."""
    try:
        return ExampleParams.model_validate(config.params)
    except ValidationError as exc:
        problems = "; ".join(
            f"params.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"config {config.experiment_id}: {problems}") from None
