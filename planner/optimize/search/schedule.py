"""The schedule of the border search: which family of moves runs when, and which plan is kept.

First every territory out of tolerance is re-split with a complementary neighbour
(recombination) and the plan descends. While tolerances are missed, each round moves rep
counts (rep shifts, lumpy merges), then descends on balance alone, passes excess along
recombinations (pairs and chains; with two or more hard measures, or once a round leaves
the worst hard excess where it was), ejection chains, swaps and path exchanges; at a
stall it relocates territories into blocks that are out of tolerance as a whole. Then
regions are re-solved exactly, and kicks with descents follow. The last ``POLISH_SHARE``
of the time, or what is left once balanced, polishes compactness (dispersion and cut
border length) by descents and swaps, none of which may raise violation.

Hard tolerances come first (lexicographically). A sparse soft measure is not chased
until the polish, where it may only not get worse. Measurements behind each choice are in
docs/optimizer.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from planner.optimize.options import ProgressCallback
from planner.optimize.search.moves.exchange import exchange_chains, path_moves, swaps
from planner.optimize.search.moves.recombine import recombine, recombine_chains
from planner.optimize.search.moves.regions import resolve_regions
from planner.optimize.search.moves.reps import merge_lumpy, relocate, shift_reps
from planner.optimize.search.moves.single import descend, eject_chains, kick
from planner.optimize.search.state import EPS, SearchState, Snapshot
from planner.optimize.work_clock import WorkClock

STALL_GAIN = 0.01  # a round of the main loop that closes less of the worst hard excess has stalled
RELOCATIONS = 16  # territories relocated at most per run (see planner.optimize.search.relocation)
RELOCATIONS_AT_ONCE = 4  # relocated at one stall, in blocks that do not overlap
POLISH_SHARE = 0.15  # share of the time kept for the compactness polish at the end
REGION_SHARE = 0.7  # share of the time left for region re-solves when balance is still missed
POLISH_SWAP_ROUNDS = 50  # rounds of swaps (each followed by a descent) in the polish


@dataclass(frozen=True)
class SearchStats:
    """What the search did: rounds, moves applied, seconds, and whether it converged."""

    rounds: int
    moves: int
    seconds: float
    converged: bool


def default_recombination(state: SearchState) -> bool:
    """Recombination is a main step of every round with two or more hard measures."""
    return bool(state.instance.hard.sum() >= 2)


class _Rounds:
    """Counts descent rounds and reports progress every fifth (max deviation per measure).

    Progress is the share of the time to ``deadline`` (the current phase's) spent.
    """

    def __init__(
        self,
        state: SearchState,
        clock: WorkClock,
        progress: ProgressCallback | None,
        start: float,
        deadline: float,
    ) -> None:
        self.state, self.clock, self.progress = state, clock, progress
        self.start, self.deadline = start, deadline
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self.progress is not None and self.count % 5 == 0:
            worst = np.abs(self.state.deviations()).max(axis=0)
            text = ", ".join(f"{m} {d:.1%}" for m, d in zip(self.state.instance.measures, worst, strict=True))
            spent = (self.clock.now() - self.start) / max(self.deadline - self.start, 1e-9)
            self.progress(min(spent, 0.99), f"round {self.count}: max deviation {text}")


class _BestWorst:
    """The plan with the least worst hard excess (then hard, then all violation) seen by the main loop.

    Recombination, chains and relocation accept what lowers *total* violation, which may
    pile it onto one territory; the report and the user judge the worst territory first.
    """

    def __init__(self) -> None:
        self.key: tuple[float, float, float] | None = None
        self.plan: Snapshot | None = None

    def offer(self, state: SearchState) -> None:
        key = (state.worst_hard_excess(), state.hard_violation(), state.violation())
        if self.key is None or key < self.key:
            self.key, self.plan = key, state.snapshot()

    def restore(self, state: SearchState) -> None:
        if self.plan is not None:
            state.restore(self.plan)


class _Relocations:
    """Relocation attempts within one run, each undone unless it pays off.

    A relocation first makes the plan worse (the donor's neighbours and the new territory
    are out of tolerance); it is judged at the next stall: kept when the hard violation
    fell and the worst territory is no worse than before, undone otherwise, which also
    ends relocating.
    """

    def __init__(self) -> None:
        self.checkpoint: tuple[Snapshot, float, float] | None = None
        self.done = 0
        self.stopped = False
        self.started = 0.0  # when the last relocation was made (search clock seconds)
        self.settling = 0.0  # seconds the last relocation took until it was judged

    def _worse(self, state: SearchState) -> bool:
        """True when the plan is no better than at the checkpoint (see the class docstring)."""
        if self.checkpoint is None:
            return False
        _, violation, worst = self.checkpoint
        return state.hard_violation() >= violation - EPS or state.worst_hard_excess() > worst + EPS

    def step(
        self,
        state: SearchState,
        rng: np.random.Generator,
        clock: WorkClock,
        deadline: float,
        *,
        pool_reps: bool = False,
        max_reps: int | None = None,
    ) -> bool:
        """At a stall: judge the last relocation, then try another. False when nothing changed.

        No new relocation starts when less time is left than the last one took to settle.
        """
        if self.stopped:
            return False
        if self._worse(state):
            state.restore(self.checkpoint[0])
            self.stopped = True
            return False
        now = clock.now()
        if self.checkpoint is not None:
            self.settling = now - self.started
        if self.done >= RELOCATIONS or deadline - now < self.settling:
            return False
        self.started = now
        self.checkpoint = (state.snapshot(), state.hard_violation(), state.worst_hard_excess())
        count = min(RELOCATIONS_AT_ONCE, RELOCATIONS - self.done)
        moved = relocate(
            state,
            rng=rng,
            clock=clock,
            deadline=deadline,
            count=count,
            pool_reps=pool_reps,
            max_reps=max_reps,
        )
        if not moved:
            self.checkpoint, self.stopped = None, True
            return False
        self.done += moved
        return True

    def keep_best(self, state: SearchState) -> None:
        """Undo the last relocation if the search ended no better than before it."""
        if not self.stopped and self._worse(state):
            state.restore(self.checkpoint[0])


def _perturb_and_descend(
    state: SearchState, rng: np.random.Generator, clock: WorkClock, deadline: float, on_round: _Rounds
) -> int:
    """Iterated local search: kick, descend again, keep the result if violation fell.

    Kicks are random valid moves around the territories out of tolerance; repeats until
    balanced or out of time.
    """
    moves = 0
    best, best_v = state.snapshot(), state.violation()
    strength = 2
    while best_v > EPS and clock.now() < deadline:
        moves += kick(state, rng=rng, clock=clock, deadline=deadline, strength=strength)
        moves += descend(
            state, rng=rng, clock=clock, deadline=deadline, scale_c=0.0, scale_d=0.0, on_round=on_round
        )
        moves += eject_chains(state, rng=rng, clock=clock, deadline=deadline)
        while swaps(state, rng=rng, clock=clock, deadline=deadline, scale=0.0, only_violating=True) and (
            clock.now() < deadline
        ):
            moves += 2
        moves += path_moves(state, rng=rng, clock=clock, deadline=deadline)
        moves += exchange_chains(state, rng=rng, clock=clock, deadline=deadline)
        v = state.violation()
        if v < best_v - EPS:
            best, best_v, strength = state.snapshot(), v, 2
        else:
            state.restore(best)
            strength = min(strength + 1, 8)
    return moves


def run_search(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    time_limit_s: float,
    recombination: bool,
    pool_reps: bool,
    max_reps: int | None = None,
    progress: ProgressCallback | None = None,
    polish: bool = True,
) -> SearchStats:
    """Improve the plan of ``state`` until balanced and compact, or out of time (see the module docstring).

    ``recombination`` makes it a main step of every round from the start (else it steps
    in once the worst territory stalls); ``pool_reps`` lets rep counts move (rep shifts,
    lumpy merges, a relocated territory's rep given to a full one), up to ``max_reps`` per
    territory.
    With ``polish=False`` the whole time goes to balance (a probe of a race of starts,
    continued by a run that polishes).
    """
    wall_start = time.perf_counter()
    start = clock.now()
    deadline = start + time_limit_s
    balance_deadline = start + (1.0 - POLISH_SHARE if polish else 1.0) * time_limit_s
    on_round = _Rounds(state, clock, progress, start, balance_deadline)
    moves_at = {"rng": rng, "clock": clock, "deadline": balance_deadline}
    # Until the polish, the balance steps work on the hard tolerances only (or, with none
    # hard, on the chased soft ones): a soft measure far out of tolerance would otherwise
    # outweigh a hard one in the penalty. The polish then balances the soft measures by
    # steps that may not raise the (lexicographically weighted) violation.
    full_violation_weights, full_balance_weights = state.wv, state.w
    if state.instance.hard.any():
        state.w = np.where(state.instance.hard, state.w, 0.0)
    state.wv = np.where(state.w > 0, state.wv, 0.0)
    recombining = recombination
    relocations = _Relocations()
    best = _BestWorst()
    best.offer(state)
    moves = recombine(state, **moves_at)
    moves += descend(state, **moves_at, on_round=on_round)
    for scale in (0.1, 0.0):
        if state.violation() <= EPS:
            break
        moves += descend(state, **moves_at, scale_c=scale, scale_d=scale, on_round=on_round)
    last_excess = None
    while state.violation() > EPS and clock.now() < balance_deadline:
        best.offer(state)
        # Rep counts first, every round: a territory a whole rep off cannot be fixed by its
        # borders; a territory merges only once a round left it no better.
        excess = state.hard_excess().max(axis=1, initial=0.0)
        if last_excess is not None and pool_reps:
            stuck = excess > (1.0 - STALL_GAIN) * last_excess
            moves += merge_lumpy(state, **moves_at, stuck=stuck, max_reps=max_reps)
        if pool_reps:
            moves += shift_reps(state, **moves_at, max_reps=max_reps)
        last_excess = state.hard_excess().max(axis=1, initial=0.0)
        worst_before = state.worst_hard_excess()
        recombined = recombine(state, **moves_at) + recombine_chains(state, **moves_at) if recombining else 0
        chained = eject_chains(state, **moves_at)
        swapped = 0
        while swaps(state, **moves_at, scale=0.0, only_violating=True) and clock.now() < balance_deadline:
            swapped += 1
        pathed = path_moves(state, **moves_at) + exchange_chains(state, **moves_at)
        stuck = not recombined and not chained and not swapped and not pathed
        if not stuck:
            moves += recombined + chained + 2 * swapped + pathed
            moves += descend(state, **moves_at, scale_c=0.0, scale_d=0.0, on_round=on_round)
        if stuck or state.worst_hard_excess() > (1.0 - STALL_GAIN) * worst_before:
            # The worst territory is stuck. When its block as a whole holds too much (or
            # too little), a territory is relocated there; otherwise lumpy units often fit
            # only when a whole border is redrawn, so recombination steps in.
            if relocations.step(state, rng, clock, balance_deadline, pool_reps=pool_reps, max_reps=max_reps):
                continue
            if not recombining:
                recombining = True
            elif stuck:
                break
    relocations.keep_best(state)
    best.offer(state)
    best.restore(state)
    if state.violation() > EPS:
        now = clock.now()
        moves += resolve_regions(
            state, rng=rng, clock=clock, deadline=now + REGION_SHARE * (balance_deadline - now)
        )
    moves += _perturb_and_descend(state, rng, clock, balance_deadline, on_round)
    state.wv, state.w = full_violation_weights, full_balance_weights
    if polish:
        polish_at = {"rng": rng, "clock": clock, "deadline": deadline}
        on_round.deadline = deadline
        moves += descend(state, **polish_at, on_round=on_round)
        for _ in range(
            POLISH_SWAP_ROUNDS
        ):  # reshape balanced territories by swaps (single moves would unbalance them)
            if clock.now() >= deadline or not swaps(state, **polish_at, scale=1.0, only_violating=False):
                break
            moves += descend(state, **polish_at, on_round=on_round)
    converged = clock.now() < deadline
    return SearchStats(
        rounds=on_round.count, moves=moves, seconds=time.perf_counter() - wall_start, converged=converged
    )
