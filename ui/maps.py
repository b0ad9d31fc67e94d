"""Colours of the maps: territories coloured so neighbours differ, measures by quantile class.

Pure functions (no Streamlit, no drawing): the territory map (:mod:`ui.territory_map`) takes
the colours they give.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pandas as pd

#: ColorBrewer YlGnBu, 7 classes (sequential, colour-blind safe).
SEQUENTIAL = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
#: Tableau 10: a categorical palette of ten colours that stay apart on a map.
CATEGORICAL = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def quantile_classes(values: pd.Series, n_classes: int = len(SEQUENTIAL)) -> tuple[pd.Series, list[float]]:
    """Class (0..n-1) of each value by quantiles, and the class edges (n+1 values)."""
    finite = values.astype(float)
    edges = np.unique(np.nanquantile(finite, np.linspace(0, 1, n_classes + 1)))
    if len(edges) < 2:
        edges = np.array([finite.min(), finite.max() + 1.0])
    classes = np.clip(np.searchsorted(edges, finite, side="right") - 1, 0, len(edges) - 2)
    return pd.Series(classes, index=values.index), edges.tolist()


def territory_pairs(edges: pd.DataFrame, assignment: pd.Series) -> set[tuple[str, str]]:
    """Pairs of territories ``(a, b)``, ``a < b``, that share a unit border.

    Parameters
    ----------
    edges : DataFrame
        Unit adjacency as ``unit_a``, ``unit_b`` (see :meth:`planner.data.adjacency.Adjacency.edge_frame`).
    assignment : Series
        ``territory_id`` by ``unit_id``.
    """
    codes, names = pd.factorize(assignment)
    index = assignment.index
    a = np.where((pos := index.get_indexer(edges["unit_a"])) >= 0, codes[pos], -1)
    b = np.where((pos := index.get_indexer(edges["unit_b"])) >= 0, codes[pos], -1)
    keep = (a >= 0) & (b >= 0) & (a != b)
    pairs = np.unique(np.sort(np.column_stack([a[keep], b[keep]]), axis=1), axis=0)
    labels = np.asarray(names, dtype=object)
    return {(min(x, y), max(x, y)) for x, y in zip(labels[pairs[:, 0]], labels[pairs[:, 1]], strict=True)}


def colour_territories(
    territories: Iterable[str],
    pairs: Collection[tuple[str, str]],
    previous: Mapping[str, str] | None = None,
    palette: tuple[str, ...] = CATEGORICAL,
) -> dict[str, str]:
    """A colour per territory such that neighbours rarely share one (greedy graph colouring).

    Territories keep their ``previous`` colour unless a neighbour that comes first (most
    neighbours first, then by id) took it, so one edit recolours few territories. A
    territory with neighbours in every colour gets the colour least used among them.

    Examples
    --------
    >>> colour_territories(["A", "B", "C"], {("A", "B"), ("B", "C")}, palette=("red", "blue"))
    {'B': 'red', 'A': 'blue', 'C': 'blue'}
    """
    ids = list(dict.fromkeys(str(t) for t in territories))
    neighbours: dict[str, set[str]] = {t: set() for t in ids}
    for a, b in pairs:
        if a in neighbours and b in neighbours:
            neighbours[a].add(b)
            neighbours[b].add(a)
    previous = previous or {}
    order = sorted(ids, key=lambda t: (t not in previous, -len(neighbours[t]), t))
    usage = dict.fromkeys(palette, 0)
    colours: dict[str, str] = {}
    for territory in order:
        taken = [colours[n] for n in neighbours[territory] if n in colours]
        wanted = previous.get(territory)
        if wanted in usage and wanted not in taken:
            choice = wanted
        else:
            free = [c for c in palette if c not in taken]
            pool = free or palette
            choice = min(pool, key=lambda c: (taken.count(c), usage[c]))
        colours[territory] = choice
        usage[choice] += 1
    return colours


def field_reps(reps: pd.DataFrame) -> pd.DataFrame | None:
    """Reps to draw as home markers: not managers, with ``home_lat``/``home_lon``/``name``; None if none."""
    if not {"home_lat", "home_lon", "name"} <= set(reps.columns) or not len(reps):
        return None
    return reps[reps["role"] != "manager"] if "role" in reps.columns else reps
