"""Exceptions that the plugin turns into clear messages.

Every error a user can cause by what they wrote (a config file, an option, a ledger they point at) is an
:class:`AgentoptUsageError`. The pytest shell re-raises it as :class:`pytest.UsageError`, so pytest prints one
``ERROR:`` paragraph and exits with status 4, without a traceback; the ``agentopt`` command prints it and exits 2.
"""

from __future__ import annotations


class AgentoptUsageError(Exception):
    """Something the user wrote is invalid; the message names where and what would be valid."""


class ConfigError(AgentoptUsageError):
    """An experiment config file (or an override of one) is invalid."""


class LedgerError(AgentoptUsageError):
    """A run directory or its ledger cannot be used (missing, wrong schema, wrong experiment)."""
