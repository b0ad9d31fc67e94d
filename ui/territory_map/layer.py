"""Unit polygons for the browser map, written once per data set as a compact JSON file.

The file is served by Streamlit's static file serving (``static/`` at ``/app/static/``).
It holds, in one fixed unit order: the display polygons (coverage-simplified, so shared
borders stay shared), an inside point per unit (for labels and shape selection), the
unit names, and the border line each pair of neighbouring units shares (the browser
draws the territory borders from them). Arguments sent to the browser on each rerun
refer to units by their position in this order.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.data.adjacency import build_adjacency

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
MAPS_DIR = STATIC_DIR / "maps"
MAPS_URL = "/app/static/maps"
FORMAT_VERSION = 1
#: About 2 km of simplification and 3 decimals (~100 m) per coordinate: light enough for 40,000 units.
TOLERANCE_DEG = 0.02
DECIMALS = 3


@dataclass(frozen=True)
class MapLayer:
    """Where the browser finds a data set's polygons, and the unit order they are in.

    Attributes
    ----------
    url : str
        Path of the geometry file under the app's static serving.
    unit_ids : pandas.Index
        Unit ids (str) in file order; arguments refer to units by position in it.
    """

    url: str
    unit_ids: pd.Index

    def positions(self, unit_ids) -> list[int]:
        """Positions of ``unit_ids`` in the file order (ids the layer lacks are skipped)."""
        found = self.unit_ids.get_indexer(pd.Index([str(u) for u in unit_ids]))
        return [int(i) for i in found if i >= 0]

    def aligned(self, values: pd.Series) -> pd.Series:
        """``values`` (indexed by unit id) in file order."""
        return values.set_axis(values.index.astype(str)).reindex(self.unit_ids)


def _flat(coords: np.ndarray) -> list[float]:
    """``[lat0, lon0, lat1, lon1, ...]`` rounded to :data:`DECIMALS` (Leaflet takes lat first)."""
    return np.round(coords[:, ::-1], DECIMALS).ravel().tolist()


def _polygon_rings(geometry: shapely.Geometry) -> list[list[list[float]]]:
    """Each part of a (multi)polygon as a list of flat rings, exterior first."""
    parts = []
    for part in shapely.get_parts(geometry):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        rings = [part.exterior, *part.interiors]
        parts.append([_flat(shapely.get_coordinates(r)) for r in rings])
    return parts


def _shared_lines(geoms: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[list[list[float]]]:
    """The border line(s) each pair ``(a[k], b[k])`` shares, as flat coordinate lists (may be empty)."""
    shared = shapely.intersection(geoms[a], geoms[b])
    lines = []
    for geometry in shared:
        parts = [p for p in shapely.get_parts(shapely.line_merge(_lines_only(geometry))) if not p.is_empty]
        lines.append([_flat(shapely.get_coordinates(p)) for p in parts])
    return lines


def _lines_only(geometry: shapely.Geometry) -> shapely.Geometry:
    """The linear parts of an intersection (points where borders only touch are dropped)."""
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("LineString", "LinearRing")]
    return shapely.multilinestrings(parts) if parts else shapely.MultiLineString()


def layer_content(units: gpd.GeoDataFrame, edges: pd.DataFrame, details: pd.Series | None = None) -> dict:
    """The file's content for ``units`` (lon/lat) and their adjacency ``edges`` (``unit_a``, ``unit_b``).

    ``details`` is an optional line of text per unit shown when the pointer rests on it.
    """
    ids = units.index.astype(str)
    simplified = shapely.coverage_simplify(units.geometry.to_numpy(), TOLERANCE_DEG)
    simplified = shapely.make_valid(shapely.set_precision(simplified, 10.0**-DECIMALS))
    inside = shapely.point_on_surface(units.geometry.to_numpy())
    latitude = shapely.get_y(inside)
    area = shapely.area(units.geometry.to_numpy()) * np.cos(np.radians(latitude))
    names = units["name"].astype(str) if "name" in units else pd.Series(ids, index=units.index)
    position = pd.Series(np.arange(len(ids)), index=ids)
    a = position.reindex(edges["unit_a"].astype(str)).to_numpy()
    b = position.reindex(edges["unit_b"].astype(str)).to_numpy()
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep].astype(int), b[keep].astype(int)
    lines = _shared_lines(simplified, a, b)
    minx, miny, maxx, maxy = units.total_bounds
    return {
        "version": FORMAT_VERSION,
        "ids": ids.tolist(),
        "names": names.tolist(),
        "details": [] if details is None else details.reindex(units.index).fillna("").astype(str).tolist(),
        "shapes": [_polygon_rings(g) for g in simplified],
        "points": np.round(np.column_stack([latitude, shapely.get_x(inside)]), 5).ravel().tolist(),
        "areas": np.round(area, 6).tolist(),
        "borders": [[int(i), int(j), ls] for i, j, ls in zip(a, b, lines, strict=True) if ls],
        "bounds": [[float(miny), float(minx)], [float(maxy), float(maxx)]],
    }


def _fingerprint(units: gpd.GeoDataFrame, details: pd.Series | None) -> str:
    digest = hashlib.sha256(f"v{FORMAT_VERSION}/{TOLERANCE_DEG}/{DECIMALS}".encode())
    digest.update("\n".join(units.index.astype(str)).encode())
    digest.update(b"".join(shapely.to_wkb(units.geometry.to_numpy())))
    if details is not None:
        digest.update(pd.util.hash_pandas_object(details.astype(str)).to_numpy().tobytes())
    return digest.hexdigest()[:20]


def write_layer(
    units: gpd.GeoDataFrame,
    *,
    details: pd.Series | None = None,
    edges: pd.DataFrame | None = None,
    directory: Path = MAPS_DIR,
) -> MapLayer:
    """Write (once: the name is a hash of the units and details) and describe the geometry file.

    ``edges`` is the units' adjacency (``unit_a``, ``unit_b``); built with the default
    :func:`~planner.data.adjacency.build_adjacency` when the file has to be written and none is given.
    """
    name = f"units-{_fingerprint(units, details)}.json"
    path = directory / name
    if not path.exists():
        if edges is None:
            edges = build_adjacency(units).edge_frame()
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(layer_content(units, edges, details), separators=(",", ":"))
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text)
        partial.replace(path)  # atomic: a browser never reads half a file
    return MapLayer(f"{MAPS_URL}/{name}", pd.Index(units.index.astype(str)))
