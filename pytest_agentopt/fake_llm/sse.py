"""Server-sent events: the wire format of every streaming endpoint."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_PIECES = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True)
class SseEvent:
    """One event: an optional ``event:`` name and its ``data:`` text."""

    data: str
    event: str | None = None

    def encode(self) -> bytes:
        lines = [f"event: {self.event}"] if self.event is not None else []
        lines.extend(f"data: {line}" for line in self.data.split("\n"))
        return ("\n".join(lines) + "\n\n").encode()


def json_event(payload: dict[str, Any], event: str | None = None) -> SseEvent:
    """An event whose data is ``payload`` as compact JSON."""
    return SseEvent(json.dumps(payload, separators=(",", ":")), event)


def stream_pieces(text: str) -> list[str]:
    """``text`` cut into word-sized pieces that concatenate back to it, as models stream tokens."""
    return _PIECES.findall(text)
