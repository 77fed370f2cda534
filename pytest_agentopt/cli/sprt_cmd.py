"""``agentopt sprt``: the sequential test's LLR, bounds and verdict for counts you already have."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import AgentoptUsageError
from ..options import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_EFFECT


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sprt",
        help="LLR, bounds and verdict for control vs test counts",
        description=(
            "Evaluate the sequential test at the given counts. With --pairs W,L,D the paired trinomial GSPRT is "
            "used (W = pairs only the test solved, L = pairs only the control solved, D = pairs with equal "
            "outcomes); without it, the generalized LLR of two independent binomials. This is one look at the "
            "data: the sequential error rates hold when the check runs after every pair and the first crossing "
            "is final."
        ),
    )
    parser.add_argument("--control", required=True, metavar="S/N", help="control successes/trials, e.g. 12/30")
    parser.add_argument("--test", required=True, metavar="S/N", help="test successes/trials, e.g. 20/30")
    parser.add_argument("--pairs", metavar="W,L,D", help="paired counts (see above)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help=f"default {DEFAULT_ALPHA}")
    parser.add_argument("--beta", type=float, default=DEFAULT_BETA, help=f"default {DEFAULT_BETA}")
    parser.add_argument("--effect", type=float, default=DEFAULT_EFFECT, help=f"default {DEFAULT_EFFECT}")
    parser.add_argument(
        "--direction",
        choices=("both", "better", "worse"),
        default="both",
        help="which question, as --agent-direction (default both)",
    )
    parser.add_argument("--json", action="store_true", help="print llr, bounds and verdict as JSON")
    parser.set_defaults(handler=run)


def parse_fraction(flag: str, text: str) -> tuple[int, int]:
    successes, sep, trials = text.partition("/")
    try:
        s, n = int(successes), int(trials)
    except ValueError:
        raise AgentoptUsageError(f"{flag} {text}: expected SUCCESSES/TRIALS such as 12/30") from None
    if not sep or n < 0 or not 0 <= s <= n:
        raise AgentoptUsageError(f"{flag} {text}: expected SUCCESSES/TRIALS with 0 <= SUCCESSES <= TRIALS")
    return s, n


def parse_pairs(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 0:
        raise AgentoptUsageError(f"--pairs {text}: expected W,L,D as three non-negative integers, e.g. 9,3,18")
    return values[0], values[1], values[2]


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from ..stats.sprt import SequentialSettings, paired_llr
    from ..stats.unpaired import unpaired_llr

    try:
        settings = SequentialSettings(alpha=args.alpha, beta=args.beta, delta=args.effect)
    except ValueError as exc:
        raise AgentoptUsageError(f"--alpha/--beta/--effect: {exc}") from None
    sc, nc = parse_fraction("--control", args.control)
    st, nt = parse_fraction("--test", args.test)
    lower, upper = settings.bounds
    delta = settings.delta
    if args.pairs is not None:
        wins, losses, ties = parse_pairs(args.pairs)
        pairs = wins + losses + ties
        if nc != pairs or nt != pairs:
            raise AgentoptUsageError(
                f"--pairs {args.pairs} describes {pairs} pairs but --control/--test have {nc} and {nt} trials; "
                "in a paired run both arms have one trial per pair"
            )
        if st - sc != wins - losses:
            raise AgentoptUsageError(
                f"--pairs {args.pairs}: test minus control successes must equal W - L = {wins - losses}, "
                f"got {st} - {sc} = {st - sc}"
            )
        llr = {
            "better": paired_llr(wins, losses, ties, 0.0, delta),
            "worse": paired_llr(wins, losses, ties, 0.0, -delta),
        }
        method = "paired trinomial GSPRT (Fishtest-style, discordance profiled out)"
    else:
        if nc == 0 or nt == 0:
            raise AgentoptUsageError("--control and --test need at least one trial each")
        llr = {
            "better": unpaired_llr(sc, nc, st, nt, 0.0, delta),
            "worse": unpaired_llr(sc, nc, st, nt, 0.0, -delta),
        }
        method = "generalized LLR of two independent binomials (control rate profiled out)"
    verdict = _verdict(llr, lower, upper, args.direction)
    return {
        "llr": llr,
        "bounds": [lower, upper],
        "verdict": verdict,
        "method": method,
        "control": {"successes": sc, "trials": nc},
        "test": {"successes": st, "trials": nt},
        "settings": {"alpha": settings.alpha, "beta": settings.beta, "effect": delta, "direction": args.direction},
    }


def _verdict(llr: dict[str, float], lower: float, upper: float, direction: str) -> str:
    if direction == "better":
        return "better" if llr["better"] >= upper else "not_better" if llr["better"] <= lower else "inconclusive"
    if direction == "worse":
        return "worse" if llr["worse"] >= upper else "not_worse" if llr["worse"] <= lower else "inconclusive"
    if llr["better"] >= upper:
        return "better"
    if llr["worse"] >= upper:
        return "worse"
    if llr["better"] <= lower and llr["worse"] <= lower:
        return "no_difference"
    return "inconclusive"


EXPLANATION = {
    "better": "the improvement test crossed its upper bound: test is better by the effect size",
    "worse": "the regression test crossed its upper bound: test is worse by the effect size",
    "no_difference": "both tests crossed their lower bounds: no difference of the effect size either way",
    "not_better": "the improvement test crossed its lower bound: test is not better by the effect size",
    "not_worse": "the regression test crossed its lower bound: test is not worse by the effect size",
    "inconclusive": "no bound crossed: keep sampling",
}


def run(args: argparse.Namespace) -> int:
    result = evaluate(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    lower, upper = result["bounds"]
    print(f"method   {result['method']}")
    print(
        f"control  {result['control']['successes']}/{result['control']['trials']}   "
        f"test {result['test']['successes']}/{result['test']['trials']}   effect {result['settings']['effect']:g}"
    )
    print(
        f"bounds   [{lower:+.3f}, {upper:+.3f}]  (alpha {result['settings']['alpha']:g}, "
        f"beta {result['settings']['beta']:g})"
    )
    print(f"LLR      better {result['llr']['better']:+.3f}   worse {result['llr']['worse']:+.3f}")
    print(f"verdict  {result['verdict']}: {EXPLANATION[result['verdict']]}")
    return 0
