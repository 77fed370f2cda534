"""LLM-assisted failure analysis: suggested guidelines with the evidence they rest on (``agentopt analyze --llm``).

What is sent is deliberately small and inspectable (``agentopt analyze --show-prompt`` prints it): the failure
clusters of ``analysis.cluster_failures`` (error type, normalised message, one example message, counts, tasks,
arms), the trajectory figures of the failed trials per cluster, and the guidelines the configs already have.
Never API keys, never transcripts (the ledger holds none). The model is any OpenAI-compatible Chat Completions
endpoint the user names; the request is one JSON POST with the standard library, so no client library is needed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from pytest_agentopt.errors import AgentoptUsageError

SYSTEM_PROMPT = (
    "You improve LLM agents by writing prompt guidelines. You get clusters of failed agent trials from a benchmark "
    "(error type, normalised message, an example, how often, on which tasks) and the guidelines the agent already "
    "has. Suggest at most {limit} new guidelines, each one short imperative sentence an agent can follow, each "
    "resting on specific clusters. Do not repeat existing guidelines. Answer with a JSON object: "
    '{{"suggestions": [{{"guideline": str, "clusters": [cluster numbers], "rationale": str}}]}}.'
)


class Suggestion(BaseModel):
    guideline: str = Field(min_length=3, max_length=400)
    clusters: list[int] = Field(default_factory=list)
    rationale: str = ""


class Suggestions(BaseModel):
    suggestions: list[Suggestion]


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str | None
    timeout_s: float = 60.0


def build_messages(
    clusters: Sequence[dict[str, Any]], guidelines: Sequence[str], *, limit: int
) -> list[dict[str, str]]:
    """The chat messages: the instructions, then the clusters and existing guidelines as JSON."""
    payload = {
        "existing_guidelines": list(guidelines),
        "failure_clusters": [
            {
                "cluster": number,
                "error_type": cluster.get("error_type"),
                "message": cluster.get("signature"),
                "example": cluster.get("example_message"),
                "count": cluster.get("count"),
                "share_of_failures": round(float(cluster.get("share", 0.0)), 4),
                "tasks": list(cluster.get("tasks", []))[:10],
                "arms": list(cluster.get("arms", [])),
            }
            for number, cluster in enumerate(clusters, start=1)
        ],
    }
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(limit=limit)},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False, indent=1)},
    ]


def request_suggestions(endpoint: Endpoint, messages: list[dict[str, str]]) -> Suggestions:
    """POST to ``{base_url}/chat/completions`` and parse the suggestions; errors name the endpoint, never the key."""
    body = json.dumps(
        {"model": endpoint.model, "messages": messages, "response_format": {"type": "json_object"}}
    ).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=endpoint.timeout_s) as response:
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = _mask(exc.read().decode("utf-8", "replace")[:300], endpoint.api_key)
        raise AgentoptUsageError(f"{url}: the model endpoint answered HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise AgentoptUsageError(
            f"{url}: cannot reach the model endpoint: {_mask(str(exc), endpoint.api_key)}"
        ) from None
    except json.JSONDecodeError:
        raise AgentoptUsageError(f"{url}: the model endpoint did not answer JSON") from None
    return parse_suggestions(data, url=url)


def parse_suggestions(data: Any, *, url: str) -> Suggestions:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise AgentoptUsageError(f"{url}: not a Chat Completions answer (no choices[0].message.content)") from None
    try:
        return Suggestions.model_validate_json(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AgentoptUsageError(
            f"{url}: the model's answer is not the expected JSON ({where}: {first['msg']}); try a stronger model"
        ) from None


def _mask(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text
