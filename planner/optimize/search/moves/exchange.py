"""Exchanges between neighbouring territories: short paths of units, chains of them, and swaps.

When most border units hold none of a measure (57% of the demo counties have no
bookings), single moves see a flat objective and cannot reach the units that matter;
and with two measures, fixing one often needs a unit to leave and another to come in.
"""

from __future__ import annotations

import itertools

import numpy as np

from planner.optimize.search.accept import (
    exchange_keeps_contiguity,
    keeps_contiguity,
    lowers_violation,
    within_budget,
)
from planner.optimize.search.routes import CHAIN_LENGTH, along_routes
from planner.optimize.search.score import penalty, swap_deltas
from planner.optimize.search.state import EPS, SearchState, tolerance_violation
from planner.optimize.work_clock import WorkClock

PATH_DEPTH = 8  # longest path of units moved at once
PATH_MAX = 64  # paths considered on each side of a border
PATH_TRIES = 50  # improving paths tried (best first) until one keeps both territories connected


def _paths_from(
    state: SearchState, entry: list[tuple[int, int]], inside: int, depth: int
) -> dict[int, list[int]]:
    """Paths of movable units of ``inside`` from its border, ``entry`` = (unit, via) pairs.

    Breadth-first, so the shortest path to each unit; at most ``PATH_MAX`` paths.
    """
    paths: dict[int, list[int]] = {}
    frontier = []
    for u, _ in entry:
        if u not in paths and state.movable[u] and len(paths) < PATH_MAX:
            paths[u] = [u]
            frontier.append(u)
    for _ in range(depth - 1):
        grown = []
        for u in frontier:
            for v in state.neighbors[u]:
                if len(paths) >= PATH_MAX:
                    return paths
                if v not in paths and state.labels[v] == inside and state.movable[v]:
                    paths[v] = [*paths[u], v]
                    grown.append(v)
        frontier = grown
    state.clock.charge("visit", len(paths))
    return paths


def _exchanges(state: SearchState, t: int, b: int, pairs: list[tuple[int, int]], depth: int):
    """Paths pulled from b into t and pushed from t to b, and the net share moved into t.

    Each list of paths starts with the empty path; the net share has one row per
    (pull, push) pair.
    """
    inst = state.instance
    pull = [[], *_paths_from(state, [(v, u) for u, v in pairs], b, depth).values()]
    push = [[], *_paths_from(state, pairs, t, depth).values()]
    state.clock.charge("call")
    state.clock.charge("scored", len(pull) * len(push))
    s_in = np.array([inst.share[p].sum(axis=0) if p else np.zeros(len(state.tol)) for p in pull])
    s_out = np.array([inst.share[p].sum(axis=0) if p else np.zeros(len(state.tol)) for p in push])
    return pull, push, s_in[:, None, :] - s_out[None, :, :]


def _border_pairs(state: SearchState, t: int, b: int) -> list[tuple[int, int]]:
    """Adjacent (unit in t, unit in b) pairs."""
    return [(int(u), int(v)) for u in state.members(t) for v in state.neighbors[u] if state.labels[v] == b]


def path_moves(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    depth: int = PATH_DEPTH,
) -> int:
    """Exchange short paths of units between a territory out of tolerance and a neighbour.

    For each territory t out of tolerance and each neighbour b, this takes every path of
    up to ``depth`` movable units leading from the shared border into b (pulled into t)
    and into t (pushed to b), scores every pair (one side may be empty) on balance in
    one vectorised pass, and applies the best pair that lowers total violation and keeps
    both territories connected. Returns the number of units moved.
    """
    inst = state.instance
    tol, w, wv = state.tol, state.w, state.wv
    moved = 0
    violation = state.territory_violation()
    for t in np.argsort(-violation, kind="stable"):
        t = int(t)
        if violation[t] <= EPS or clock.now() > deadline:
            break
        border: dict[int, list[tuple[int, int]]] = {}
        for u in state.members(t):
            for v in state.neighbors[u]:
                b = int(state.labels[v])
                if b != t and not inst.frozen_territory[b]:
                    border.setdefault(b, []).append((int(u), int(v)))
        options = []
        dev = state.deviations()
        for b, pairs in border.items():
            pull, push, net = _exchanges(state, t, b, pairs, depth)
            new_t, new_b = dev[t] + net / state.reps[t], dev[b] - net / state.reps[b]
            d_bal = penalty(new_t, tol, w) + penalty(new_b, tol, w) - penalty(dev[[t, b]], tol, w).sum()
            d_vio = (
                tolerance_violation(new_t, tol, wv)
                + tolerance_violation(new_b, tol, wv)
                - tolerance_violation(dev[[t, b]], tol, wv).sum()
            )
            ok = (d_bal < -EPS) & (d_vio < -EPS)
            ok[0, 0] = False
            for i, j in zip(*np.nonzero(ok), strict=True):
                options.append((float(d_bal[i, j]), len(pull[i]) + len(push[j]), pull[i], push[j], b))
        options.sort(key=lambda o: (o[0], o[1]))
        for *_, pulled, pushed, b in options[:PATH_TRIES]:
            if not exchange_keeps_contiguity(state, pulled, pushed, t, b):
                continue
            with state.trial() as trial:
                state.exchange(pulled, pushed, t, b)
                trial.keep_if(within_budget)
            if trial.kept:
                moved += len(pulled) + len(pushed)
                violation = state.territory_violation()
                break
    return moved


