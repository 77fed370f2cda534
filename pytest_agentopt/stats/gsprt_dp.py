"""Exact behaviour of the paired test for a whole grid of pair distributions in one pass over the lattice.

Path counting
-------------
After ``n`` pairs the test's state is its counts of wins ``w`` and losses ``l`` (ties ``t = n - w - l``) and
which one-sided test has already accepted its H0 and frozen. The probability of reaching a running state is
``C * p_win^w * p_loss^l * p_tie^t``, where ``C`` counts the outcome sequences that reach it without stopping
first. ``C`` does not depend on the pair distribution, so one pass that propagates ``log C`` over the lattice
gives the exact probability of every verdict, and the exact distribution of the number of pairs, for every
distribution of a grid at once (the discordance grid of the calibration, or the two distributions of a plan).
``C`` grows like ``3^n``, hence logarithms (``logaddexp`` when paths merge); with them the probabilities of a
whole run add up to 1 within about 1e-14.

Layout: the cells of one step are stored by discordant count ``k = w + l`` (rows) and a window of ``w`` per row.
At a fixed ``n`` and ``k`` the LLRs are monotone in ``w``, so the running cells of a row form one short interval
(a few tens of cells for effects of 0.1 and more) and a step costs O(n) cells rather than O(n^2).

The LLR is ``paired_oc.lattice_llr`` (the closed-form constrained MLE of ``sprt.paired_llr``, vectorised) and the
bounds are ``design.DiscordanceBounds`` evaluated with the same arithmetic as the live test; the decisions follow
``sprt.PairedSequentialTest`` (the improvement test is read first). ``tests/unit/stats/test_stats_gsprt_dp.py``
checks the whole computation against a brute-force enumeration of every outcome sequence fed through the live
test, and against ``paired_oc`` (the earlier, one-distribution DP).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pytest_agentopt.stats.design import DiscordanceBounds
from pytest_agentopt.stats.paired_oc import lattice_llr
from pytest_agentopt.stats.wald import Direction

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Test states (the frozen one has accepted its H0): 0 both run, 1 only the regression test runs (the
# improvement test froze, or direction "worse"), 2 only the improvement test runs.
BOTH, REGRESSION_ONLY, IMPROVEMENT_ONLY = 0, 1, 2
START_STATE = {"both": BOTH, "worse": REGRESSION_ONLY, "better": IMPROVEMENT_ONLY}
OUTCOMES = ("better", "worse", "no_difference")
_NEG_INF = -np.inf


def trinomial_grid(discordances: Sequence[float] | FloatArray, mean: float) -> FloatArray:
    """Pair distributions ``(P(D=-1), P(D=0), P(D=+1))`` with the given mean, one row per discordance."""
    d = np.asarray(discordances, dtype=np.float64)
    if d.ndim != 1 or np.any(d < abs(mean) - 1e-12) or np.any(d > 1.0 + 1e-12):
        raise ValueError(f"discordances must lie in [|mean|, 1] = [{abs(mean):g}, 1]")
    d = np.clip(d, abs(mean), 1.0)
    grid: FloatArray = np.stack(((d - mean) / 2.0, 1.0 - d, (d + mean) / 2.0), axis=1)
    return grid


@dataclass
class GridResult:
    """Exact figures for each distribution of one grid (arrays with one entry per distribution)."""

    distributions: FloatArray
    better: FloatArray
    worse: FloatArray
    no_difference: FloatArray
    stopping: list[FloatArray] = field(default_factory=list)
    """``stopping[n]``: P(the run ends after exactly ``n`` pairs); ``stopping[0]`` is 0."""

    @property
    def undecided(self) -> FloatArray:
        """P(the cap was reached without a claim): 1 minus the claims, at least 0 (rounding)."""
        result: FloatArray = np.maximum(0.0, 1.0 - self.better - self.worse - self.no_difference)
        return result

    @property
    def asn(self) -> FloatArray:
        """The expected number of pairs (an undecided run counts its pairs up to the cap)."""
        total = np.zeros(len(self.distributions))
        for n, mass in enumerate(self.stopping):
            total += n * mass
        return total

    def stopping_of(self, index: int) -> tuple[float, ...]:
        """The stopping distribution of one distribution of the grid (for quantiles)."""
        return tuple(float(mass[index]) for mass in self.stopping)


@dataclass
class RunningCells:
    """The running cells after step ``n`` (only handed to ``on_step``): counts, log path counts per state, LLRs."""

    n: int
    wins: FloatArray
    losses: FloatArray
    ties: FloatArray
    log_counts: FloatArray
    """Shape (3, cells): ``log C`` in each test state (-inf where the cell does not run in that state)."""
    improvement_llr: FloatArray
    regression_llr: FloatArray
    results: Mapping[str, GridResult]
    """The figures so far (claims up to and including step ``n``)."""

    def masses(self, distributions: FloatArray) -> FloatArray:
        """P(running in each state at each cell) for each distribution: shape (distributions, 3, cells).

        ``log_cell`` lies in [-inf, 0] and ``log_counts`` in [-inf, inf), so their sum is never NaN and its
        exponential needs no clean-up; a state with no running cell (a one-sided run uses one of the three) is
        left at 0 without computing it (the calibration calls this at every step)."""
        log_cell = log_path_probabilities(self.wins, self.losses, self.ties, distributions)
        masses: FloatArray = np.zeros((len(distributions), *self.log_counts.shape))
        for state in np.flatnonzero(np.isfinite(self.log_counts).any(axis=1)):
            masses[:, state, :] = np.exp(log_cell + self.log_counts[state][None, :])
        return masses


def log_path_probabilities(
    wins: FloatArray, losses: FloatArray, ties: FloatArray, distributions: FloatArray
) -> FloatArray:
    """``log(p_win^w p_loss^l p_tie^t)`` for every distribution (rows) and cell (columns); 0 log 0 = 0."""
    with np.errstate(divide="ignore"):
        logs = np.log(distributions)  # columns: loss, tie, win
    result = np.zeros((len(distributions), len(wins)))
    for counts, column in ((losses, 0), (ties, 1), (wins, 2)):
        with np.errstate(invalid="ignore"):
            term = np.where(counts[None, :] > 0, counts[None, :] * logs[:, column : column + 1], 0.0)
        result += term
    return result


def bounds_on_lattice(bounds: DiscordanceBounds, discordant: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """The bounds at observed discordance ``discordant / n``, with ``DiscordanceBounds.at``'s arithmetic."""
    x = discordant / float(n)
    knots = np.asarray(bounds.knots)
    lower_values, upper_values = np.asarray(bounds.lower), np.asarray(bounds.upper)
    if len(knots) == 1:
        return np.full_like(x, lower_values[0]), np.full_like(x, upper_values[0])
    j = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, len(knots) - 2)
    fraction = (x - knots[j]) / (knots[j + 1] - knots[j])

    def interpolate(values: FloatArray) -> FloatArray:
        inside = values[j] + (values[j + 1] - values[j]) * fraction
        result: FloatArray = np.where(x <= knots[0], values[0], np.where(x >= knots[-1], values[-1], inside))
        return result

    return interpolate(lower_values), interpolate(upper_values)


