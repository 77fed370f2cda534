"""``agentopt guidelines``: the effect of each guideline added or removed between a parent and a child config."""

from __future__ import annotations

import argparse
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.analysis_common import (
    add_agent_dir,
    add_filters,
    empty_message,
    load_filtered,
    load_runs_noting,
    print_json,
    print_wrapped,
    render_table,
)
from pytest_agentopt.report.render import wording


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "guidelines",
        help="what each guideline added or removed did to success and cost",
        description=(
            "For every guideline added or removed between a parent and a child config (from the manifests' "
            "configs and prompt-component hashes), the effect on success (child - parent) and the cost ratio "
            "(child / parent): paired where a run had both configs as its arms, otherwise unpaired from all their "
            "trials (marked so). The call (helps / hurts / unclear) is made on Holm's adjusted p-value over the "
            "config pairs shown (family-wise error at most 0.05); the raw p-value is shown beside it."
        ),
    )
    add_agent_dir(parser)
    add_filters(parser)
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed of unpaired intervals (default 0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis import GUIDELINE_COLUMNS, guideline_impact

    table = load_filtered(args, columns=GUIDELINE_COLUMNS)
    rows = guideline_impact(load_runs_noting(args), table, seed=args.seed)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(empty_message(args, "guideline changes between a parent and a child config"))
        return 0
    print(render_table(HEADERS, [_cells(row) for row in rows], wrap=(0, 7)))
    family = rows[0].get("family", 0)
    print_wrapped(
        f"call: Holm's adjusted p-value <= 0.05 over the {family} config pairs with a p-value (family-wise: any "
        "wrong call at most 5 %); raw p in brackets; each interval is 95 % on its own, not simultaneous"
    )
    methods = sorted({row["effect"]["method"].split(";")[-1].strip() for row in rows if row["effect"]})
    for method in methods:
        print_wrapped(f"({method})")
    return 0


HEADERS = (
    "guideline",
    "change",
    "parent -> child",
    "evidence",
    "effect on success",
    "call: Holm p (raw)",
    "est. cost ratio",
    "also changed",
)


def _cells(row: dict[str, Any]) -> list[Any]:
    effect, cost = row["effect"] or {}, row["cost_ratio"] or {}
    evidence = f"{row['pairs']} pairs" if row["paired"] else "unpaired"
    return [
        row["guideline"],
        row["change"],
        f"{row['parent']} -> {row['child']}",
        evidence,
        fmt.with_interval(effect.get("estimate"), [effect.get("lower"), effect.get("upper")], fmt.signed),
        "-" if row.get("p_holm") is None else f"{row['call']}: {row['p_holm']:.2g} ({row['p_value']:.2g})",
        fmt.with_interval(cost.get("estimate"), [cost.get("lower"), cost.get("upper")], fmt.ratio),
        wording.also_changed(row),
    ]
