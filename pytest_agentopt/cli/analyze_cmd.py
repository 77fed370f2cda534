"""``agentopt analyze``: failure clusters, and with ``--llm`` guidelines a model suggests from them."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.analysis_common import (
    add_agent_dir,
    add_filters,
    agent_dir,
    empty_message,
    load_filtered,
    print_json,
    render_table,
)
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.storage.ledger import resolve_run

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "analyze",
        help="failure clusters; with --llm, guidelines suggested by a model from them",
        description=(
            "Group failed and errored trials by error type and message shape. With --llm, send the clusters "
            "(error types, normalised and example messages, counts, task codes) and the configs' existing "
            "guidelines - never API keys or transcripts - to an OpenAI-compatible model and print the guidelines "
            "it suggests, each with the clusters it rests on. --show-prompt prints exactly what would be sent."
        ),
    )
    add_agent_dir(parser)
    add_filters(parser)
    parser.add_argument("--run", metavar="RUN", help="only this run (an id under --agent-dir or a run directory)")
    parser.add_argument("--limit", type=int, default=15, metavar="N", help="largest N clusters (default 15)")
    parser.add_argument("--llm", action="store_true", help="ask a model for guidelines (off by default)")
    parser.add_argument("--llm-model", metavar="NAME", help="the model (required with --llm)")
    parser.add_argument(
        "--llm-base-url",
        metavar="URL",
        help=f"OpenAI-compatible base URL; default $OPENAI_BASE_URL or {DEFAULT_BASE_URL}",
    )
    parser.add_argument(
        "--llm-api-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="environment variable holding the API key (default OPENAI_API_KEY); the key is never printed",
    )
    parser.add_argument("--suggestions", type=int, default=5, metavar="K", help="at most K guidelines (default 5)")
    parser.add_argument("--show-prompt", action="store_true", help="print the messages that --llm would send")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis import FAILURE_COLUMNS, cluster_failures
    from pytest_agentopt.analysis.llm_guidelines import build_messages, request_suggestions

    if args.limit < 1 or args.suggestions < 1:
        raise AgentoptUsageError("--limit and --suggestions must be at least 1")
    runs, source = _runs(args)
    table = load_filtered(args, columns=FAILURE_COLUMNS, source=source)
    clusters = cluster_failures(table, limit=args.limit)
    if not clusters:
        if args.json:
            print_json({"clusters": [], "prompt": None})
        else:
            print(empty_message(args, "failed or errored trials"))
        return 0
    experiments = set(table.categories("experiment_id"))
    guidelines = sorted(
        {
            guideline
            for info in runs
            for arm in info.arms.values()
            if arm.experiment_id in experiments
            for guideline in arm.guidelines
        }
    )
    messages = build_messages(clusters, guidelines, limit=args.suggestions)
    if args.show_prompt:
        print(json.dumps(messages, indent=2, ensure_ascii=False))
        return 0
    if not args.llm:
        if args.json:
            print_json({"clusters": clusters, "prompt": messages})
            return 0
        _print_clusters(clusters)
        print("\nadd --llm --llm-model NAME for suggested guidelines (--show-prompt shows what would be sent)")
        return 0
    endpoint = _endpoint(args)
    suggestions = request_suggestions(endpoint, messages).suggestions
    if args.json:
        print_json({"clusters": clusters, "prompt": messages, "suggestions": [s.model_dump() for s in suggestions]})
        return 0
    _print_clusters(clusters)
    print(f"\nsuggested guidelines ({endpoint.model}; check them with an experiment before adopting them):")
    for number, suggestion in enumerate(suggestions, start=1):
        print(f"\n{number}. {suggestion.guideline}")
        if suggestion.rationale:
            print(f"   why: {suggestion.rationale}")
        for index in suggestion.clusters:
            if 1 <= index <= len(clusters):
                cluster = clusters[index - 1]
                print(
                    f"   evidence: cluster {index}: {cluster['count']} trials, {cluster['error_type']}: "
                    f"{cluster['signature']}"
                )
    return 0


def _runs(args: argparse.Namespace) -> tuple[list[Any], Path | None]:
    """The runs whose configs' guidelines the prompt lists, and the run directory ``--run`` names (or None).

    ``--run`` may name a run directory anywhere (as in ``agentopt failures``), so ``--agent-dir`` need not exist
    then: the guidelines are that run's own.
    """
    from pytest_agentopt.analysis import load_run, load_runs

    if not args.run:
        return load_runs(agent_dir(args)), None
    paths = resolve_run(args.run, Path(args.agent_dir))
    info = load_run(paths)
    return ([info] if info is not None else []), paths.directory


def _endpoint(args: argparse.Namespace) -> Any:
    from pytest_agentopt.analysis.llm_guidelines import Endpoint

    if not args.llm_model:
        raise AgentoptUsageError("--llm needs --llm-model NAME (the model to ask, e.g. gpt-5-mini)")
    base_url = args.llm_base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    key = os.environ.get(args.llm_api_key_env) or None
    if key is None and not _is_loopback(base_url):
        raise AgentoptUsageError(
            f"--llm: the environment variable {args.llm_api_key_env} is not set (the API key for {base_url}); "
            "set it, or name another variable with --llm-api-key-env"
        )
    return Endpoint(base_url=base_url, model=args.llm_model, api_key=key)


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _print_clusters(clusters: list[dict[str, Any]]) -> None:
    rows = [
        [
            index,
            cluster["count"],
            fmt.pct(cluster["share"], 0),
            cluster["error_type"],
            cluster["signature"],
            ", ".join(cluster["tasks"][:4]),
        ]
        for index, cluster in enumerate(clusters, start=1)
    ]
    print(render_table(("#", "count", "share", "error type", "message (normalised)", "tasks"), rows, wrap=(4,)))