LastLook = Callable[[int], tuple[float, float] | None]
"""``n -> (accept_h0, accept_h1)``: the last look of a run capped at ``n`` pairs, or ``None`` (undecided)."""

STATES_OF = {
    "both": (BOTH, REGRESSION_ONLY, IMPROVEMENT_ONLY),
    "worse": (REGRESSION_ONLY,),
    "better": (IMPROVEMENT_ONLY,),
}
"""The test states a direction can visit (a one-sided run never leaves its start state)."""


@dataclass(frozen=True)
class StartCell:
    """A run already under way: its counts, its test state (``BOTH``, ``REGRESSION_ONLY``, ``IMPROVEMENT_ONLY``)
    and ``log_weight``, the log path count given to it (``-log P(its counts)`` under a one-distribution grid
    makes every figure conditional on having reached it; ``stopping[i]`` is then the mass ending ``i`` pairs
    later)."""

    wins: int
    losses: int
    ties: int
    state: int
    log_weight: float = 0.0

    @property
    def pairs(self) -> int:
        return self.wins + self.losses + self.ties


def lattice_dp(
    *,
    delta: float,
    bounds: DiscordanceBounds,
    direction: Direction,
    max_pairs: int,
    grids: Mapping[str, FloatArray],
    last_look: tuple[float, float] | None = None,
    on_step: Callable[[RunningCells], None] | None = None,
    residual: float | None = None,
    start: StartCell | None = None,
    interim_look: tuple[int, tuple[float, float]] | None = None,
) -> dict[str, GridResult]:
    """Exact verdict probabilities and stopping distributions of the paired test capped at ``max_pairs``.

    ``grids`` maps names to arrays of pair distributions (one row each, see ``trinomial_grid``). ``last_look``:
    the thresholds ``(accept_h0, accept_h1)`` applied at the cap to the tests still running; without it the
    running mass at the cap stays undecided. ``on_step`` receives the running cells after every step (the
    calibration uses it to choose the last look of every cap). ``residual``: stop early once less than this
    probability is still running for every distribution (checked every 16 steps).

    With a one-sided ``direction`` the other test never runs and ``no_difference`` means ``not_better`` /
    ``not_worse``.

    ``start``: begin from a run under way instead of from no pairs (the figures are then those of the rest of the
    run). ``interim_look``: ``(n, thresholds)``, a last look taken after ``n`` pairs whose claims end the run and
    whose undecided runs go on (a run capped at ``n`` and, being inconclusive, extended to ``max_pairs``).
    """
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs!r}")
    results = {
        name: GridResult(
            distributions=np.asarray(grid, dtype=np.float64),
            better=np.zeros(len(grid)),
            worse=np.zeros(len(grid)),
            no_difference=np.zeros(len(grid)),
            stopping=[np.zeros(len(grid))],
        )
        for name, grid in grids.items()
    }
    states = STATES_OF[direction]
    uses_improvement = direction != "worse"
    uses_regression = direction != "better"
    # Row k (discordant pairs) holds w = lo[k] .. lo[k] + width - 1; rows without running cells: valid False.
    first_n = 0 if start is None else start.pairs
    if start is not None and (start.state not in states or min(start.wins, start.losses, start.ties) < 0):
        raise ValueError(f"start {start!r} is not a state of a {direction!r} run")
    lo = np.zeros(first_n + 1, dtype=np.int64)
    valid = np.zeros(first_n + 1, dtype=bool)
    width = 1
    log_counts = np.full((len(states), first_n + 1, 1), _NEG_INF)
    if start is None:
        valid[0] = True
        log_counts[states.index(START_STATE[direction]), 0, 0] = 0.0
    else:
        discordant0 = start.wins + start.losses
        valid[discordant0], lo[discordant0] = True, start.wins
        log_counts[states.index(start.state), discordant0, 0] = start.log_weight
    for n in range(first_n + 1, max_pairs + 1):
        rows = n + 1
        k = np.arange(rows)
        cand_lo, grown = _grow(log_counts, lo, valid, width, rows)
        cand_width = grown.shape[2]
        w = cand_lo[:, None] + np.arange(cand_width)[None, :]
        live = np.isfinite(grown).any(axis=0) & (w >= 0) & (w <= k[:, None])
        wins = w[live].astype(np.float64)
        discordant = np.broadcast_to(k[:, None], w.shape)[live].astype(np.float64)
        losses = discordant - wins
        ties = n - discordant
        cells = dict(zip(states, grown[:, live], strict=True))
        lower, upper = bounds_on_lattice(bounds, discordant, n)
        imp = lattice_llr(wins, losses, ties, delta) if uses_improvement else np.zeros_like(wins)
        reg = lattice_llr(wins, losses, ties, -delta) if uses_regression else np.zeros_like(wins)
        claims, running = _classify(cells, imp >= upper, imp <= lower, reg >= upper, reg <= lower)
        at_cap = n == max_pairs
        look = last_look if at_cap else (interim_look[1] if interim_look is not None and interim_look[0] == n else None)
        if look is not None:
            final_claims, undecided = _last_look(running, imp, reg, look)
            running = {**running, **undecided}
            for outcome in OUTCOMES:
                claims[outcome] = np.logaddexp(claims[outcome], final_claims[outcome])
        _record(results, n - first_n, claims, wins, losses, ties)
        stacked = np.stack(
            [running.get(state, np.full(len(wins), _NEG_INF)) for state in (BOTH, REGRESSION_ONLY, IMPROVEMENT_ONLY)]
        )
        if on_step is not None:
            on_step(
                RunningCells(
                    n=n,
                    wins=wins,
                    losses=losses,
                    ties=ties,
                    log_counts=stacked,
                    improvement_llr=imp,
                    regression_llr=reg,
                    results=results,
                )
            )
        if at_cap:
            break
        if residual is not None and n % 16 == 0 and _running_mass(stacked, wins, losses, ties, results) < residual:
            break
        # Repack the running cells into the row layout of the next step.
        full = np.full(grown.shape, _NEG_INF)
        full[:, live] = np.stack([running[state] for state in states])
        is_running = np.isfinite(full).any(axis=0)
        any_running = is_running.any(axis=1)
        if not any_running.any():
            break
        first = np.where(any_running, np.argmax(is_running, axis=1), 0)
        last = np.where(any_running, cand_width - 1 - np.argmax(is_running[:, ::-1], axis=1), 0)
        width = int((last - first + 1)[any_running].max())
        index = first[:, None] + np.arange(width)[None, :]
        flat = (k[:, None] * cand_width + np.minimum(index, cand_width - 1)).ravel()
        taken = np.take(full.reshape(len(states), -1), flat, axis=1).reshape(len(states), rows, width)
        log_counts = np.where((index < cand_width)[None], taken, _NEG_INF)
        lo = cand_lo + first
        valid = any_running
    # The running mass at the cap (or when the loop stopped early) stays undecided: count it as stopping there.
    for result in results.values():
        result.stopping[-1] = result.stopping[-1] + result.undecided
    return results


