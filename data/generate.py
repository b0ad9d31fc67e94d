"""Build the shipped demo data set: real US counties, documented synthetic sales.

Run ``python data/generate.py`` (needs the ``data`` extra: ``pip install -e .[data]``)
to rebuild the files in ``data/demo/`` from scratch; with the same package versions
the output is identical (a fixed seed drives every random draw, in a fixed order).

Real inputs (loaded offline from PyPI wheels):

- County polygons, ids and land area: US Census Bureau cartographic boundary file
  ``cb_2016_us_county_500k`` (public domain), shipped in ``plotly-geo`` (MIT). The 48
  contiguous states and DC (3,108 counties), simplified as a coverage (shared borders
  stay shared) to about 500 m.
- Labor force, employment and unemployment rate per county, 2009 annual average:
  US Bureau of Labor Statistics, Local Area Unemployment Statistics (public domain),
  shipped in ``bokeh_sampledata`` (BSD-3).

Synthetic, derived from the real measures (see ``data/README.md`` for the formulas):
TAM, accounts, reps, 36 months of bookings, workload and the current alignment.
"""

from __future__ import annotations

import csv
import gzip
import sys
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planner.data.adjacency import build_adjacency

SEED = 20261122
OUT_DIR = Path(__file__).resolve().parent / "demo"
NON_CONTIGUOUS_STATES = ("02", "15", "60", "66", "69", "72", "78")
SIMPLIFY_DEG = 0.005
N_TERRITORIES = 50
TARGET_ACCOUNTS = 12_000
NEW_BUSINESS_QUIET_DAYS = 60  # an order after this many quiet days is new business
SPEND_PER_EMPLOYED_USD = 120.0
HISTORY_START, HISTORY_MONTHS = "2023-11-01", 36
SEGMENTS = {  # share of accounts, mean potential weight, visit hours/yr, mean deal USD
    "enterprise": (0.06, 12.0, 40.0, 60_000.0),
    "mid-market": (0.26, 3.0, 12.0, 15_000.0),
    "smb": (0.68, 1.0, 3.0, 4_000.0),
}
INDUSTRIES = (
    "manufacturing",
    "healthcare",
    "retail",
    "logistics",
    "finance",
    "software",
    "construction",
    "education",
)
NAME_A = (
    "North",
    "Blue",
    "Summit",
    "Prairie",
    "Harbor",
    "Granite",
    "Cedar",
    "Pioneer",
    "River",
    "Keystone",
    "Liberty",
    "Redwood",
)
NAME_B = (
    "Works",
    "Systems",
    "Health",
    "Supply",
    "Partners",
    "Labs",
    "Foods",
    "Logistics",
    "Group",
    "Industries",
)
FIRST = (
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Drew",
    "Quinn",
    "Reese",
)
LAST = (
    "Garcia",
    "Smith",
    "Nguyen",
    "Patel",
    "Johnson",
    "Kim",
    "Brown",
    "Lopez",
    "Miller",
    "Davis",
    "Wilson",
    "Clark",
)
MONTH_SEASONALITY = np.array([0.80, 0.85, 1.15, 0.85, 0.90, 1.20, 0.85, 0.80, 1.20, 0.95, 1.05, 1.40])
REGIONS = {  # manager regions by state postal code
    "West": "WA OR CA NV ID MT WY UT CO AZ NM",
    "Central": "ND SD NE KS MN IA MO WI IL",
    "South": "TX OK AR LA MS AL TN KY",
    "Southeast": "FL GA SC NC VA WV DC MD DE",
    "Great Lakes": "MI IN OH PA",
    "Northeast": "NY NJ CT RI MA VT NH ME",
}


def load_counties() -> gpd.GeoDataFrame:
    path = resources.files("_plotly_geo") / "package_data" / "cb_2016_us_county_500k.shp"
    counties = gpd.read_file(str(path))
    counties = counties[~counties["STATEFP"].isin(NON_CONTIGUOUS_STATES)].sort_values("GEOID")
    counties = counties.set_crs("EPSG:4269", allow_override=True).to_crs("EPSG:4326")
    simplified = shapely.coverage_simplify(counties.geometry.to_numpy(), SIMPLIFY_DEG)
    counties = counties.set_geometry(gpd.GeoSeries(simplified, index=counties.index, crs="EPSG:4326"))
    return counties.reset_index(drop=True)


