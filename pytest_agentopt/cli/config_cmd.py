"""``agentopt config show FILE`` and ``agentopt config diff A B``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pytest_agentopt.configs.model import apply_overrides, diff_configs, load_config, prompt_components
from pytest_agentopt.configs.redaction import redact, redact_assignment, secret_paths


def register(sub: Any) -> None:
    parser = sub.add_parser("config", help="show or compare experiment configs")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the resolved config (inheritance applied) and its hash")
    show.add_argument("file", help="config file (JSON)")
    show.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field as --agent-set does",
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=show_config)
    diff = actions.add_parser("diff", help="print the keys that differ between two resolved configs")
    diff.add_argument("control", help="config file A (control)")
    diff.add_argument("test", help="config file B (test)")
    diff.add_argument("--json", action="store_true", help="print a JSON list of changes")
    diff.set_defaults(handler=diff_configs_command)


def show_config(args: argparse.Namespace) -> int:
    notes: list[str] = []
    resolved = apply_overrides(load_config(args.file, notes=notes), args.overrides)
    _print_notes(notes)
    real = resolved.config.model_dump(mode="json")
    data, secrets = redact(real), secret_paths(real)
    overrides = [redact_assignment(override) for override in resolved.overrides]
    if args.json:
        print(
            json.dumps(
                {
                    "config": data,
                    "config_hash": resolved.hash,
                    "chain": [str(path) for path in resolved.chain],
                    "overrides": overrides,
                    "redacted": secrets,
                    "prompt_components": prompt_components(resolved.config),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"# {resolved.describe()}")
    print(f"# config hash: {resolved.hash}")
    print("# inheritance: " + " -> ".join(str(path) for path in resolved.chain))
    if overrides:
        print("# overrides: " + " ".join(overrides))
    if secrets:
        print(f"# secret-looking values shown as fingerprints: {', '.join(secrets)}")
    print(json.dumps(data, indent=2, ensure_ascii=False))
    components = prompt_components(resolved.config)
    if components:
        print("# prompt components (md5 -> text):")
        for digest, text in components.items():
            print(f"#   {digest}  {text}")
    return 0


def _print_notes(notes: list[str]) -> None:
    """Files skipped while a parent was looked up by id: on stderr, so the JSON on stdout stays clean."""
    for note in dict.fromkeys(notes):
        print(f"agentopt: {note}", file=sys.stderr)


def diff_configs_command(args: argparse.Namespace) -> int:
    notes: list[str] = []
    control, test = load_config(args.control, notes=notes), load_config(args.test, notes=notes)
    _print_notes(notes)
    changes = diff_configs(control.config, test.config)
    if args.json:
        # Secrets are fingerprints here (diff_configs redacts): a changed key shows as a change, not as its value.
        print(json.dumps([{"key": c.key, "control": c.before, "test": c.after} for c in changes], indent=2))
        return 0
    print(f"control {control.describe()}  hash {control.hash}")
    print(f"test    {test.describe()}  hash {test.hash}")
    if not changes:
        print("no differences (the configs behave the same)")
    for change in changes:
        print(f"  {change.describe()}")
    return 0