def _grow(log_counts: FloatArray, lo: IntArray, valid: BoolArray, width: int, rows: int) -> tuple[IntArray, FloatArray]:
    """The log path counts of every successor cell: a tie keeps (k, w), a win goes to (k+1, w+1), a loss to
    (k+1, w). Returns the new rows' first ``w`` and the (states, rows, width) counts (-inf: no path)."""
    old_rows = len(lo)
    tie_lo = np.zeros(rows, dtype=np.int64)
    tie_ok = np.zeros(rows, dtype=bool)
    tie_lo[:old_rows], tie_ok[:old_rows] = lo, valid
    step_lo = np.zeros(rows, dtype=np.int64)
    step_ok = np.zeros(rows, dtype=bool)
    step_lo[1:], step_ok[1:] = lo, valid
    big = np.iinfo(np.int64).max // 4
    start = np.minimum(np.where(tie_ok, tie_lo, big), np.where(step_ok, step_lo, big))
    end = np.maximum(np.where(tie_ok, tie_lo + width - 1, -big), np.where(step_ok, step_lo + width, -big))
    any_ok = tie_ok | step_ok
    start = np.where(any_ok, start, 0)
    new_width = int((end - start + 1)[any_ok].max())
    w = start[:, None] + np.arange(new_width)[None, :]
    k = np.arange(rows)
    flat_counts = log_counts.reshape(len(log_counts), -1)

    def gather(source_ok: BoolArray, source_lo: IntArray, row_shift: int, w_shift: int) -> FloatArray:
        index = w - w_shift - source_lo[:, None]
        ok = source_ok[:, None] & (index >= 0) & (index < width)
        source_rows = np.clip(k - row_shift, 0, old_rows - 1)
        flat = (source_rows[:, None] * width + np.clip(index, 0, width - 1)).ravel()
        values = np.take(flat_counts, flat, axis=1).reshape(len(log_counts), rows, new_width)
        result: FloatArray = np.where(ok[None], values, _NEG_INF)
        return result

    tie = gather(tie_ok, tie_lo, 0, 0)
    win = gather(step_ok, step_lo, 1, 1)
    loss = gather(step_ok, step_lo, 1, 0)
    grown: FloatArray = np.logaddexp(np.logaddexp(tie, win), loss)
    return start, grown


