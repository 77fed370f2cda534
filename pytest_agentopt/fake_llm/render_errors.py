"""HTTP error bodies and headers, in the shape of the API that was called.

OpenAI: ``{"error": {"message", "type", "param", "code"}}``. Anthropic:
``{"type": "error", "error": {"type", "message"}, "request_id"}``. Both SDKs pick their exception class from
the status code (the mapping is in the package docstring).
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias

from pytest_agentopt.fake_llm.replies import ErrorReply

ApiFamily: TypeAlias = Literal["openai", "anthropic"]

_OPENAI_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout_error", None),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}
_ANTHROPIC_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_DEFAULT_MESSAGES: dict[int, str] = {
    400: "Invalid request (scripted by fake_llm).",
    401: "Invalid API key (scripted by fake_llm).",
    403: "Permission denied (scripted by fake_llm).",
    404: "Not found (scripted by fake_llm).",
    408: "Request timed out (scripted by fake_llm).",
    409: "Conflict (scripted by fake_llm).",
    429: "Rate limit reached (scripted by fake_llm).",
    500: "The server had an error while processing your request (scripted by fake_llm).",
    502: "Bad gateway (scripted by fake_llm).",
    503: "The engine is currently overloaded (scripted by fake_llm).",
    504: "Gateway timeout (scripted by fake_llm).",
    529: "Overloaded (scripted by fake_llm).",
}


def error_message(error: ErrorReply) -> str:
    return error.message or _DEFAULT_MESSAGES.get(error.status, f"HTTP {error.status} (scripted by fake_llm).")


def error_body(error: ErrorReply, family: ApiFamily, request_id: str) -> dict[str, Any]:
    """The JSON body of ``error`` as the ``family`` API writes it."""
    message = error_message(error)
    if family == "anthropic":
        error_type = _ANTHROPIC_TYPES.get(error.status, "api_error" if error.status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
    default_type = "server_error" if error.status >= 500 else "invalid_request_error"
    error_type, code = _OPENAI_TYPES.get(error.status, (default_type, None))
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def error_headers(error: ErrorReply) -> list[tuple[str, str]]:
    """``retry-after``/``retry-after-ms`` and ``x-should-retry`` as scripted."""
    headers: list[tuple[str, str]] = []
    if error.retry_after is not None:
        milliseconds = error.retry_after * 1000
        headers.append(("retry-after", str(math.ceil(error.retry_after))))
        headers.append(("retry-after-ms", f"{milliseconds:g}"))
    if error.should_retry is not None:
        headers.append(("x-should-retry", "true" if error.should_retry else "false"))
    return headers