def load_labor_force() -> pd.DataFrame:
    """BLS LAUS 2009 county labor force, employed and unemployment rate, by 5-digit FIPS."""
    path = resources.files("bokeh_sampledata") / "_data" / "unemployment09.csv.gz"
    rows = []
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        for _, state, county, _, _, force, employed, _, rate in csv.reader(handle):
            rows.append(
                (state + county, int(force.replace(",", "")), int(employed.replace(",", "")), float(rate))
            )
    frame = pd.DataFrame(rows, columns=["fips", "labor_force", "employed", "unemployment_pct"])
    # FIPS changes between 2009 and 2016: Shannon SD became Oglala Lakota; Bedford city VA merged.
    frame["fips"] = frame["fips"].replace({"46113": "46102", "51515": "51019"})
    return frame.groupby("fips").agg(
        labor_force=("labor_force", "sum"),
        employed=("employed", "sum"),
        unemployment_pct=("unemployment_pct", "mean"),
    )


def build_units(rng: np.random.Generator) -> gpd.GeoDataFrame:
    counties = load_counties()
    labor = load_labor_force()
    states = gpd.read_file(str(resources.files("_plotly_geo") / "package_data" / "cb_2016_us_state_500k.dbf"))
    postal = dict(zip(states["STATEFP"], states["STUSPS"], strict=True))
    units = pd.DataFrame({"unit_id": counties["GEOID"].to_numpy()})
    units["region"] = counties["STATEFP"].map(postal).to_numpy()
    units["name"] = [
        f"{n} {t}, {s}".replace(" County County", " County")
        for n, t, s in zip(counties["NAME"], counties["LSAD"].map(_lsad_word), units["region"], strict=True)
    ]
    joined = labor.reindex(units["unit_id"])
    # Counties created after 2009 (none in the lower 48 but Broomfield's edge cases): state median.
    for col in ("labor_force", "employed", "unemployment_pct"):
        state_median = joined[col].groupby(units["region"].to_numpy()).transform("median")
        joined[col] = joined[col].fillna(state_median)
    units["labor_force"] = joined["labor_force"].to_numpy().round()
    units["unemployment_pct"] = joined["unemployment_pct"].to_numpy()
    units["land_area_km2"] = (counties["ALAND"].to_numpy() / 1e6).round(2)
    industry_mix = rng.lognormal(0.0, 0.25, len(units))
    units["tam_usd"] = (joined["employed"].to_numpy() * SPEND_PER_EMPLOYED_USD * industry_mix).round()
    return gpd.GeoDataFrame(units, geometry=counties.geometry.to_numpy(), crs="EPSG:4326").set_index(
        "unit_id"
    )


def _lsad_word(code: str) -> str:
    return {
        "06": "County",
        "15": "Parish",
        "25": "city",
        "13": "Borough",
        "03": "City and Borough",
        "04": "Borough",
        "05": "Census Area",
        "00": "",
    }.get(code, "County")