def _where(mask: BoolArray, values: FloatArray | None) -> FloatArray:
    if values is None:
        return np.full(mask.shape, _NEG_INF)
    result: FloatArray = np.where(mask, values, _NEG_INF)
    return result


def _add(*terms: FloatArray) -> FloatArray:
    total = terms[0]
    for term in terms[1:]:
        total = np.logaddexp(total, term)
    return total


def _classify(
    cells: Mapping[int, FloatArray], imp_up: BoolArray, imp_low: BoolArray, reg_up: BoolArray, reg_low: BoolArray
) -> tuple[dict[str, FloatArray], dict[int, FloatArray]]:
    """Split the log counts of each test state into claims (by outcome) and the cells still running, per state."""
    both, reg_only, imp_only = (cells.get(state) for state in (BOTH, REGRESSION_ONLY, IMPROVEMENT_ONLY))
    open_both = ~imp_up & ~reg_up
    claims = {
        # Both running: the improvement test is read first, as in PairedSequentialTest.add_pair.
        "better": _add(_where(imp_up, both), _where(imp_up, imp_only)),
        "worse": _add(
            _where(open_both & reg_up, both) if both is not None else _where(reg_up, None), _where(reg_up, reg_only)
        ),
        "no_difference": _add(
            _where(open_both & imp_low & reg_low, both),
            _where(~reg_up & reg_low, reg_only),
            _where(~imp_up & imp_low, imp_only),
        ),
    }
    running: dict[int, FloatArray] = {}
    if both is not None:
        running[BOTH] = _where(open_both & ~imp_low & ~reg_low, both)
        running[REGRESSION_ONLY] = _add(
            _where(~reg_up & ~reg_low, reg_only), _where(open_both & imp_low & ~reg_low, both)
        )
        running[IMPROVEMENT_ONLY] = _add(
            _where(~imp_up & ~imp_low, imp_only), _where(open_both & reg_low & ~imp_low, both)
        )
    elif reg_only is not None:
        running[REGRESSION_ONLY] = _where(~reg_up & ~reg_low, reg_only)
    elif imp_only is not None:
        running[IMPROVEMENT_ONLY] = _where(~imp_up & ~imp_low, imp_only)
    return claims, running


