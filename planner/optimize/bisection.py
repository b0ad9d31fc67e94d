"""Recursive bisection start: every measure balanced at every scale, by spanning-tree cuts.

Why. The local search moves units across borders. Where most units hold none of a
measure (57% of the demo's counties have no bookings), those moves leave the measure
unchanged, so a region short of it cannot draw it from far away: the search ends with
whole regions off. Cutting the map top-down fixes the regions first: the whole map is
split into two connected parts, each holding its reps' share of every measure, then each
part again, down to one territory (after GerryChain's ``recursive_tree_part``, which
balances one measure and has no multi-rep territories or locks).

How. A region with ``r`` reps and its territories is split by drawing random spanning
trees of its units (:mod:`planner.optimize.tree_cuts`); cutting a tree edge leaves two connected
parts, and every cut of a tree is scored at once from subtree sums. A part gets the reps
its first hard measure calls for (rounded, at least 1). A cut is valid when each
territory's locked units (protected units, units of multi-rep groups) fall on one side and
each side has reps for its locked territories. The best cut has the least violation of
the hard tolerances per rep on both sides (half the tolerance for a part that will be
split again, so errors do not add up; soft tolerances count a thousandth as much), ties
broken by a squared-deviation penalty; it need not be within tolerance. The parts'
territories: locked ones follow their units, the others (one rep each) are shared out,
then renamed to overlap the reference plan most (disruption), or their rep homes.

Limits: it returns None (and the optimizer keeps its usual start) when a territory without
locked units has several reps, when the units outside locked territories are not
connected, or when no valid cut exists. Small regions are where it is weakest: with big,
lumpy units few cuts land within tight tolerances, which the local search then repairs.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from planner.optimize.instance import Instance
from planner.optimize.tree_cuts import random_tree_cuts, region_graph
from planner.optimize.work_clock import WorkClock

TREES_LARGE = 30  # random spanning trees per split of a region with more than SMALL_REGION reps
TREES_SMALL = 60  # ... and per split of a small region, where good cuts are rarer
SMALL_REGION = 4  # reps
INNER_TOLERANCE = 0.5  # a part that will be split again aims at this fraction of the tolerance
TIE_BREAK = 1e-3  # weight of the squared-deviation penalty between cuts of equal violation
SOFT_WEIGHT = 1e-3  # weight of a soft measure's violation against a hard one's
EVEN_SPLIT = 1e-2  # weight of a preference for halves of equal reps (shallower recursion)


def bisection_labels(
    instance: Instance,
    rng: np.random.Generator,
    *,
    clock: WorkClock | None = None,
    deadline: float = float("inf"),
) -> np.ndarray | None:
    """Territory index per unit from recursive bisection, or None when it does not apply.

    Units of locked territories keep their start territory. Returns None when it cannot
    build a plan (see the module docstring) or when ``clock`` passes ``deadline`` (seconds
    of :class:`planner.optimize.work_clock.WorkClock`).
    """
    clock = clock or WorkClock()
    inst = instance
    frozen = inst.frozen_territory
    territories = [k for k in range(inst.n_territories) if not frozen[k]]
    has_locks = np.zeros(inst.n_territories, dtype=bool)
    has_locks[np.unique(inst.locked[inst.locked >= 0])] = True
    if any(inst.reps[k] != 1 and not has_locks[k] for k in territories) or not territories:
        return None
    labels = np.where(np.isin(inst.start, np.flatnonzero(frozen)), inst.start, -1)
    stack = [(np.flatnonzero(labels < 0), territories)]
    while stack:
        members, region_territories = stack.pop()
        if len(region_territories) == 1:
            labels[members] = region_territories[0]
            continue
        if clock.now() > deadline:
            return None
        parts = _split(inst, members, region_territories, rng, clock)
        if parts is None:
            return None
        stack.extend(parts)
    return _rename(inst, labels, [k for k in territories if not has_locks[k]])


def _split(
    inst: Instance, members: np.ndarray, territories: list[int], rng: np.random.Generator, clock: WorkClock
):
    """Best cut of a region into two parts with their territories, or None when none is valid."""
    r = float(inst.reps[territories].sum())
    locked = [k for k in territories if (inst.locked[members] == k).any()]
    free = [k for k in territories if k not in locked]
    locked_ids = np.array(locked, dtype=int)
    lock_columns = inst.locked[members][:, None] == locked_ids[None, :]  # one column per locked territory
    lock_reps = inst.reps[locked_ids]
    m = inst.share.shape[1]
    values = np.column_stack([inst.share[members], lock_columns.astype(float)])
    total = values.sum(axis=0)
    tol = inst.tolerances
    # Hard measures decide; soft ones only break ties between cuts of equal hard violation.
    weight = inst.weights * np.where(inst.hard, 1.0, SOFT_WEIGHT) if inst.hard.any() else inst.weights
    sizing = int(np.argmax(inst.hard)) if inst.hard.any() else 0  # the measure that sets each part's reps
    graph = region_graph(inst.indptr, inst.indices, members)
    n = len(members)
    best = None
    clock.charge("pass", inst.n_units)
    clock.charge("tree", n)
    for _ in range(TREES_SMALL if r <= SMALL_REGION else TREES_LARGE):
        clock.charge("tree", n)
        cuts = random_tree_cuts(graph, values, rng)
        if cuts is None:
            return None  # the region is not connected
        cut = cuts.below  # the part below each tree edge
        side, lock_side = cut[:, :m], cut[:, m:]
        whole = np.all((lock_side == 0) | (lock_side == total[m:]), axis=1)  # no lock split
        inside = lock_side == total[m:]
        reps_in = np.clip(np.rint(side[:, sizing]), 1, r - 1)
        locked_in = inside @ lock_reps
        free_in = reps_in - locked_in
        free_out = (r - reps_in) - (lock_reps.sum() - locked_in)
        valid = whole & (free_in >= 0) & (free_out >= 0) & (free_in + free_out == len(free))
        if not valid.any():
            continue
        dev_in = side / reps_in[:, None] - 1.0
        dev_out = (total[:m] - side) / (r - reps_in)[:, None] - 1.0
        tol_in = tol * np.where(reps_in > 1, INNER_TOLERANCE, 1.0)[:, None]
        tol_out = tol * np.where(r - reps_in > 1, INNER_TOLERANCE, 1.0)[:, None]
        violation = (np.maximum(np.abs(dev_in) - tol_in, 0) / tol * weight).sum(axis=1) + (
            np.maximum(np.abs(dev_out) - tol_out, 0) / tol * weight
        ).sum(axis=1)
        penalty = ((dev_in / tol) ** 2 * weight).sum(axis=1) + ((dev_out / tol) ** 2 * weight).sum(axis=1)
        uneven = np.abs(reps_in - r / 2) / r
        score = np.where(valid, violation + TIE_BREAK * penalty + EVEN_SPLIT * uneven, np.inf)
        pick = int(np.argmin(score))
        if best is None or score[pick] < best[0]:
            best = (float(score[pick]), cuts.part(pick, n), int(free_in[pick]), inside[pick])
    if best is None:
        return None
    _, part, n_free_in, locked_inside = best
    territories_in = [k for k, x in zip(locked, locked_inside, strict=True) if x] + free[:n_free_in]
    territories_out = [k for k, x in zip(locked, locked_inside, strict=True) if not x] + free[n_free_in:]
    return (members[part], territories_in), (members[~part], territories_out)


def _rename(inst: Instance, labels: np.ndarray, free: list[int]) -> np.ndarray:
    """Give the free (one-rep, unlocked) territories' parts the names that disrupt least.

    With a reference plan, each part takes the free territory whose reference units it
    overlaps most (by disruption measure); otherwise the free territory whose rep home is
    nearest its centroid. Parts are interchangeable, so this costs no balance.
    """
    if len(free) < 2:
        return labels
    cost = np.zeros((len(free), len(free)))
    weight = inst.disrupt_weight
    if (inst.reference >= 0).any():
        for i, part in enumerate(free):
            in_part = labels == part
            for j, name in enumerate(free):
                cost[i, j] = -weight[in_part & (inst.reference == name)].sum()
    elif np.isfinite(inst.territory_homes_km[free]).all():
        for i, part in enumerate(free):
            centre = inst.xy_km[labels == part].mean(axis=0)
            cost[i] = ((inst.territory_homes_km[free] - centre) ** 2).sum(axis=1)
    else:
        return labels
    rows, cols = linear_sum_assignment(cost)
    rename = np.arange(inst.n_territories)
    rename[np.asarray(free)[rows]] = np.asarray(free)[cols]
    return np.where(labels >= 0, rename[labels], labels)
