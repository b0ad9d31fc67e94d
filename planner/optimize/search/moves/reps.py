"""Rep counts move too: rep shifts between multi-rep territories, lumpy merges and relocation.

Where no rep home or user fixes them (see :func:`~planner.optimize.search.relocation.resizable`),
a territory a whole rep off (a metro sized on its big units, a lumpy county with no
one-rep shape) cannot be fixed by its borders: a rep shifts between multi-rep
territories, a one-rep territory stuck around a lumpy unit merges with a neighbour, and a
relocated territory's rep can go to a full multi-rep territory. A territory that gave its
rep away holds no units; the optimizer drops it from the result. Measurements behind the
constants are in docs/optimizer.md.
"""

from __future__ import annotations

import numpy as np

from planner.optimize.instance import Instance
from planner.optimize.search.accept import within_budget
from planner.optimize.search.relocation import (
    block_deviation,
    choose_donor,
    dissolvable,
    merge,
    relocation_labels,
    resizable,
    retire,
)
from planner.optimize.search.score import rep_gain
from planner.optimize.search.state import EPS, SearchState, tolerance_violation
from planner.optimize.work_clock import WorkClock

MERGE_MIN_SHARE = 0.5  # a territory merges only when it holds a unit of at least this share of one rep
MERGE_MAX_SHARE = 0.1  # a merged territory holds at most this share of all reps (or the heir's count)


def lumpy_units(instance: Instance) -> np.ndarray:
    """Units of at least ``MERGE_MIN_SHARE`` of one rep on a hard measure: their territories may merge."""
    return (instance.share[:, instance.hard] >= MERGE_MIN_SHARE).any(axis=1)


def _rep_floor(state: SearchState) -> np.ndarray:
    """Fewest reps each territory may have: what its biggest unit needs on its own."""
    floor = np.zeros(state.instance.n_territories)
    np.maximum.at(floor, state.labels, state.unit_reps)
    return floor


def shift_reps(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    max_reps: int | None = None,
) -> int:
    """Move reps from territories that have too many to territories that have too few.

    A multi-rep territory of lumpy units (a metro) can end a whole rep above or below its
    count: the counts were sized on its big units at the start, and enclaved neighbours
    (a county enclosed by a metro territory) can only join it. Each step moves one rep
    between two resizable territories when that lowers total violation without raising
    the worst hard excess; no unit moves. A territory never drops below the reps its
    biggest unit needs on its own, and never rises above ``max_reps``. Returns the number of
    reps moved.
    """
    can = resizable(state.instance, state.reps)
    cap = np.inf if max_reps is None else max_reps
    floor = np.maximum(_rep_floor(state), 1)  # no unit moves here, so it holds throughout
    moved = 0
    while can.sum() >= 2:
        reps = state.reps
        gain = np.where(can & (reps + 1 <= cap), rep_gain(state, 1.0), -np.inf)
        loss = np.where(can & (reps - 1 >= floor), rep_gain(state, -1.0), -np.inf)
        up = int(np.argmax(gain))
        loss[up] = -np.inf
        down = int(np.argmax(loss))
        if gain[up] + loss[down] <= EPS:
            break
        worst = state.worst_hard_excess()

        def worst_not_raised(state: SearchState, worst: float = worst) -> bool:
            return state.worst_hard_excess() <= worst + EPS

        with state.trial() as trial:
            state.change_reps(up, 1.0)
            state.change_reps(down, -1.0)
            trial.keep_if(worst_not_raised)
        if not trial.kept:
            break
        moved += 1
    return moved