def _pass_along(state: SearchState, route: list[int], depth: int) -> int:
    """Apply the exchange chain along ``route``; keep it when total violation falls.

    Each hop applies the path exchange that best balances the sending territory,
    whatever it does to the receiving one. Returns the number of units moved (0 when
    the chain was undone).
    """
    tol, w = state.tol, state.w
    lowers = lowers_violation(state.violation())
    with state.trial() as trial:
        for a, b in itertools.pairwise(route):
            pairs = _border_pairs(state, a, b)
            if not pairs:
                break
            pull, push, net = _exchanges(state, a, b, pairs, depth)
            dev = state.deviations()
            score = penalty(dev[a] + net / state.reps[a], tol, w)
            score[0, 0] = np.inf
            improving = np.flatnonzero(score.ravel() < penalty(dev[a], tol, w) - EPS)
            done = False
            for flat in improving[np.argsort(score.ravel()[improving], kind="stable")][:PATH_TRIES]:
                i, j = divmod(int(flat), score.shape[1])
                if exchange_keeps_contiguity(state, pull[i], push[j], a, b):
                    for u in pull[i]:
                        state.apply(u, b, a)
                    for u in push[j]:
                        state.apply(u, a, b)
                    done = True
                    break
            if not done:
                break
        if trial.journal and trial.keep_if(lowers, within_budget):
            return len(trial.journal)
    return 0


def exchange_chains(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    depth: int = PATH_DEPTH,
    length: int = CHAIN_LENGTH,
) -> int:
    """Pass a territory's excess along a route of territories by path exchanges.

    For each territory t out of tolerance, tries routes to its most complementary
    territories within ``length`` hops (see :func:`~planner.optimize.search.routes.routes`)
    and, hop by hop, applies the path exchange that best balances the sending territory,
    which the receiving one passes on at the next hop. The first chain that lowers total
    violation is kept; the others are undone. Returns the number of units moved.
    """
    return along_routes(state, clock, deadline, length, lambda route: _pass_along(state, route, depth))


def swaps(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    scale: float,
    only_violating: bool,
) -> int:
    """Exchange a border unit of a territory with one of a neighbour (u: a->b, w: b->a).

    A pair is swapped when it improves the objective without raising violation; returns
    the number of swaps made (at most one per territory: its border changed). Swaps fix
    what single moves cannot: balance two measures at once, or reshape two territories
    that are already balanced.
    """
    inst, labels = state.instance, state.labels
    lam_c, lam_d = state.compactness_weight * scale, state.disruption_weight * scale
    territories = np.arange(inst.n_territories)
    if only_violating:
        territories = np.flatnonzero(state.territory_violation() > EPS)
    made = 0
    for a in territories:
        if inst.frozen_territory[a]:
            continue
        members = state.members(a)
        by_neighbour: dict[int, set[int]] = {}
        for u in members:
            if not state.movable[u]:
                continue
            for v in state.neighbors[u]:
                b = int(labels[v])
                if b != a and not inst.frozen_territory[b]:
                    by_neighbour.setdefault(b, set()).add(int(u))
        for b, outs in by_neighbour.items():
            ins = {int(v) for u in outs for v in state.neighbors[u] if labels[v] == b and state.movable[v]}
            if not ins:
                continue
            us, ws = np.array(sorted(outs)), np.array(sorted(ins))
            uu, ww = np.repeat(us, len(ws)), np.tile(ws, len(us))
            total, d_vio = swap_deltas(state, us, ws, a, b, lam_c, lam_d)
            vio_slack = np.inf if lam_c == 0 and lam_d == 0 else EPS
            ok = (total < -EPS) & (d_vio <= vio_slack) & (uu != ww)
            if not ok.any():
                continue
            i = int(np.flatnonzero(ok)[np.argmin(total[ok])])
            u, w = int(uu[i]), int(ww[i])
            if not keeps_contiguity(state, u, a):
                continue
            with state.trial() as trial:
                state.apply(u, a, b)
                if keeps_contiguity(state, w, b) and any(labels[v] == a for v in state.neighbors[w]):
                    state.apply(w, b, a)
                    trial.keep_if(within_budget)
            if not trial.kept:
                continue
            made += 1
            break  # a's border changed: look at it again next round
    return made
