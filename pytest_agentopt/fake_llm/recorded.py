"""The request log: what the fake server received, with credentials removed.

Credential headers are dropped, not masked: the log only says that a key was present
(``api_key_present``), so no trace of a key can leak into a test's output, a report or a run directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from pytest_agentopt.fake_llm.tokens import prompt_text

Endpoint: TypeAlias = Literal["chat.completions", "responses", "messages", "models"]

CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)
CREDENTIAL_QUERY_KEYS = frozenset({"key", "api_key", "api-key", "access_token"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received.

    ``headers`` have lower-case names and never contain credential headers (``authorization``, ``x-api-key``,
    ...); ``api_key_present`` tells whether one was sent. ``json`` is the decoded body (``None`` when empty or
    not JSON). ``status`` is the HTTP status answered and ``problem`` says why the server itself refused the
    request (no scripted reply left, unknown path, invalid body...), ``None`` for scripted answers, scripted
    errors included. In the object passed to a ``default_reply`` callable, ``status`` is still ``None``.
    Plain data throughout, so a record can be pickled or turned into JSON.
    """

    method: str
    path: str
    json: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    api_key_present: bool = False
    endpoint: Endpoint | None = None
    model: str | None = None
    stream: bool = False
    status: int | None = None
    problem: str | None = None

    @property
    def prompt_text(self) -> str:
        """The request's prompt text (system, instructions, messages, input), for dynamic replies."""
        return prompt_text(self.json)


def redact_headers(headers: Mapping[str, str]) -> tuple[Mapping[str, str], bool]:
    """Headers without credentials (lower-case names), and whether any credential header was present."""
    kept = {name.lower(): value for name, value in headers.items() if name.lower() not in CREDENTIAL_HEADERS}
    present = any(name.lower() in CREDENTIAL_HEADERS for name in headers)
    return kept, present


def redact_query(query: Mapping[str, str]) -> tuple[Mapping[str, str], bool]:
    """Query parameters without credential-like keys, and whether any was present."""
    kept = {key: value for key, value in query.items() if key.lower() not in CREDENTIAL_QUERY_KEYS}
    return kept, len(kept) != len(query)
