"""``agentopt sprt``: the sequential test's LLR, bounds and verdict for counts you already have."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_EFFECT
from pytest_agentopt.stats.sprt import SequentialSettings, TestState, combine_states, paired_llr, state_of
from pytest_agentopt.stats.wald import DIRECTIONS


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sprt",
        help="LLR, bounds and verdict for control vs test counts",
        description=(
            "Evaluate the sequential test at the given counts. With --pairs W,L,D the paired trinomial GSPRT is "
            "used (W = pairs only the test solved, L = pairs only the control solved, D = pairs with equal "
            "outcomes), with the plugin's bounds at the observed discordance; --control/--test are then optional "
            "(a check that they agree with the pairs). Without --pairs, the generalized LLR of two independent "
            "binomials with Wald's bounds. Prints each one-sided test's state (running, accepted H0 or H1) and the "
            "verdict they combine to. This is one look at the data: the sequential error rates hold when the check "
            "runs after every pair and the first crossing is final."
        ),
    )
    parser.add_argument("--control", metavar="S/N", help="control successes/trials, e.g. 12/30")
    parser.add_argument("--test", metavar="S/N", help="test successes/trials, e.g. 20/30")
    parser.add_argument("--pairs", metavar="W,L,D", help="paired counts (see above)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help=f"default {DEFAULT_ALPHA}")
    parser.add_argument("--beta", type=float, default=DEFAULT_BETA, help=f"default {DEFAULT_BETA}")
    parser.add_argument("--effect", type=float, default=DEFAULT_EFFECT, help=f"default {DEFAULT_EFFECT}")
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="both",
        help="which question, as --agent-direction (default both)",
    )
    parser.add_argument("--json", action="store_true", help="print llr, bounds, states and verdict as JSON")
    parser.set_defaults(handler=run)


_SETTING_FLAGS = {"alpha": "--alpha", "beta": "--beta", "delta": "--effect"}


def sequential_settings(args: argparse.Namespace) -> SequentialSettings:
    """``SequentialSettings`` from ``--alpha``, ``--beta`` and ``--effect``; a bad value is a usage error naming
    its flag (the ranges are checked in one place, ``SequentialSettings``)."""
    try:
        return SequentialSettings(alpha=args.alpha, beta=args.beta, delta=args.effect)
    except ValueError as exc:
        # SequentialSettings names the parameter first: "alpha must be in (0, 0.5), got 0.6".
        name, _, problem = str(exc).partition(" ")
        flag = _SETTING_FLAGS.get(name)
        if flag is None:
            raise AgentoptUsageError(f"--alpha/--beta/--effect: {exc}") from None
        raise AgentoptUsageError(f"{flag}: {problem}") from None


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
    from pytest_agentopt.stats.unpaired import unpaired_llr

    settings = sequential_settings(args)
    if args.pairs is None and (args.control is None or args.test is None):
        raise AgentoptUsageError("give --pairs W,L,D (paired counts), or both --control S/N and --test S/N")
    lower, upper = settings.bounds
    delta = settings.delta
    boundaries = "wald"
    if args.pairs is not None:
        from pytest_agentopt.run.sequential_design import design_for

        wins, losses, ties = parse_pairs(args.pairs)
        pairs = wins + losses + ties
        # Arms' counts follow from the pairs: test solved W + both, control L + both (both is unknown: only the
        # difference is checked when they are given).
        sc, nc = parse_fraction("--control", args.control) if args.control is not None else (None, pairs)
        st, nt = parse_fraction("--test", args.test) if args.test is not None else (None, pairs)
        design = design_for(settings.alpha, settings.beta, delta, args.direction)
        lower, upper = design.bounds.for_counts(wins, losses, ties)
        boundaries = design.source
        if nc != pairs or nt != pairs:
            raise AgentoptUsageError(
                f"--pairs {args.pairs} describes {pairs} pairs but --control/--test have {nc} and {nt} trials; "
                "in a paired run both arms have one trial per pair"
            )
        if sc is not None and st is not None and st - sc != wins - losses:
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
        sc, nc = parse_fraction("--control", args.control)
        st, nt = parse_fraction("--test", args.test)
        if nc == 0 or nt == 0:
            raise AgentoptUsageError("--control and --test need at least one trial each")
        llr = {
            "better": unpaired_llr(sc, nc, st, nt, 0.0, delta),
            "worse": unpaired_llr(sc, nc, st, nt, 0.0, -delta),
        }
        method = "generalized LLR of two independent binomials (control rate profiled out)"
    # A one-sided question runs only its own test (None: not run); combine_states ignores the other one.
    states: dict[str, TestState | None] = {
        "better": None if args.direction == "worse" else state_of(llr["better"], (lower, upper)),
        "worse": None if args.direction == "better" else state_of(llr["worse"], (lower, upper)),
    }
    verdict = combine_states(states["better"] or "running", states["worse"] or "running", args.direction)
    return {
        "llr": llr,
        "bounds": [lower, upper],
        "boundaries": boundaries,
        "states": states,
        "verdict": verdict or "inconclusive",
        "method": method,
        "control": {"successes": sc, "trials": nc},
        "test": {"successes": st, "trials": nt},
        "settings": {"alpha": settings.alpha, "beta": settings.beta, "effect": delta, "direction": args.direction},
    }


EXPLANATION = {
    "better": "the improvement test crossed its upper bound: test is better by the effect size",
    "worse": "the regression test crossed its upper bound: test is worse by the effect size",
    "no_difference": "both tests crossed their lower bounds: no difference of the effect size either way",
    "not_better": "the improvement test crossed its lower bound: test is not better by the effect size",
    "not_worse": "the regression test crossed its lower bound: test is not worse by the effect size",
}

TEST_NAMES = {"better": "improvement test", "worse": "regression test"}


def describe_state(side: str, state: TestState | None, effect: float, direction: str) -> str:
    """One test's state in words, e.g. ``accepted H0 (not worse by 0.15)``."""
    if state is None:
        return f"not run (--direction {direction})"
    if state == "running":
        return "running"
    if state == "accepted_h1":
        return f"accepted H1 ({side} by {effect:g})"
    return f"accepted H0 (not {side} by {effect:g})"


