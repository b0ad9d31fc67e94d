"""Benchmark instances: the demo counties and seeded planar Voronoi instances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def voronoi_units(
    n_units: int, *, seed: int = 0, extent_deg: float = 10.0, sigma: float = 1.0
) -> gpd.GeoDataFrame:
    """``n_units`` Voronoi cells of seeded random points in a square of ``extent_deg`` degrees.

    Cells carry ``tam_usd`` (lognormal with log-sd ``sigma``) and ``accounts`` (Poisson),
    like counties do.
    """
    rng = np.random.default_rng(seed)
    x0, y0 = -100.0, 35.0
    points = shapely.points(
        rng.uniform(x0, x0 + extent_deg, n_units), rng.uniform(y0, y0 + extent_deg, n_units)
    )
    box = shapely.box(x0, y0, x0 + extent_deg, y0 + extent_deg)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box))
    cells = shapely.intersection(cells, box)
    # voronoi_polygons does not keep input order: order cells by the point they contain
    order = shapely.STRtree(cells).query(points, predicate="within")
    cells = cells[order[1][np.argsort(order[0])]]
    ids = pd.Index([f"v{i:06d}" for i in range(n_units)], name="unit_id")
    return gpd.GeoDataFrame(
        {
            "name": ids,
            "region": "XX",
            "tam_usd": rng.lognormal(13.0, sigma, n_units).round(),
            "accounts": rng.poisson(4.0, n_units).astype(float),
            "workload_hours": rng.gamma(4.0, 20.0, n_units).round(1),
        },
        geometry=cells,
        index=ids,
        crs="EPSG:4326",
    )
