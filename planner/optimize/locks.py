"""Locked units: checked against the request, and joined to their territory by locked corridors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.data.adjacency import Adjacency
from planner.errors import PlannerError
from planner.optimize.options import OptimizeOptions


def locked_labels(
    unit_ids: pd.Index,
    options: OptimizeOptions,
    territory_index: dict[str, int],
) -> np.ndarray:
    """Territory index each unit is locked to (-1: free), from ``options``; unknown names are refused."""
    locked = np.full(len(unit_ids), -1)
    for territory in options.locked_territories:
        if territory not in territory_index:
            known = ", ".join(list(territory_index)[:10])
            raise PlannerError(
                f"locked territory '{territory}' is not a territory of this plan (e.g. {known})"
            )
    if not options.locked_units:
        return locked
    requested = pd.Series(options.locked_units, dtype=object)
    unknown_units = requested.index.difference(unit_ids)
    if len(unknown_units):
        raise PlannerError(
            f"locked_units names unknown unit(s) {unknown_units[:5].tolist()}; "
            "use unit_id values of the units"
        )
    unknown = sorted(set(requested) - set(territory_index))
    if unknown:
        known = ", ".join(list(territory_index)[:10])
        raise PlannerError(
            f"locked_units names unknown territory {unknown[:5]}; territories are e.g. {known}"
        )
    positions = unit_ids.get_indexer(requested.index)
    locked[positions] = [territory_index[t] for t in requested]
    return locked


def lock_corridors(locked: np.ndarray, start: np.ndarray, adjacency: Adjacency) -> np.ndarray:
    """Lock the units on shortest paths, inside the start territory, between units locked to it.

    Without such a corridor, two locked units of one territory could end up in separate
    pieces, and no later move could join them again.
    """
    locked = locked.copy()
    indptr, indices = adjacency.matrix.indptr, adjacency.matrix.indices
    for k in np.unique(locked[locked >= 0]):
        anchors = np.flatnonzero(locked == k)
        if len(anchors) < 2 or start[anchors[0]] != k:
            continue
        parent = {int(anchors[0]): -1}
        queue = [int(anchors[0])]
        for u in queue:  # BFS within the start territory
            for v in indices[indptr[u] : indptr[u + 1]]:
                v = int(v)
                if v not in parent and start[v] == k:
                    parent[v] = u
                    queue.append(v)
        for target in anchors[1:]:
            u = int(target)
            while u in parent and u != -1 and locked[u] in (-1, k):
                locked[u] = k
                u = parent[u]
    return locked
