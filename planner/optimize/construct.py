"""Build a first contiguous plan: seeds, balanced region growing, absorption and contiguity repair.

All functions work on integer label arrays (territory index per unit, -1 = unassigned)
over an :class:`~planner.optimize.instance.Instance`.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planner.optimize.flow import allocate, territory_centres
from planner.optimize.instance import Instance, composite_load


def choose_seeds(instance: Instance, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One seed unit per territory that has no unit yet (weighted k-means++).

    Territories with units keep their units; territories with a rep home are seeded at
    the unit nearest that home. Others are spread by k-means++ on unit centroids weighted
    by composite load (the allocation's re-centring then refines them).
    """
    K = instance.n_territories
    xy = instance.xy_km
    seeds = np.full(K, -1)
    for k in range(K):
        members = np.flatnonzero(labels == k)
        if len(members):
            seeds[k] = members[0]
        elif np.isfinite(instance.territory_homes_km[k]).all():
            seeds[k] = int(np.argmin(((xy - instance.territory_homes_km[k]) ** 2).sum(axis=1)))
    free = np.flatnonzero(seeds < 0)
    if not len(free):
        return seeds
    weight = composite_load(instance) + 1e-9
    chosen = list(seeds[seeds >= 0])
    d2 = np.full(len(xy), np.inf) if not chosen else ((xy[:, None, :] - xy[chosen][None]) ** 2).sum(-1).min(1)
    for k in free:
        if np.isinf(d2).all():
            pick = int(rng.choice(len(xy), p=weight / weight.sum()))
        else:
            p = weight * d2
            p[chosen] = 0.0
            pick = int(rng.choice(len(xy), p=p / p.sum()))
        seeds[k] = pick
        chosen.append(pick)
        d2 = np.minimum(d2, ((xy - xy[pick]) ** 2).sum(axis=1))
    return seeds


def absorb(instance: Instance, labels: np.ndarray, neighbors: list[list[int]]) -> np.ndarray:
    """Give every unassigned unit to a neighbouring territory, lightest (per rep) first.

    Units cut off from every non-frozen territory stay unassigned only if the graph
    gives them no way in, which a connected adjacency graph rules out.
    """
    labels = labels.copy()
    load = composite_load(instance)
    K = instance.n_territories
    tally = np.bincount(labels[labels >= 0], weights=load[labels >= 0], minlength=K)
    heap: list[tuple[float, int, int]] = []
    for u in np.flatnonzero(labels < 0):
        for v in neighbors[u]:
            k = labels[v]
            if k >= 0 and not instance.frozen_territory[k]:
                heap.append((tally[k] / instance.reps[k], u, k))
    heapq.heapify(heap)
    while heap:
        _, u, k = heapq.heappop(heap)
        if labels[u] >= 0:
            continue
        labels[u] = k
        tally[k] += load[u]
        for v in neighbors[u]:
            if labels[v] < 0:
                heapq.heappush(heap, (tally[k] / instance.reps[k], v, k))
    return labels


def territory_pieces(instance: Instance, labels: np.ndarray) -> np.ndarray:
    """Connected-component id of each unit within its own territory."""
    indptr, indices = instance.indptr, instance.indices
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    same = labels[rows] == labels[indices]
    n = len(labels)
    inner = sparse.csr_array((np.ones(int(same.sum())), (rows[same], indices[same])), shape=(n, n))
    return connected_components(inner, directed=False)[1]


def repair_contiguity(instance: Instance, labels: np.ndarray, neighbors: list[list[int]]) -> np.ndarray:
    """Keep each territory's main piece and let neighbours absorb the others.

    The main piece is the one holding the territory's locked units, else the heaviest.
    """
    for _ in range(10):
        piece = territory_pieces(instance, labels)
        load = composite_load(instance) + 1e-9
        release = np.zeros(len(labels), dtype=bool)
        for k in range(instance.n_territories):
            members = np.flatnonzero(labels == k)
            pieces = np.unique(piece[members])
            if len(pieces) <= 1:
                continue
            locked_members = members[instance.locked[members] == k]
            if len(locked_members):
                keep = np.bincount(piece[locked_members]).argmax()
            else:
                weights = np.bincount(piece[members], weights=load[members])
                keep = int(np.argmax(weights))
            release[members[(piece[members] != keep) & (instance.locked[members] != k)]] = True
        if not release.any():
            return labels
        labels = _absorb_pieces(instance, np.where(release, -1, labels), neighbors)
    return labels


