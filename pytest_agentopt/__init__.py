"""pytest-agentopt: sequential A/B testing of LLM agents inside pytest."""

from __future__ import annotations

__version__ = "0.1.0"