def merge_lumpy(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    stuck: np.ndarray,
    max_reps: int | None = None,
) -> int:
    """Merge one-rep territories of lumpy units into a neighbour; returns how many merged.

    A territory built around units of a sizeable share of one rep often has no one-rep shape
    within tolerance (a unit of 0.8 reps whose every neighbour holds 0.3 or more). Such a
    territory (out of a hard tolerance and ``stuck``, i.e. the last round of the search left
    it no better; dissolvable; holding a lumpy unit, see :func:`lumpy_units`) joins the
    adjacent resizable territory with which the merged territory is furthest within
    tolerance, and the heir takes its rep.
    The merged territory may also hand one rep on to the resizable territory that gains
    most from it, but never drops below what its biggest unit needs.

    A merge is made only when the merged territory's worst hard excess is below the
    donor's and total violation falls. A merged territory holds at most
    ``MERGE_MAX_SHARE`` of all reps (unless the heir already did): pooling is for
    metros, not for the map. Worst first; merges of one call share no territory.
    """
    inst = state.instance
    hard = inst.hard
    lumpy_unit = lumpy_units(inst)
    if not lumpy_unit.any():
        return 0
    excess = state.hard_excess().max(axis=1)
    violation = state.territory_violation()
    donors = dissolvable(inst, state.reps)
    heirs = resizable(inst, state.reps)
    lumpy = np.bincount(state.labels, weights=lumpy_unit, minlength=inst.n_territories) > 0
    adjacent = state.territory_graph()
    gain = np.where(heirs, rep_gain(state, 1.0), -np.inf)
    reps = state.reps.copy()
    cap = MERGE_MAX_SHARE * reps.sum() if max_reps is None else min(MERGE_MAX_SHARE * reps.sum(), max_reps)
    floor = _rep_floor(state)
    labels, touched = state.labels, set()
    for t in np.argsort(-excess, kind="stable"):
        t = int(t)
        if excess[t] <= 0:
            break
        if not (donors[t] and lumpy[t] and stuck[t]) or t in touched:
            continue
        best, best_change = None, -EPS
        for a in sorted(adjacent.get(t, ()) - touched):
            if not heirs[a]:
                continue
            totals = state.load[a] * reps[a] + state.load[t] * reps[t]
            open_gain = gain.copy()
            open_gain[list(touched | {t, a})] = -np.inf
            receiver = int(np.argmax(open_gain))
            for release in (0, 1) if open_gain[receiver] > EPS else (0,):
                merged_reps = reps[a] + reps[t] - release
                if merged_reps > max(cap, reps[a]) or merged_reps < max(floor[a], floor[t]):
                    continue
                dev = totals / merged_reps - 1.0
                merged_excess = float(np.max(np.abs(dev[hard]) / state.tol[hard] - 1.0, initial=0.0))
                change = (
                    float(tolerance_violation(dev, state.tol, state.wv))
                    - violation[a]
                    - violation[t]
                    - (open_gain[receiver] if release else 0.0)
                )
                if merged_excess < excess[t] - EPS and change < best_change:
                    best, best_change = (a, receiver if release else None), change
        if best is not None:
            heir, receiver = best
            labels = merge(reps, labels, t, heir)
            touched |= {t, heir}
            if receiver is not None:
                reps[heir] -= 1.0
                reps[receiver] += 1.0
                touched.add(receiver)
    if not touched:
        return 0
    with state.trial() as trial:
        state.relabel(labels, reps=reps)
        trial.keep_if(within_budget)
    return int((state.reps[list(touched)] <= 0).sum()) if trial.kept else 0


def relocate(
    state: SearchState,
    *,
    rng: np.random.Generator,
    clock: WorkClock,
    deadline: float,
    count: int,
    pool_reps: bool = False,
    max_reps: int | None = None,
) -> int:
    """Move territories to blocks that as a whole are out of tolerance; returns how many moved.

    For each territory out of a hard tolerance (worst first) whose block (it and its
    neighbours) together holds too much (or too little) per rep on that measure, a
    dissolvable territory where the map has the most room is spread over its neighbours
    and its label is carved out of the full territory; when the full territory has
    several reps and may gain one (only with ``pool_reps``, up to ``max_reps``), the donor's
    rep goes to it instead and the donor is retired (see
    :mod:`planner.optimize.search.relocation`). Blocks and donors of one call do not overlap.
    """
    inst = state.instance
    hard = np.flatnonzero(inst.hard)
    excess = state.hard_excess()
    adjacent = state.territory_graph()
    candidates = dissolvable(inst, state.reps)
    cap = np.inf if max_reps is None else max_reps
    grows = resizable(inst, state.reps) & (state.reps >= 2) & (state.reps + 1 <= cap) & pool_reps
    touched: set[int] = set()
    moved = 0
    for t in np.argsort(-excess.max(axis=1) if excess.size else [], kind="stable"):
        t = int(t)
        if moved >= count or excess[t].max() <= 0:
            break
        j = hard[int(np.argmax(excess[t]))]
        block = [t, *sorted(adjacent.get(t, ()))]
        if touched & set(block):  # also skips donors retired by this call
            continue
        together = block_deviation(state.reps, state.load, block)[j]
        if abs(together) <= inst.tolerances[j] or together * state.deviations()[t, j] <= 0:
            continue
        if together > 0:
            full, donor = (
                t,
                choose_donor(inst, state.reps, state.load, adjacent, touched | set(block), candidates),
            )
        else:
            room = [b for b in block if candidates[b]]
            donor = min(room, key=lambda b: (state.load[b, j], b)) if room else None
            outside = np.setdiff1d(np.flatnonzero(state.reps > 0), [*block, *touched])
            full = int(outside[np.argmax(state.load[outside, j])]) if len(outside) else None
        if donor is None or full is None:
            continue
        clock.charge("relocate", inst.n_units)
        if grows[full]:
            labels, reps = retire(inst, state.reps, state.labels, donor, full, state.neighbors)
        else:
            labels = relocation_labels(inst, state.reps, state.labels, full, donor, state.neighbors, rng)
            reps = None
        if labels is None:
            continue
        with state.trial() as trial:
            state.relabel(labels, reps=reps)
            trial.keep_if(within_budget)
        if not trial.kept:
            continue
        moved += 1
        touched |= set(block) | {full, donor} | adjacent.get(donor, set())
        adjacent = state.territory_graph()
    return moved
