"""Secret-looking values in configs: recognised, fingerprinted and replaced wherever a config is written or printed.

A config's ``params`` may hold what the agent needs to reach its provider (an API key, an ``Authorization``
header). The agent still receives the real value through ``agent_config``; everything the plugin writes or prints
(the manifest, pytest's cache, the terminal header, the JSON summary, the reports, ``repr(agent_config)``) shows
``"<redacted:1a2b3c4d>"`` instead: the first 8 hex digits of the SHA-256 of the value, so a changed secret still
shows as a change (in the diff of the two arms and in the config hash) without showing the secret.

The rule (documented in ``docs/configs.md``):

* a value is secret when its **key looks secret** and the value holds text (a string, or a list or object with a
  string in it). A key looks secret when one of its words - the key split at ``_ - .``, spaces and lower-to-upper
  case changes, lower-cased - is or ends with one of :data:`SECRET_WORDS` (``api_key``, ``apiKey``,
  ``OPENAI_API_KEY``, ``hf_token``, ``accessToken``, ``client_secret``, ``password``, ``Authorization``...).
  Numbers, booleans and null are never secrets, so token counts stay visible whatever their key
  (``max_tokens: 4096``, ``token_limit: 1000``), and so do words that only *start* with a secret word
  (``tokens``, ``tokenizer``, ``keyword``, ``author``);
* whatever its key, a **string that looks like a credential** is secret: one that starts with an HTTP
  authorization scheme (``Bearer ...``, ``Basic ...``), a URL with a password (``https://user:pw@host``), or a
  key in a well-known provider format (``sk-...``, ``sk-ant-...``, ``ghp_...``, ``hf_...``, ``AKIA...``, ``AIza...``,
  ``xoxb-...``).

A false positive (a ``sort_key`` that is no secret) only hides that value; its fingerprint still shows a change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "SECRET_WORDS",
    "fingerprint",
    "holds_redacted",
    "is_secret_key",
    "looks_like_credential",
    "redact",
    "redact_assignment",
    "secret_paths",
]

SECRET_WORDS = (
    "key",
    "keys",
    "token",
    "secret",
    "secrets",
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "pwd",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "cookie",
    "cookies",
    "bearer",
)
REDACTED = re.compile(r"^<redacted:[0-9a-f]{8}>$")
_REDACTED_ANYWHERE = re.compile(r"<redacted:[0-9a-f]{8}>")
_WORD_BOUNDARY = re.compile(r"[^0-9A-Za-z]+|(?<=[a-z0-9])(?=[A-Z])")
_CREDENTIAL = re.compile(
    # An HTTP Authorization value: a scheme and one token (RFC 9110 token68), not a sentence.
    r"^(?:(?:bearer|basic)\s+[A-Za-z0-9._~+/\-]+=*$"
    # A URL with a password in it.
    r"|[a-z][a-z0-9+.\-]*://[^/@\s:]*:[^/@\s]+@"
    # A provider key: a well-known prefix, then at least 16 key characters, a digit among them.
    r"|(?:sk-|ghp_|gho_|ghs_|github_pat_|hf_|xox[abprs]-|AKIA|ASIA|AIza)(?=[A-Za-z_\-]*[0-9])[A-Za-z0-9_\-]{16,}$)",
    re.IGNORECASE,
)


def fingerprint(value: object) -> str:
    """``<redacted:1a2b3c4d>``: what a secret value is shown as (equal values, equal fingerprints)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return f"<redacted:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}>"


def is_secret_key(key: str) -> bool:
    """Whether a key names a secret (see the module docstring): ``api_key`` yes, ``max_tokens`` no."""
    words = (word.lower() for word in _WORD_BOUNDARY.split(key) if word)
    return any(word.endswith(SECRET_WORDS) for word in words)


def looks_like_credential(value: str) -> bool:
    """A string secret by its form whatever its key: ``Bearer ...``, ``https://u:pw@host``, ``sk-...``."""
    return bool(_CREDENTIAL.match(value.strip()))


def _holds_text(value: object) -> bool:
    if isinstance(value, str):
        return bool(value) and not REDACTED.match(value)
    if isinstance(value, Mapping):
        return any(_holds_text(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_text(item) for item in value)
    return False


def _walk(value: Any, path: str, secret_key: bool) -> Iterator[tuple[str, Any]]:
    """``(path, replacement)`` for every secret found under ``value`` (reached by ``path``)."""
    if secret_key and _holds_text(value):
        yield path, fingerprint(value)
    elif isinstance(value, str):
        if not REDACTED.match(value) and looks_like_credential(value):
            yield path, fingerprint(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key), is_secret_key(str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", False)


def redact(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a config's JSON data with every secret replaced by its fingerprint (idempotent)."""
    result: dict[str, Any] = _redacted(data, False)
    return result


def _redacted(value: Any, secret_key: bool) -> Any:
    if secret_key and _holds_text(value):
        return fingerprint(value)
    if isinstance(value, str):
        return fingerprint(value) if not REDACTED.match(value) and looks_like_credential(value) else value
    if isinstance(value, Mapping):
        return {key: _redacted(item, is_secret_key(str(key))) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, False) for item in value]
    return value


def secret_paths(data: Mapping[str, Any]) -> list[str]:
    """The dotted paths of the secrets in a config's data (``params.api_key``, ``params.headers.Authorization``)."""
    return [path for path, _ in _walk(data, "", False)]


def holds_redacted(value: object) -> bool:
    """Whether data read back from a manifest (a config, or an ``--agent-set`` text) has a redacted value: it is
    not what the agent had."""
    if isinstance(value, str):
        return bool(_REDACTED_ANYWHERE.search(value))
    if isinstance(value, Mapping):
        return any(holds_redacted(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(holds_redacted(item) for item in value)
    return False


def redact_assignment(assignment: str) -> str:
    """An ``--agent-set KEY=VALUE`` as it may be written or printed: a secret VALUE becomes its fingerprint."""
    key, sep, text = assignment.partition("=")
    if not sep:
        return assignment
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    last = key.strip().rstrip("+-").rsplit(".", 1)[-1]
    replaced = _redacted(value, is_secret_key(last))
    if replaced == value:
        return assignment
    return f"{key}={replaced if isinstance(replaced, str) else json.dumps(replaced)}"