def _absorb_pieces(instance: Instance, labels: np.ndarray, neighbors: list[list[int]]) -> np.ndarray:
    """Give each connected piece of unassigned units, whole, to the adjacent territory it fits best.

    Biggest pieces first; "fits best" = the smallest increase of |load per rep - 1|, so a
    fragment goes where it helps balance instead of to whichever neighbour is lightest.
    Pieces with no assigned neighbour yet wait for the next pass; anything left is absorbed
    unit by unit.
    """
    labels = labels.copy()
    load = composite_load(instance)
    reps = instance.reps
    totals = np.bincount(labels[labels >= 0], weights=load[labels >= 0], minlength=instance.n_territories)
    while (labels < 0).any():
        free = set(np.flatnonzero(labels < 0).tolist())
        pieces = []
        while free:
            seed = free.pop()
            piece, stack = [seed], [seed]
            while stack:
                for v in neighbors[stack.pop()]:
                    if v in free:
                        free.discard(v)
                        piece.append(v)
                        stack.append(v)
            pieces.append(piece)
        placed = False
        for piece in sorted(pieces, key=lambda p: -load[p].sum()):
            candidates = {int(labels[v]) for u in piece for v in neighbors[u] if labels[v] >= 0}
            candidates = [k for k in candidates if not instance.frozen_territory[k]]
            if not candidates:
                continue
            amount = float(load[piece].sum())

            def worsening(k: int, amount: float = amount) -> float:
                return abs((totals[k] + amount) / reps[k] - 1.0) - abs(totals[k] / reps[k] - 1.0)

            best = min(candidates, key=worsening)
            labels[piece] = best
            totals[best] += amount
            placed = True
        if not placed:
            return absorb(instance, labels, neighbors)
    return labels


def initial_labels(
    instance: Instance,
    neighbors: list[list[int]],
    rng: np.random.Generator,
    *,
    disruption_penalty: float,
    max_disruption: float | None = None,
    iterations: int = 4,
) -> np.ndarray:
    """A balanced, compact, contiguous start from capacitated allocation rounds.

    Centres start at rep homes, at the reference territories' centroids, or at k-means++
    seeds; each round allocates units by min-cost flow (see :mod:`planner.optimize.flow`),
    repairs contiguity and re-centres territories on their weighted centroids. If that
    moves more than ``max_disruption`` (share of the disruption measure), the start is the
    reference plan instead.
    """
    labels = instance.start.copy()
    locked = instance.locked >= 0
    labels[locked] = instance.locked[locked]
    if len(np.unique(labels[labels >= 0])) < instance.n_territories:
        seeds = choose_seeds(instance, labels, rng)
        for k in range(instance.n_territories):
            if not (labels == k).any():
                labels[seeds[k]] = k
    centres = territory_centres(instance, labels, use_homes=True)
    reference_start = labels
    for _ in range(iterations):
        labels = allocate(instance, centres, disruption_penalty)
        labels = repair_contiguity(instance, labels, neighbors)
        centres = territory_centres(instance, labels)
    if max_disruption is not None and _disruption(instance, labels) > max_disruption:
        # The balanced allocation moves too much: start from the reference and let the
        # local search move only what the budget allows.
        labels = repair_contiguity(instance, absorb(instance, reference_start, neighbors), neighbors)
    return labels


def _disruption(instance: Instance, labels: np.ndarray) -> float:
    """Share of the disruption measure whose territory differs from the reference."""
    moved = (instance.reference >= 0) & (labels != instance.reference)
    return float(instance.disrupt_weight[moved].sum())
