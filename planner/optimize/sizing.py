"""Multi-rep sizing: how many reps a unit or a group of units needs, and units no one-rep territory can hold.

Array-level helpers of :func:`planner.optimize.instance.build_instance`; one rep's fair
share of a measure is 1.0.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planner.data.adjacency import Adjacency


def reps_needed(share: np.ndarray, tolerances: np.ndarray, sizing: np.ndarray) -> np.ndarray:
    """Reps needed so that ``share`` fits within the upper tolerance of the sizing measures.

    ``share`` is (n, m) or (m,); ``sizing`` marks the measures that size territories (the
    hard ones, or the primary when none is hard): a lumpy soft measure never forces reps.
    """
    need = np.ceil(share[..., sizing] / (1.0 + tolerances[sizing]) - 1e-9).max(axis=-1)
    return np.maximum(need, 1).astype(int)


LUMPY_MIN_SHARE = 0.2  # units holding less of one rep's share than this are not checked


LUMPY_MAX_SETS = 1000  # connected sets tried per unit before assuming a one-rep territory exists


def fits_one_rep(u: int, s: np.ndarray, lower: np.ndarray, upper: np.ndarray, neighbors) -> bool:
    """Tell whether a connected set of units containing ``u`` is within one rep's band on every measure.

    Depth-first over connected sets grown from ``u``, never past the upper band (adding a
    unit never lowers a sum, so such sets cannot be completed). Returns False only when
    every such set was tried; after ``LUMPY_MAX_SETS`` sets it assumes one exists.
    """
    first = frozenset([u])
    seen, stack = {first}, [(first, s[u])]
    while stack:
        if len(seen) > LUMPY_MAX_SETS:
            return True
        members, total = stack.pop()
        if (total >= lower - 1e-12).all():
            return True
        children = []
        for v in {w for x in members for w in neighbors[x]} - members:
            grown = total + s[v]
            key = members | {v}
            if (grown <= upper + 1e-12).all() and key not in seen:
                seen.add(key)
                gap = lower - grown
                children.append((float(gap.max() - gap.min()), v, key, grown))
        # The child whose remaining gaps are most even is tried first (popped last).
        stack.extend((key, grown) for *_, key, grown in sorted(children, reverse=True))
    return False


def lumpy_partners(
    share: np.ndarray,
    tolerances: np.ndarray,
    sizing: np.ndarray,
    need: np.ndarray,
    adjacency: Adjacency,
    skip: np.ndarray,
) -> dict[int, int]:
    """Units no one-rep territory can hold, each with the neighbour to share a territory with.

    A unit within one rep's upper band on every sizing measure, where no connected set of
    units containing it lands within the band on all of them (e.g. a county with 1.0x one
    rep's bookings and 0.56x the TAM, whose neighbours all have bookings, so adding any
    of them overshoots), cannot be in a balanced one-rep territory: its territory needs
    several reps and its neighbours. The partner is the neighbour that leaves the most
    even room per measure once the pair has the reps it needs, so that the rest of the
    territory can be filled evenly on every measure. ``skip`` marks units left alone
    (locked ones).
    """
    upper, lower = 1.0 + tolerances[sizing], 1.0 - tolerances[sizing]
    s = share[:, sizing]
    candidates = np.flatnonzero(
        (need == 1)
        & ~skip
        & (s <= upper + 1e-12).all(axis=1)
        & (s < lower - 1e-12).any(axis=1)
        & (s.max(axis=1) >= LUMPY_MIN_SHARE)
    )
    indptr, indices = adjacency.matrix.indptr, adjacency.matrix.indices
    neighbors = [indices[indptr[u] : indptr[u + 1]].tolist() for u in range(len(need))]
    partners = {}
    for u in candidates:
        choices = np.array([v for v in neighbors[u] if not skip[v]], dtype=int)
        if not len(choices) or fits_one_rep(int(u), s, lower, upper, neighbors):
            continue
        pair = share[choices] + share[u]
        room = np.maximum(reps_needed(pair, tolerances, sizing), 2)[:, None] - pair[:, sizing]
        partners[int(u)] = int(choices[np.argmin(room.max(axis=1) - room.min(axis=1))])
    return partners


def multi_rep_groups(
    need: np.ndarray, partners: dict[int, int], adjacency: Adjacency
) -> tuple[int, np.ndarray]:
    """Groups of units that share one multi-rep territory: adjacent big units and lumpy pairs.

    Returns the number of groups and each unit's group (-1 outside every group).
    """
    n = len(need)
    big = need > 1
    members = big.copy()
    for u, v in partners.items():
        members[[u, v]] = True
    coo = adjacency.matrix.tocoo()
    both_big = big[coo.row] & big[coo.col]
    rows = np.concatenate([coo.row[both_big], list(partners), np.flatnonzero(members)])
    cols = np.concatenate([coo.col[both_big], list(partners.values()), np.flatnonzero(members)])
    graph = sparse.csr_array((np.ones(len(rows)), (rows.astype(int), cols.astype(int))), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    group = np.full(n, -1)
    _, group[members] = np.unique(component[members], return_inverse=True)
    return int(group.max() + 1), group
