"""``cluster_failures``: why trials fail, grouped by error type and the shape of the message.

Messages that differ only in numbers and identifiers say the same thing ("expected 2 x SKU-1042, found 1" and
"expected 3 x SKU-77, found 0"), so each message is normalised before grouping: ISO dates and times become
``<date>``, UUIDs and tokens that mix letters and digits (``SKU-1042``, ``ord_5f3a``, ``gw3``) become ``<id>``,
remaining numbers (``3``, ``-0.25``, ``$12.50``) become ``<n>``, and runs of whitespace one space. Failed and
errored trials count; infrastructure and set-up errors are not the agent's and stay out.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from pytest_agentopt.analysis.groups import Groups
from pytest_agentopt.analysis.table import TrialTable

__all__ = ["FAILED_OUTCOMES", "FAILURE_COLUMNS", "cluster_failures", "normalise_message"]

FAILED_OUTCOMES = frozenset({"failure", "error"})
FAILURE_COLUMNS = frozenset({"outcome", "error_type", "message", "task_id", "task_code", "arm", "experiment_id"})
"""The ledger columns ``cluster_failures`` reads."""
SIGNATURE_LIMIT = 200

_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_MIXED_TOKEN = re.compile(r"\b(?=[\w-]*[A-Za-z_])(?=[\w-]*\d)\w[\w-]*")
_NUMBER = re.compile(r"[-+]?\$?\d+(?:[.,]\d+)*")
_SPACES = re.compile(r"\s+")


def normalise_message(message: str | None) -> str:
    """The message with identifiers and numbers replaced (see the module docstring); ``""`` for no message."""
    if not message:
        return ""
    text = _DATE.sub("<date>", message)
    text = _UUID.sub("<id>", text)
    text = _MIXED_TOKEN.sub("<id>", text)
    text = _NUMBER.sub("<n>", text)
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= SIGNATURE_LIMIT else text[: SIGNATURE_LIMIT - 3] + "..."


def cluster_failures(table: TrialTable, *, limit: int | None = 20) -> list[dict[str, Any]]:
    """The largest ``limit`` clusters (all with ``None``), largest first.

    Keys: ``signature`` (the normalised message), ``error_type``, ``example_message`` (the first one seen),
    ``count``, ``share`` (of all failed and errored trials), ``tasks`` (task codes, or ids without a code, most
    frequent first), ``arms``, ``experiments``.
    """
    outcome = table.categorical("outcome")
    failed = outcome.lookup([value in FAILED_OUTCOMES for value in outcome.categories])
    total = int(failed.sum())
    if total == 0:
        return []
    messages = table.categorical("message")
    signature_of_message = [normalise_message(value) for value in messages.categories]
    signatures = list(dict.fromkeys(signature_of_message))
    signature_code = {text: code for code, text in enumerate(signatures)}
    message_to_signature = np.array([signature_code[text] for text in signature_of_message], dtype=np.int64)
    error_codes = table.codes("error_type").astype(np.int64)
    keys = error_codes * max(1, len(signatures)) + message_to_signature[messages.codes]
    positions = np.flatnonzero(failed)
    unique, first, inverse, counts = np.unique(
        keys[positions], return_index=True, return_inverse=True, return_counts=True
    )
    order = sorted(range(unique.size), key=lambda i: (-int(counts[i]), int(first[i])))
    if limit is not None:
        order = order[: max(0, limit)]
    rank = np.full(unique.size, -1, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    index = np.full(len(table), -1, dtype=np.int64)
    index[positions] = rank[inverse.reshape(-1)]
    groups = Groups(index=index, labels=list(range(len(order))))
    tasks = _most_frequent_tasks(table, groups)
    arms = groups.distinct(table, "arm")
    experiments = groups.distinct(table, "experiment_id")
    error_types = table.categories("error_type")
    width = max(1, len(signatures))
    rows: list[dict[str, Any]] = []
    for g, i in enumerate(order):
        key = int(unique[i])
        example = positions[int(first[i])]
        rows.append(
            {
                "signature": signatures[key % width],
                "error_type": error_types[key // width],
                "example_message": messages.categories[int(messages.codes[example])],
                "count": int(counts[i]),
                "share": int(counts[i]) / total,
                "tasks": tasks[g],
                "arms": [str(arm) for arm in arms[g]],
                "experiments": [str(experiment) for experiment in experiments[g]],
            }
        )
    return rows


def _most_frequent_tasks(table: TrialTable, groups: Groups) -> list[list[str]]:
    """Per cluster, its tasks (code, or id when the task has no code) by number of failures, most first."""
    ids = table.categories("task_id")
    width = max(1, len(ids))
    inside = groups.index >= 0
    keys = groups.index[inside] * width + table.codes("task_id")[inside]
    unique, counts = np.unique(keys, return_counts=True)
    code_of_task = _code_per_task(table)
    per_group: list[list[tuple[int, str]]] = [[] for _ in groups.labels]
    for key, count in zip(unique.tolist(), counts.tolist(), strict=True):
        task = key % width
        label = code_of_task.get(task) or str(ids[task])
        per_group[key // width].append((-count, label))
    return [[label for _, label in sorted(entries)] for entries in per_group]


def _code_per_task(table: TrialTable) -> dict[int, str | None]:
    """task_id code -> its task code (the first one recorded)."""
    task_codes = table.codes("task_id")
    unique, first = np.unique(task_codes, return_index=True)
    categories = table.categories("task_code")
    code_codes = table.codes("task_code")
    return {int(task): categories[int(code_codes[position])] for task, position in zip(unique, first, strict=True)}