def _last_look(
    running: Mapping[int, FloatArray], imp: FloatArray, reg: FloatArray, thresholds: tuple[float, float]
) -> tuple[dict[str, FloatArray], dict[int, FloatArray]]:
    """The last look at the cap (see ``design``): claims from the running cells, and the log counts that stay
    undecided. A test claims H1 at or above ``accept_h1`` (read first), else H0 at or below ``accept_h0``; with
    both tests running, ``no_difference`` needs both at or below ``accept_h0``."""
    accept_h0, accept_h1 = thresholds
    both, reg_only, imp_only = (running.get(state) for state in (BOTH, REGRESSION_ONLY, IMPROVEMENT_ONLY))
    imp_h1, imp_h0 = imp >= accept_h1, imp <= accept_h0
    reg_h1, reg_h0 = reg >= accept_h1, reg <= accept_h0
    claims = {
        "better": _add(_where(imp_h1, both), _where(imp_h1, imp_only)),
        "worse": _add(_where(~imp_h1 & reg_h1, both), _where(reg_h1, reg_only)),
        "no_difference": _add(
            _where(~imp_h1 & ~reg_h1 & imp_h0 & reg_h0, both),
            _where(~reg_h1 & reg_h0, reg_only),
            _where(~imp_h1 & imp_h0, imp_only),
        ),
    }
    undecided = {
        state: _where(mask, values)
        for state, values, mask in (
            (BOTH, both, ~imp_h1 & ~reg_h1 & ~(imp_h0 & reg_h0)),
            (REGRESSION_ONLY, reg_only, ~reg_h1 & ~reg_h0),
            (IMPROVEMENT_ONLY, imp_only, ~imp_h1 & ~imp_h0),
        )
        if values is not None
    }
    return claims, undecided


def _record(
    results: Mapping[str, GridResult],
    n: int,
    claims: Mapping[str, FloatArray],
    wins: FloatArray,
    losses: FloatArray,
    ties: FloatArray,
) -> None:
    for result in results.values():
        result.stopping.append(np.zeros(len(result.distributions)))
    for outcome, log_counts in claims.items():
        cells = np.isfinite(log_counts)
        if not cells.any():
            continue
        for result in results.values():
            log_cell = log_path_probabilities(wins[cells], losses[cells], ties[cells], result.distributions)
            mass = np.exp(log_cell + log_counts[cells][None, :]).sum(axis=1)
            setattr(result, outcome, getattr(result, outcome) + mass)
            result.stopping[n] = result.stopping[n] + mass


def _running_mass(
    running: FloatArray, wins: FloatArray, losses: FloatArray, ties: FloatArray, results: Mapping[str, GridResult]
) -> float:
    cells = np.isfinite(running).any(axis=0)
    if not cells.any():
        return 0.0
    largest = 0.0
    counts = np.logaddexp.reduce(running[:, cells], axis=0)
    for result in results.values():
        log_cell = log_path_probabilities(wins[cells], losses[cells], ties[cells], result.distributions)
        largest = max(largest, float(np.exp(log_cell + counts[None, :]).sum(axis=1).max()))
    return largest