def explain(verdict: str, states: dict[str, TestState | None]) -> str:
    """Why the verdict is what it is; for ``inconclusive``, which test is still running."""
    if verdict != "inconclusive":
        return EXPLANATION[verdict]
    asked = [side for side, state in states.items() if state is not None]
    running = [side for side in asked if states[side] == "running"]
    if running == asked:
        return "no bound crossed: keep sampling"
    return " and ".join(f"the {TEST_NAMES[side]}" for side in running) + " is still running: keep sampling"


def run(args: argparse.Namespace) -> int:
    result = evaluate(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    lower, upper = result["bounds"]
    print(f"method   {result['method']}")
    control, test = result["control"], result["test"]
    if control["successes"] is not None and test["successes"] is not None:
        print(
            f"control  {control['successes']}/{control['trials']}   test {test['successes']}/{test['trials']}   "
            f"effect {result['settings']['effect']:g}"
        )
    else:
        print(f"pairs    {args.pairs} (W,L,D)   effect {result['settings']['effect']:g}")
    where = (
        ", calibrated over the discordance: at the observed one" if result["boundaries"] == "calibrated" else ", Wald"
    )
    print(
        f"bounds   [{lower:+.3f}, {upper:+.3f}]  (alpha {result['settings']['alpha']:g}, "
        f"beta {result['settings']['beta']:g}{where})"
    )
    print(f"LLR      better {result['llr']['better']:+.3f}   worse {result['llr']['worse']:+.3f}")
    states = result["states"]
    effect, direction = result["settings"]["effect"], result["settings"]["direction"]
    tests = "; ".join(
        f"{TEST_NAMES[side]}: {describe_state(side, states[side], effect, direction)}" for side in ("worse", "better")
    )
    print(f"tests    {tests}")
    print(f"verdict  {result['verdict']}: {explain(result['verdict'], states)}")
    return 0
