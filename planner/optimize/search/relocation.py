"""Relocating a territory: dissolve one where the map has room, carve a new one where a block is full.

Border moves, recombination and chains only redraw borders, so each region keeps the number
of territories the start gave it. When a territory and its neighbours *together* hold more
than their reps' share of a hard measure beyond tolerance (a metro block with more reps of
TAM than territories), no redrawing inside the block can balance it, and lumpy border units
(a fifth of a rep or more) cannot carry the surplus out bit by bit without pushing a
neighbour out of tolerance. Relocation moves a whole territory instead: a donor territory in
the part of the map with the most room is dissolved into its neighbours, and its label is
reused for a piece carved out of the full territory along a random spanning tree (see
:mod:`planner.optimize.tree_cuts`). The search then spreads the donor's units over its
neighbourhood and fills the new territory from the block. This is the merge-split move of
districting heuristics.

When the full territory already has several reps (a metro of lumpy units, each a third of
a rep or more), no tree cut of it lands on one rep's share; instead the donor's rep goes to it
(:func:`retire`): the donor's units are spread over its neighbours, the full territory
gets one more rep and the donor is retired (no units, no reps; the result drops it).
A one-rep territory stuck around lumpy units is instead merged with a neighbour, which
takes its units and its rep (:func:`merge`, used by :func:`~planner.optimize.search.moves.reps.merge_lumpy`).

Only territories without a rep home, locked units or a fixed rep count are dissolved,
and only territories without a home or a fixed rep count gain reps: moving a rep's home
base across the map is a hiring decision, not a border change.
"""

from __future__ import annotations

import numpy as np

from planner.optimize.instance import Instance
from planner.optimize.tree_cuts import random_tree_cuts, region_graph

CARVE_TREES = 16  # random spanning trees tried when carving the new territory


def block_deviation(reps: np.ndarray, load: np.ndarray, block: list[int]) -> np.ndarray:
    """Per-rep deviation of a group of territories taken together, per measure."""
    reps = reps[block]
    return (load[block] * reps[:, None]).sum(axis=0) / reps.sum() - 1.0


def resizable(instance: Instance, reps: np.ndarray) -> np.ndarray:
    """Territories whose rep count may change: no rep home, count not fixed, not frozen, not retired."""
    homeless = ~np.isfinite(instance.territory_homes_km).all(axis=1)
    return homeless & ~instance.fixed_reps & ~instance.frozen_territory & (reps > 0)


def dissolvable(instance: Instance, reps: np.ndarray) -> np.ndarray:
    """Territories that may be dissolved: resizable (see :func:`resizable`), one rep, no locked unit."""
    locked = np.bincount(instance.locked[instance.locked >= 0], minlength=instance.n_territories) > 0
    return resizable(instance, reps) & (reps == 1) & ~locked


def choose_donor(
    instance: Instance,
    reps: np.ndarray,
    load: np.ndarray,
    adjacent: dict[int, set[int]],
    exclude: set[int],
    candidates: np.ndarray,
) -> int | None:
    """The candidate territory (mask, see :func:`dissolvable`) whose neighbours can best absorb it.

    Scored by the deviation of its neighbours once they hold its units (hard measures,
    in tolerance units, worst measure): the donor sits where the map has the most room.
    None when no candidate qualifies.
    """
    hard = instance.hard
    best, best_score = None, np.inf
    for d in np.flatnonzero(candidates):
        d = int(d)
        around = sorted(adjacent.get(d, set()) - {d})
        if d in exclude or not around or exclude & set(around):
            continue
        around_reps = reps[around]
        after = ((load[around] * around_reps[:, None]).sum(axis=0) + load[d]) / around_reps.sum() - 1.0
        score = float(np.max(np.abs(after[hard]) / instance.tolerances[hard]))
        if score < best_score:
            best, best_score = d, score
    return best