def random_points_in(polygon: shapely.Geometry, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` uniform random (lon, lat) points inside ``polygon`` (rejection sampling)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out = np.empty((0, 2))
    for _ in range(50):
        xy = np.column_stack([rng.uniform(minx, maxx, 4 * count + 8), rng.uniform(miny, maxy, 4 * count + 8)])
        inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        out = np.vstack([out, xy[inside]])
        if len(out) >= count:
            return out[:count]
    point = polygon.representative_point()
    return np.vstack([out, np.tile([point.x, point.y], (count - len(out), 1))])[:count]


def build_accounts(units: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    share = units["tam_usd"] / units["tam_usd"].sum()
    counts = rng.poisson(TARGET_ACCOUNTS * share.to_numpy())
    seg_names = list(SEGMENTS)
    seg_p = np.array([SEGMENTS[s][0] for s in seg_names])
    records = []
    serial = 0
    for (unit_id, unit), count in zip(units.iterrows(), counts, strict=True):
        if count == 0:
            continue
        points = random_points_in(unit.geometry, int(count), rng)
        segments = rng.choice(len(seg_names), size=count, p=seg_p)
        weights = np.array([SEGMENTS[seg_names[s]][1] for s in segments]) * rng.lognormal(0, 0.5, count)
        potential = 0.6 * unit["tam_usd"] * weights / weights.sum()
        industries = rng.choice(len(INDUSTRIES), size=count)
        for k in range(count):
            serial += 1
            records.append(
                {
                    "account_id": f"A{serial:05d}",
                    "name": " ".join(
                        (NAME_A[rng.integers(len(NAME_A))], NAME_B[rng.integers(len(NAME_B))], str(serial))
                    ),
                    "lat": round(float(points[k, 1]), 5),
                    "lon": round(float(points[k, 0]), 5),
                    "segment": seg_names[segments[k]],
                    "industry": INDUSTRIES[industries[k]],
                    "potential_usd": round(float(potential[k])),
                    "home_unit": unit_id,
                }
            )
    return pd.DataFrame.from_records(records).set_index("account_id")


def grow_current_alignment(units: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.Series:
    """An inherited alignment: contiguous territories grown on a blend of area and TAM.

    Seeds are random counties; the territory with the smallest "size" (30% land-area
    share, 70% TAM share) claims an unassigned neighbour until every county is taken.
    Drawn partly by geography, such plans are visibly unbalanced on TAM and bookings, as
    inherited plans usually are. They grow over queen contiguity (a corner is enough), as the
    shipped demo was drawn, so some territories meet only at a corner, as inherited plans
    sometimes do; the optimizer works on shared borders and reconnects them.
    """
    adjacency = build_adjacency(units, contiguity="queen")
    neighbors = adjacency.matrix
    n = len(units)
    area = units["land_area_km2"].to_numpy() + 1.0
    tam = units["tam_usd"].to_numpy()
    size = 0.3 * area / area.sum() + 0.7 * tam / tam.sum()
    owner = np.full(n, -1)
    seeds = rng.choice(n, size=N_TERRITORIES, replace=False, p=size)
    owner[seeds] = np.arange(N_TERRITORIES)
    totals = size[seeds].copy()
    frontier = [set(neighbors.indices[neighbors.indptr[s] : neighbors.indptr[s + 1]]) for s in seeds]
    while (owner < 0).any():
        order = np.argsort(totals)
        for t in order:
            free = sorted(u for u in frontier[t] if owner[u] < 0)
            if free:
                u = free[int(rng.integers(len(free)))]
                owner[u] = t
                totals[t] += size[u]
                frontier[t].update(neighbors.indices[neighbors.indptr[u] : neighbors.indptr[u + 1]])
                break
            totals[t] = np.inf  # enclosed: it cannot grow any more
        else:
            raise RuntimeError("alignment growth stalled")
    labels = np.array([f"T{t + 1:02d}" for t in range(N_TERRITORIES)])
    return pd.Series(labels[owner], index=units.index, name="territory_id")


def build_reps(
    units: gpd.GeoDataFrame, alignment: pd.Series, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.Series]:
    """One account executive per territory, homed in its largest county, and regional managers."""
    region_of_state = {s: r for r, states in REGIONS.items() for s in states.split()}
    managers = []
    for k, region in enumerate(REGIONS, start=1):
        managers.append(
            {
                "rep_id": f"M{k:02d}",
                "name": f"{FIRST[k % 12]} {LAST[(3 * k) % 12]}",
                "role": "manager",
                "manager_id": "",
                "region": region,
            }
        )
    manager_of = {m["region"]: m["rep_id"] for m in managers}
    points = units.geometry.representative_point()
    rows, territory_reps = [], {}
    for k, (territory, members) in enumerate(alignment.groupby(alignment), start=1):
        home_unit = units.loc[members.index, "labor_force"].idxmax()
        region = region_of_state[units.loc[home_unit, "region"]]
        hired = pd.Timestamp("2015-01-05") + pd.Timedelta(days=int(rng.integers(0, 4200)))
        status = "ramping" if hired > pd.Timestamp("2026-05-01") else "ramped"
        rows.append(
            {
                "rep_id": f"R{k:03d}",
                "name": f"{FIRST[rng.integers(12)]} {LAST[rng.integers(12)]}",
                "role": "account_executive",
                "manager_id": manager_of[region],
                "home_lat": round(points[home_unit].y, 5),
                "home_lon": round(points[home_unit].x, 5),
                "hire_date": hired.date().isoformat(),
                "status": status,
            }
        )
        territory_reps[f"R{k:03d}"] = territory
    for position in rng.choice(len(rows), size=2, replace=False):
        rows[position]["status"] = "leaving"
    for m in managers:
        home = units[units["region"].map(region_of_state) == m["region"]]["labor_force"].idxmax()
        m.update(
            home_lat=round(points[home].y, 5),
            home_lon=round(points[home].x, 5),
            hire_date="2014-03-03",
            status="ramped",
        )
        del m["region"]
    reps = pd.DataFrame(managers + rows).set_index("rep_id")
    return reps, pd.Series(territory_reps, name="territory_id").rename_axis("rep_id")


def build_bookings(accounts: pd.DataFrame, rep_skill: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """Deals per account and month: Poisson count, lognormal size, trend and seasonality."""
    months = pd.date_range(HISTORY_START, periods=HISTORY_MONTHS, freq="MS")
    trend = 1.10 ** (np.arange(HISTORY_MONTHS) / 12.0)
    season = MONTH_SEASONALITY[months.month - 1]
    mean_deal = accounts["segment"].map({s: v[3] for s, v in SEGMENTS.items()}).to_numpy()
    is_customer = rng.random(len(accounts)) < 0.45
    penetration = 0.12 * rep_skill.reindex(accounts["owner_rep_id"]).to_numpy()
    yearly = accounts["potential_usd"].to_numpy() * penetration * is_customer
    rate = np.outer(yearly / mean_deal / 12.0, trend * season)  # deals per account-month
    counts = rng.poisson(rate)
    acc_idx, month_idx = np.nonzero(counts)
    repeat = counts[acc_idx, month_idx]
    acc_idx, month_idx = np.repeat(acc_idx, repeat), np.repeat(month_idx, repeat)
    amounts = mean_deal[acc_idx] * rng.lognormal(-0.18, 0.6, len(acc_idx))
    start = months[month_idx]
    days = rng.integers(0, start.days_in_month)
    bookings = pd.DataFrame(
        {
            "account_id": accounts.index.to_numpy()[acc_idx],
            "date": (start + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "amount_usd": np.round(amounts, 2),
        }
    )
    bookings = bookings.sort_values(["date", "account_id"], kind="stable").reset_index(drop=True)
    bookings["line"] = sales_line(bookings)
    return bookings


def sales_line(bookings: pd.DataFrame) -> pd.Series:
    """Quota line of each booking: ``new_business`` when the account had not booked for 60 days.

    A first order, or an order after two quiet months, is new business (about 12% of rows,
    16% of amount); a repeat order from an active account is a ``renewal``.
    """
    dates = pd.to_datetime(bookings["date"])
    quiet_days = dates.groupby(bookings["account_id"]).diff().dt.days
    new = quiet_days.isna() | (quiet_days > NEW_BUSINESS_QUIET_DAYS)
    return pd.Series(np.where(new, "new_business", "renewal"), index=bookings.index, name="line")


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    units = build_units(rng)
    accounts = build_accounts(units, rng)
    alignment = grow_current_alignment(units, rng)
    reps, territory_reps = build_reps(units, alignment, rng)
    owner_of_territory = pd.Series(territory_reps.index, index=territory_reps.to_numpy())
    home_unit = accounts.pop("home_unit")
    accounts["owner_rep_id"] = alignment.reindex(home_unit).map(owner_of_territory).to_numpy()
    # Protected: a few strategic enterprise accounts in smaller counties (under 5% of a
    # territory's TAM), whose reps keep them through a realignment.
    small_county = (
        units["tam_usd"].reindex(home_unit) < 0.05 * units["tam_usd"].sum() / N_TERRITORIES
    ).to_numpy()
    draw = rng.random(len(accounts))
    accounts["protected"] = np.where(
        (accounts["segment"] == "enterprise").to_numpy() & small_county & (draw < 0.10), "yes", "no"
    )
    rep_skill = pd.Series(rng.lognormal(0.0, 0.3, len(territory_reps)), index=territory_reps.index)
    bookings = build_bookings(accounts, rep_skill, rng)
    visit_hours = accounts["segment"].map({s: v[2] for s, v in SEGMENTS.items()})
    # Workload: visits to accounts plus travel that grows with the land area covered.
    hours = visit_hours.groupby(home_unit).sum().reindex(units.index, fill_value=0.0)
    units["workload_hours"] = (hours + 2.0 * np.sqrt(units["land_area_km2"])).round(1)
    units = units[
        [
            "name",
            "region",
            "tam_usd",
            "workload_hours",
            "labor_force",
            "unemployment_pct",
            "land_area_km2",
            "geometry",
        ]
    ]
    return {
        "units": units,
        "accounts": accounts,
        "reps": reps,
        "bookings": bookings,
        "alignment": alignment.to_frame(),
        "territory_reps": territory_reps.to_frame(),
    }


def write(tables: dict[str, pd.DataFrame], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tables["units"].to_parquet(out_dir / "units.parquet", index=True, compression="zstd")
    for name in ("accounts", "reps", "bookings", "alignment", "territory_reps"):
        frame = tables[name]
        frame.to_parquet(out_dir / f"{name}.parquet", index=name != "bookings", compression="zstd")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    write(build(), out)
    print(f"wrote demo data to {out}")
