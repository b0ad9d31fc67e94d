"""Territory polygons dissolved from their units.

Units normally form a *coverage* (polygons that share edges exactly and never overlap:
counties, ZIP areas, Voronoi cells). For a coverage, ``shapely.coverage_union_all``
merges a territory's units by dropping their shared edges instead of running a full
polygon overlay, much faster than ``GeoDataFrame.dissolve`` (``unary_union`` per group)
with the same areas (``docs/benchmarks.md``). A coverage union of polygons that are *not*
a coverage is undefined, so every territory's result is verified (a valid geometry whose
area equals the sum of its units' areas, i.e. no overlaps) and a territory that fails
is merged again with the full ``shapely.union_all``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import PlanError

#: Relative area difference tolerated between a territory and the sum of its units.
AREA_TOLERANCE_FRAC = 1e-9


def _grouped(labels: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted distinct labels and, per label, the positions holding it."""
    ids, inverse = np.unique(labels, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(ids) + 1))
    return ids, [order[bounds[k] : bounds[k + 1]] for k in range(len(ids))]


def _merge(parts: np.ndarray, part_areas: np.ndarray) -> tuple[shapely.Geometry, bool]:
    """Union of ``parts``: coverage union when it checks out, else a full union. Second: used the fallback.

    The coverage union needs polygons whose shared edges have the same vertices; cells cut
    out of a county (ZIP cells) meet the next county's edge between its vertices, and GEOS
    then refuses them: the full union handles those.
    """
    try:
        merged = shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(parts)), True
    expected = float(part_areas.sum())
    if shapely.is_valid(merged) and abs(shapely.area(merged) - expected) <= AREA_TOLERANCE_FRAC * max(
        expected, 1e-300
    ):
        return merged, False
    return shapely.union_all(shapely.make_valid(parts)), True


def union_of(parts: np.ndarray) -> shapely.Geometry:
    """Union of polygons that tile an area without overlaps (a coverage), robust to imperfect noding."""
    return _merge(parts, shapely.area(parts))[0]


def dissolve_territories(
    units: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    simplify_tolerance_deg: float | None = None,
) -> gpd.GeoDataFrame:
    """One (multi)polygon per territory: the union of its units.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Unit polygons indexed by ``unit_id``, with a CRS.
    assignment : pandas.Series
        ``territory_id`` indexed by ``unit_id``; must cover every unit.
    simplify_tolerance_deg : float, optional
        Simplify the unit borders first with ``shapely.coverage_simplify`` (shared
        borders stay shared, so no gaps open between territories); in CRS units.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``territory_id`` (sorted), columns ``geometry`` and ``full_union`` (True
        where the units were not a clean coverage and the slower full union was used),
        in the CRS of ``units``.

    Raises
    ------
    PlanError
        When units lack a CRS or a territory, or the tolerance is negative.

    Examples
    --------
    >>> import shapely, geopandas as gpd, pandas as pd
    >>> cells = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
    ...                          index=pd.Index(["a", "b"], name="unit_id"), crs="EPSG:4326")
    >>> out = dissolve_territories(cells, pd.Series({"a": "T1", "b": "T1"}))
    >>> float(out.geometry.area["T1"]), out.geometry["T1"].geom_type
    (2.0, 'Polygon')
    """
    if units.crs is None:
        raise PlanError("units have no CRS; set one (e.g. EPSG:4326) before dissolving territories")
    if simplify_tolerance_deg is not None and simplify_tolerance_deg < 0:
        raise PlanError(f"simplify tolerance must be >= 0, got {simplify_tolerance_deg}")
    labels = assignment.reindex(units.index)
    if labels.isna().any():
        missing = units.index[labels.isna().to_numpy()][:10].tolist()
        raise PlanError(f"units without a territory: {missing}; the plan must cover every unit")
    geoms = units.geometry.to_numpy()
    if simplify_tolerance_deg:
        geoms = shapely.coverage_simplify(geoms, simplify_tolerance_deg)
    areas = shapely.area(geoms)
    ids, groups = _grouped(labels.astype(str).to_numpy())
    merged = [_merge(geoms[rows], areas[rows]) for rows in groups]
    return gpd.GeoDataFrame(
        {"full_union": [fallback for _, fallback in merged]},
        geometry=[geometry for geometry, _ in merged],
        index=pd.Index(ids, name="territory_id"),
        crs=units.crs,
    )