def dissolve(
    instance: Instance, reps: np.ndarray, labels: np.ndarray, donor: int, neighbors: list[list[int]]
) -> np.ndarray:
    """Labels with the donor's units given to adjacent territories, the least loaded first.

    Grows the neighbours into the donor one ring of units at a time, each unit joining
    the least loaded (primary measure, per rep) territory it touches, so every territory
    stays connected.
    """
    labels = labels.copy()
    load = np.bincount(labels, weights=instance.share[:, 0], minlength=instance.n_territories)
    left = set(np.flatnonzero(labels == donor).tolist())
    while left:
        ring = {}
        for u in left:
            around = {labels[v] for v in neighbors[u] if labels[v] != donor}
            if around:
                ring[u] = min(around, key=lambda t: (load[t] / reps[t], t))
        if not ring:
            raise ValueError("the donor territory does not touch another territory")
        for u, t in ring.items():
            labels[u] = t
            load[t] += instance.share[u, 0]
        left -= set(ring)
    return labels


def carve(
    instance: Instance,
    reps: np.ndarray,
    labels: np.ndarray,
    full: int,
    new: int,
    rng: np.random.Generator,
    keep: float | None = None,
) -> np.ndarray | None:
    """Labels with part of territory ``full`` given to the empty territory ``new``.

    Cuts ``full`` along random spanning trees and keeps the cut that leaves ``full``
    closest to ``keep`` fair shares on the hard measures (default: its reps' share; its
    locked units stay in it). Returns None when ``full`` has a single unit or no cut
    keeps its locks.
    """
    members = np.flatnonzero(labels == full)
    if len(members) < 2:
        return None
    hard = instance.hard
    values = np.column_stack([instance.share[members][:, hard], instance.locked[members] == full])
    total = values.sum(axis=0)
    graph = region_graph(instance.indptr, instance.indices, members)
    target = reps[full] if keep is None else keep
    best, best_score = None, np.inf
    for _ in range(CARVE_TREES):
        cuts = random_tree_cuts(graph, values, rng)
        if cuts is None:
            return None
        for kept_below in (True, False):
            kept = cuts.below if kept_below else total - cuts.below
            valid = kept[:, -1] == total[-1]
            if not valid.any():
                continue
            score = np.where(
                valid, (np.abs(kept[:, :-1] / target - 1.0) / instance.tolerances[hard]).max(axis=1), np.inf
            )
            pick = int(np.argmin(score))
            if score[pick] < best_score:
                below = cuts.part(pick, len(members))
                best, best_score = below if not kept_below else ~below, score[pick]
    if best is None:
        return None
    labels = labels.copy()
    labels[members[best]] = new
    return labels


def relocation_labels(
    instance: Instance,
    reps: np.ndarray,
    labels: np.ndarray,
    full: int,
    donor: int,
    neighbors: list[list[int]],
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Dissolve ``donor`` into its neighbours and carve its replacement out of ``full``."""
    dissolved = dissolve(instance, reps, labels, donor, neighbors)
    return carve(instance, reps, dissolved, full, donor, rng)


def retire(
    instance: Instance,
    reps: np.ndarray,
    labels: np.ndarray,
    donor: int,
    heir: int,
    neighbors: list[list[int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Give the donor's rep to ``heir`` and spread the donor's units over its neighbours.

    Returns the new labels and reps (the heir gains the rep, the donor is left with none
    and holds no unit). The heir gains its rep first, so when it borders the donor it
    takes the donor's units first.
    """
    reps = reps.copy()
    reps[heir] += reps[donor]
    reps[donor] = 0
    return dissolve(instance, reps, labels, donor, neighbors), reps


def merge(reps: np.ndarray, labels: np.ndarray, donor: int, heir: int) -> np.ndarray:
    """Give the donor's units and reps to the adjacent territory ``heir``.

    Changes ``reps`` in place and returns the new labels; the donor is retired (no units,
    no reps). Both territories were connected and they touch, so the merged one is
    connected.
    """
    reps[heir] += reps[donor]
    reps[donor] = 0
    return np.where(labels == donor, heir, labels)
