"""Geometry checks and coordinate reference systems.

Units are stored in WGS84 longitude/latitude (EPSG:4326), the lingua franca of files and
web maps. Areas and distances are computed in an equal-area projection chosen for the
data: a Lambert azimuthal equal-area projection centred on the units (metres), which
keeps areas exact and distances within a few percent across a continent.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from planner.data.tables import sheet_row
from planner.errors import PlannerError, Problem

STORAGE_CRS = "EPSG:4326"


def check_geometry(units: gpd.GeoDataFrame, file: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check CRS and polygons of ``units``; repair what is safe to repair.

    Missing CRS, missing/empty geometries, non-polygons and coordinates that contradict
    the CRS are errors. Invalid polygons (self-intersections, bow-ties) are repaired
    with :func:`shapely.make_valid` and reported as warnings, with the area change.
    Units in another CRS are converted to WGS84 (the declared CRS is honoured).
    """
    problems: list[Problem] = []
    if units.crs is None:
        problems.append(
            Problem(
                file,
                "the file has no coordinate reference system (CRS)",
                "save it with a CRS; for longitude/latitude degrees that is EPSG:4326 "
                "(e.g. GeoDataFrame.set_crs('EPSG:4326') or a .prj file beside a shapefile)",
                column="geometry",
            )
        )
    geoms = units.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for position in np.flatnonzero(missing):
        problems.append(
            Problem(
                file,
                "missing or empty geometry",
                "draw the unit's polygon or remove the row",
                row=sheet_row(position),
                column="geometry",
            )
        )
    present = ~missing
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    for position in np.flatnonzero(present & ~polygonal):
        problems.append(
            Problem(
                file,
                f"geometry is a {geoms[position].geom_type}, not a polygon",
                "units must be areas (Polygon or MultiPolygon); buffer points or use boundaries",
                row=sheet_row(position),
                column="geometry",
            )
        )
    if units.crs is not None and present.any():
        problems += _crs_contradictions(units.crs, shapely.bounds(geoms[present]), file)
    invalid = present & polygonal & ~shapely.is_valid(geoms)
    repaired = geoms.copy()
    for position in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[position])
        fixed = shapely.make_valid(geoms[position])
        fixed = shapely.union_all([g for g in shapely.get_parts(fixed) if shapely.get_type_id(g) in (3, 6)])
        repaired[position] = fixed
        problems.append(
            Problem(
                file,
                f"invalid polygon ({reason}); repaired with make_valid "
                f"(area {geoms[position].area:.6g} -> {fixed.area:.6g}, in CRS units)",
                "check the repaired shape on the map; fix the source polygon to silence this",
                row=sheet_row(position),
                column="geometry",
                severity="warning",
            )
        )
    units = units.set_geometry(gpd.GeoSeries(repaired, index=units.index, crs=units.crs))
    if units.crs is not None and not any(p.severity == "error" for p in problems):
        units = units.to_crs(STORAGE_CRS)
    return units, problems


#: A projected layer whose whole extent is smaller than this (in its units, metres or feet)
#: while every coordinate fits in degrees is longitude/latitude with a wrong CRS.
TINY_EXTENT = 1_000.0


def _crs_contradictions(crs, bounds: np.ndarray, file: str) -> list[Problem]:
    """Coordinates impossible in ``crs``: not degrees if geographic, degrees in a tiny box if projected."""
    minx, miny = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    maxx, maxy = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    extent = f"x from {minx:,.6g} to {maxx:,.6g}, y from {miny:,.6g} to {maxy:,.6g}"
    name = crs.to_string()
    if crs.is_geographic and (max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90):
        return [
            Problem(
                file,
                f"the coordinates ({extent}) are not degrees, but the CRS says {name} (longitude/latitude)",
                "set the CRS the coordinates were made in (a projected EPSG code, e.g. EPSG:3857 for "
                "web-mercator metres) instead of a geographic one",
                column="geometry",
            )
        ]
    in_degrees = max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90
    if crs.is_projected and in_degrees and max(maxx - minx, maxy - miny) < TINY_EXTENT:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "units"
        return [
            Problem(
                file,
                f"the coordinates ({extent}) look like longitude/latitude degrees, but the CRS says "
                f"{name} (in {unit}): the units would load as a box "
                f"{maxx - minx:,.3g} x {maxy - miny:,.3g} {unit} wide",
                "set the CRS to EPSG:4326 (longitude/latitude) if these are degrees",
                column="geometry",
            )
        ]
    return []


def require_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> None:
    """Refuse geometries without a CRS, or with coordinates that a geographic CRS cannot hold.

    Raises :class:`~planner.errors.PlannerError` naming the fix; every public entry point
    that measures geometry (adjacency, unit points, the optimizer, metrics) calls it.
    """
    if frame.crs is None:
        raise PlannerError(
            "the units have no coordinate reference system (CRS); set the one their coordinates "
            "were made in, e.g. units.set_crs('EPSG:4326') for longitude/latitude degrees"
        )
    if frame.crs.is_geographic and len(frame):
        bounds = frame.total_bounds
        if np.nanmax(np.abs(bounds[[0, 2]])) > 180 or np.nanmax(np.abs(bounds[[1, 3]])) > 90:
            raise PlannerError(
                f"the units' coordinates reach {np.nanmax(np.abs(bounds)):,.0f}, which is not degrees, "
                f"but their CRS is {frame.crs.to_string()}; set the CRS they were made in "
                "(e.g. units.set_crs('EPSG:3857', allow_override=True) for web-mercator metres)"
            )


def equal_area_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Lambert azimuthal equal-area CRS (metres) centred on the bounding box of ``frame``."""
    require_crs(frame)
    minx, miny, maxx, maxy = frame.to_crs(STORAGE_CRS).total_bounds
    lon0, lat0 = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )
