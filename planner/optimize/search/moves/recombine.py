"""Recombination: merge two adjacent territories and re-split them along a random spanning tree.

After GerryChain's ReCom (DeFord, Duchin and Solomon 2021): random spanning trees of the
merged units are drawn (minimum spanning trees of random edge weights), and the tree edge
whose cut balances both parts best on every measure at once is cut. Each part is
connected by construction, every cut of a tree is scored in one pass from subtree sums,
and a cut is valid only when each part keeps its own locked units.
"""

from __future__ import annotations

import itertools

import numpy as np

from planner.optimize.search.accept import lowers_violation, within_budget
from planner.optimize.search.routes import CHAIN_LENGTH, along_routes
from planner.optimize.search.score import penalty
from planner.optimize.search.state import EPS, SearchState, tolerance_violation
from planner.optimize.tree_cuts import random_tree_cuts, region_graph
from planner.optimize.work_clock import WorkClock

RECOM_TREES = 24  # random spanning trees tried per recombined pair
RECOM_PARTNERS = 3  # most complementary neighbours recombined with each territory out of tolerance
RECOM_TIE_BREAK = 1e-6  # weight of the balance penalty that breaks ties between splits of equal violation
RECOM_CHAIN_TREES = 8  # random spanning trees tried per hop of a recombination chain


def best_split(
    state: SearchState, t: int, b: int, trees: int, rng: np.random.Generator, *, sender_only: bool = False
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Best split of territories ``t`` and ``b`` merged, over ``trees`` random spanning trees.

    Returns the units, the territory each gets, and the total violation of the pair after
    the split (ties broken by the balance penalty), or None when no valid cut exists.
    With ``sender_only`` the split is scored on ``t`` alone: ``b`` takes whatever
    balances ``t`` (a hop of :func:`recombine_chains`).
    """
    inst = state.instance
    members = np.flatnonzero((state.labels == t) | (state.labels == b))
    n = len(members)
    lock_t = (inst.locked[members] == t).astype(float)
    lock_b = (inst.locked[members] == b).astype(float)
    values = np.column_stack([inst.share[members], lock_t, lock_b])
    total = values.sum(axis=0)
    m = inst.share.shape[1]
    graph = region_graph(inst.indptr, inst.indices, members)
    state.clock.charge("pass", inst.n_units)
    state.clock.charge("tree", n)
    best = None
    for _ in range(trees):
        state.clock.charge("tree", n)
        cuts = random_tree_cuts(graph, values, rng)
        if cuts is None:
            return None  # the merged territories are not connected: nothing to split
        cut = cuts.below  # the part below each tree edge, for every edge
        for side_t in (cut, total - cut):
            valid = (side_t[:, m] == total[m]) & (side_t[:, m + 1] == 0)
            if not valid.any():
                continue
            dev_t = side_t[:, :m] / state.reps[t] - 1.0
            dev_b = (total[:m] - side_t[:, :m]) / state.reps[b] - 1.0
            violation = tolerance_violation(dev_t, state.tol, state.wv)
            balance = penalty(dev_t, state.tol, state.w)
            if not sender_only:
                violation = violation + tolerance_violation(dev_b, state.tol, state.wv)
                balance = balance + penalty(dev_b, state.tol, state.w)
            score = np.where(valid, violation + RECOM_TIE_BREAK * balance, np.inf)
            pick = int(np.argmin(score))
            if best is None or score[pick] < best[0]:
                in_t = cuts.part(pick, n)
                if side_t is not cut:
                    in_t = ~in_t
                best = (float(score[pick]), in_t)
    if best is None:
        return None
    return members, np.where(best[1], t, b), best[0]


def recombine(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    trees: int = RECOM_TREES,
) -> int:
    """Merge each territory out of tolerance with a complementary neighbour and re-split them.

    The split balances every measure of both at once and may redraw their whole border,
    which unit moves, paths and chains cannot when the units that would fix both
    measures lie deep inside the territories. A split is kept when it lowers the pair's
    violation (and the disruption budget allows it). Returns the number of units that
    changed territory.
    """
    changed = 0
    adjacent = state.territory_graph()
    violation = state.territory_violation()
    for t in np.argsort(-violation):
        t = int(t)
        if violation[t] <= EPS or clock.now() > deadline:
            break
        z = state.deviations() * state.w / state.tol
        partners = [b for b in adjacent.get(t, ()) if not state.instance.frozen_territory[b]]
        for b in sorted(partners, key=lambda b: (float(z[t] @ z[b]), b))[:RECOM_PARTNERS]:
            if clock.now() > deadline:
                break
            pair = np.array([t, b])
            before = float(state.territory_violation()[pair].sum())
            before += RECOM_TIE_BREAK * float(penalty(state.deviations()[pair], state.tol, state.w).sum())
            split = best_split(state, t, b, trees, rng)
            if split is None or split[2] >= before - 1e-9:
                continue
            members, new, _ = split
            labels = state.labels.copy()
            labels[members] = new
            moved = int((state.labels != labels).sum())
            with state.trial() as trial:
                state.relabel(labels)
                trial.keep_if(within_budget)
            if not trial.kept:
                continue
            changed += moved
            adjacent = state.territory_graph()
            violation = state.territory_violation()
            if violation[t] <= EPS:
                break
    return changed


def _recombine_along(
    state: SearchState,
    route: list[int],
    trees: int,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
) -> int:
    """Re-split each hop of ``route``; keep it when total violation falls (else undo, return 0)."""
    if clock.now() > deadline:
        return 0
    previous = state.labels.copy()
    lowers = lowers_violation(state.violation())
    with state.trial() as trial:
        for a, b in itertools.pairwise(route):
            split = best_split(state, a, b, trees, rng, sender_only=b != route[-1])
            if split is None:
                break
            labels = state.labels.copy()
            labels[split[0]] = split[1]
            state.relabel(labels)
        if trial.keep_if(lowers, within_budget):
            return int((previous != state.labels).sum())
    if not trial.journal:
        state.reset(previous)  # a refused chain always ends with its tallies recounted
    return 0


def recombine_chains(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    length: int = CHAIN_LENGTH,
    trees: int = RECOM_CHAIN_TREES,
) -> int:
    """Pass a territory's excess along a route of territories by recombinations.

    Along each route from a territory out of tolerance to a complementary one, every hop
    re-splits the pair to balance the sender, whatever that does to the receiver, which
    sends on at the next hop; the last hop balances both. This moves imbalance across a
    region of already balanced territories. The first chain that lowers total violation
    is kept. Returns the number of units that changed territory.
    """
    return along_routes(
        state,
        clock,
        deadline,
        length,
        lambda route: _recombine_along(state, route, trees, rng, clock, deadline),
    )
