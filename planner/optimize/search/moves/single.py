"""Single-unit moves: improving rounds of border moves, ejection chains and random kicks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner.optimize.search.accept import keeps_contiguity, lowers_violation, within_budget
from planner.optimize.search.score import move_deltas
from planner.optimize.search.state import EPS, SearchState
from planner.optimize.work_clock import WorkClock

EJECTION_DEPTH = 5  # longest chain of single moves that passes excess on


def improve_round(state: SearchState, *, rng: np.random.Generator, lam_c: float, lam_d: float) -> int:
    """Score all border moves, apply the improving ones best-first; return moves applied.

    Moves that would disconnect the unit's territory are skipped, and (unless scored on
    balance alone) so are moves that raise total tolerance violation; a move whose
    territories changed since scoring is scored again.
    """
    inst = state.instance
    labels = state.labels
    state.clock.charge("pass", len(state.rows))
    a_all = labels[state.rows]
    b_all = labels[inst.indices]
    ok = (a_all != b_all) & state.movable[state.rows]
    ok &= ~inst.frozen_territory[a_all] & ~inst.frozen_territory[b_all]
    if not ok.any():
        return 0
    keys = np.unique(state.rows[ok].astype(np.int64) * inst.n_territories + b_all[ok])
    u, b = keys // inst.n_territories, keys % inst.n_territories
    a = labels[u]
    delta, d_vio, _ = move_deltas(state, u, a, b, lam_c, lam_d)
    # Scored on balance alone, the squared penalty decides (it spreads excess over
    # territories, which total violation V does not reward); otherwise V must not rise.
    vio_slack = np.inf if lam_c == 0 and lam_d == 0 else EPS
    good = (delta < -EPS) & (d_vio <= vio_slack)
    if not good.any():
        return 0
    u, a, b, delta = u[good], a[good], b[good], delta[good]
    order = np.lexsort((rng.random(len(delta)), delta))
    state.clock.charge("visit", len(order))
    touched = np.zeros(inst.n_territories, dtype=bool)
    moved_units: set[int] = set()
    applied = 0
    for i in order:
        ui, ai, bi = int(u[i]), int(a[i]), int(b[i])
        if ui in moved_units or labels[ui] != ai or state.count[ai] <= 1:
            continue
        if not any(labels[v] == bi for v in state.neighbors[ui]):
            continue  # its neighbour in b left earlier in this round
        if touched[ai] or touched[bi]:  # state changed since scoring: score again
            d, v, dd = move_deltas(state, np.array([ui]), np.array([ai]), np.array([bi]), lam_c, lam_d)
            if d[0] >= -EPS or v[0] > vio_slack:
                continue
            dd_i = float(dd[0])
        else:
            dd_i = None
        if state.max_disruption is not None:
            if dd_i is None:
                dd_i = float(move_deltas(state, np.array([ui]), np.array([ai]), np.array([bi]), 0, 1)[2][0])
            if dd_i > 0 and state.disruption + dd_i > state.max_disruption + 1e-12:
                continue
        if not keeps_contiguity(state, ui, ai):
            continue
        state.apply(ui, ai, bi)
        touched[ai] = touched[bi] = True
        moved_units.add(ui)
        applied += 1
    return applied


def descend(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    scale_c: float = 1.0,
    scale_d: float = 1.0,
    on_round: Callable[[], None] | None = None,
) -> int:
    """Apply improving rounds until none helps or the deadline passes; return moves applied.

    Compactness and disruption weigh ``scale_c`` and ``scale_d`` times their weights
    (0: balance alone); ``on_round`` is called after every round.
    """
    total = 0
    while clock.now() < deadline:
        applied = improve_round(
            state, rng=rng, lam_c=state.compactness_weight * scale_c, lam_d=state.disruption_weight * scale_d
        )
        if on_round is not None:
            on_round()
        total += applied
        if not applied:
            break
    return total


def _best_move(state: SearchState, territory: int, push: bool, banned: set[int], scale: float):
    """Cheapest single move out of (push) or into (pull) ``territory``: (dF, u, a, b) or None."""
    labels, neighbors = state.labels, state.neighbors
    inst = state.instance
    members = state.members(territory)
    pairs = set()
    for u in members:
        for v in neighbors[u]:
            k = int(labels[v])
            if k == territory or k in banned or inst.frozen_territory[k]:
                continue
            if push and state.movable[u]:
                pairs.add((int(u), territory, k))
            elif not push and state.movable[v]:
                pairs.add((int(v), k, territory))
    if not pairs:
        return None
    u, a, b = (np.array(x) for x in zip(*sorted(pairs), strict=True))
    delta, _, _ = move_deltas(
        state, u, a, b, state.compactness_weight * scale, state.disruption_weight * scale
    )
    for i in np.argsort(delta, kind="stable"):
        if state.count[a[i]] > 1 and keeps_contiguity(state, int(u[i]), int(a[i])):
            return float(delta[i]), int(u[i]), int(a[i]), int(b[i])
    return None


def eject_chains(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    depth: int = EJECTION_DEPTH,
    scale: float = 0.0,
) -> int:
    """Pass the excess of each territory out of tolerance along a chain of moves.

    A chain of up to ``depth`` moves passes the excess on (or pulls the deficit in)
    until it is absorbed; it is kept when the whole chain improves the objective and
    lowers the violation. Returns the number of moves kept.
    """
    kept = 0
    dev = state.deviations()
    violation = state.territory_violation()
    for t in np.argsort(-violation, kind="stable"):
        if violation[t] <= EPS or clock.now() > deadline:
            break
        push = float((dev[t] * state.w / state.tol).sum()) > 0
        lowers = lowers_violation(state.violation())
        with state.trial() as trial:
            total, current, banned = 0.0, int(t), {int(t)}
            for _ in range(depth):
                move = _best_move(state, current, push, banned, scale)
                if move is None:
                    break
                delta, u, a, b = move
                state.apply(u, a, b)
                total += delta
                current = b if push else a
                banned.add(current)
                if total < -EPS and lowers(state):
                    break
            if trial.journal and total < -EPS and trial.keep_if(lowers, within_budget):
                kept += len(trial.journal)
                dev = state.deviations()
    return kept


def kick(
    state: SearchState, *, rng: np.random.Generator, clock: WorkClock, deadline: float, strength: int
) -> int:
    """Random valid border moves in and around the territories out of tolerance; returns moves made."""
    violating = np.flatnonzero(state.territory_violation() > EPS)
    applied = 0
    labels, neighbors, inst = state.labels, state.neighbors, state.instance
    for t in violating:
        for _ in range(strength):
            members = state.members(t, scans=2)  # its border is scanned twice below
            border = [
                (int(u), int(labels[v]))
                for u in members
                for v in neighbors[u]
                if labels[v] != t and state.movable[u]
            ]
            border += [
                (int(v), int(t)) for u in members for v in neighbors[u] if labels[v] != t and state.movable[v]
            ]
            if not border:
                break
            u, b = border[int(rng.integers(len(border)))]
            a = int(labels[u])
            if a == b or inst.frozen_territory[a] or inst.frozen_territory[b] or state.count[a] <= 1:
                continue
            if keeps_contiguity(state, u, a):
                with state.trial() as trial:
                    state.apply(u, a, b)
                    if trial.keep_if(within_budget):
                        applied += 1
    return applied
