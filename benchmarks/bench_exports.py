"""Exports benchmark: each export's time and file size, and territory dissolving against geopandas.

Instances: the demo counties (3,108 units, its 50-territory plan) and 40,000 Voronoi
cells with 500 territories (every cell joins the territory of the nearest of 500 seeded
seed cells, which gives contiguous territories), 40,000 accounts and 500 reps.

Times are the best of 3 runs for dissolving and one run for each export (on a shared
2-core machine, expect +-50% between runs). Baseline in the same run:
``GeoDataFrame.dissolve`` with its default ``unary_union`` per group (the obvious way).
For reference also ``dissolve(method="coverage")``, which uses the same coverage union
as ours but checks nothing. Ours: :func:`planner.plans.dissolve.dissolve_territories`
(coverage union, each territory verified: valid and area equal to the sum of its units,
else a full union).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from benchmarks.bench_foundation import timed
from benchmarks.instances import voronoi_units
from planner.data.dataset import Dataset
from planner.data.demo import load_demo
from planner.exports.change_report import change_report
from planner.exports.formats import EXPORT_FORMATS, FORMAT_FILES, export_plan
from planner.exports.inputs import demo_approved_plan
from planner.plans.dissolve import dissolve_territories
from planner.plans.plan import Plan


def voronoi_dataset(n_units: int = 40_000, k: int = 500, seed: int = 2) -> Dataset:
    """Voronoi units with a nearest-seed plan of ``k`` territories, one rep each, and accounts."""
    rng = np.random.default_rng(seed)
    units = voronoi_units(n_units, seed=seed)
    units["bookings_usd"] = (units["tam_usd"] * 0.05).round(2)
    centres = shapely.centroid(units.geometry.to_numpy())
    xy = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
    seeds = rng.choice(n_units, k, replace=False)
    nearest = cKDTree(xy[seeds]).query(xy)[1]
    territory_ids = np.array([f"T{i:03d}" for i in range(k)])
    assignment = pd.Series(territory_ids[nearest], index=units.index)
    rep_ids = pd.Index([f"R{i:03d}" for i in range(k)], name="rep_id")
    reps = pd.DataFrame(
        {"name": [f"Rep {i}" for i in range(k)], "manager_id": [f"R{i - i % 10:03d}" for i in range(k)]},
        index=rep_ids,
    )
    plan = Plan(assignment, pd.Series(territory_ids, index=rep_ids), name="voronoi")
    unit_of = units.index.to_numpy()[rng.integers(0, n_units, n_units)]
    accounts = pd.DataFrame(
        {"name": [f"Account {i}" for i in range(n_units)], "unit_id": unit_of},
        index=pd.Index([f"A{i:06d}" for i in range(n_units)], name="account_id"),
    )
    owner_of_territory = pd.Series(rep_ids, index=territory_ids)
    accounts["owner_rep_id"] = owner_of_territory.reindex(assignment.reindex(unit_of)).to_numpy()
    bookings = pd.DataFrame(columns=["account_id", "date", "amount_usd", "unit_id"])
    return Dataset(units, accounts, reps, bookings, plan)


def dissolve_rows(name: str, units: gpd.GeoDataFrame, assignment: pd.Series) -> list[dict]:
    frame = units[["geometry"]].assign(territory_id=assignment.reindex(units.index).to_numpy())
    seconds, baseline = timed(lambda: frame.dissolve("territory_id"))
    base_area = shapely.area(baseline.geometry.to_numpy()).sum()
    rows = [
        {
            "task": f"dissolve territories, {name}",
            "method": "geopandas dissolve, unary_union (baseline)",
            "seconds": seconds,
            "result": f"{baseline.is_valid.sum()} of {len(baseline)} valid",
        }
    ]
    seconds, coverage = timed(lambda: frame.dissolve("territory_id", method="coverage"))
    rows.append(
        {
            "task": f"dissolve territories, {name}",
            "method": "geopandas dissolve, method=coverage (unchecked, reference)",
            "seconds": seconds,
            "result": f"{coverage.is_valid.sum()} of {len(coverage)} valid",
        }
    )
    seconds, ours = timed(lambda: dissolve_territories(units, assignment))
    area_diff = abs(shapely.area(ours.geometry.to_numpy()).sum() / base_area - 1)
    rows.append(
        {
            "task": f"dissolve territories, {name}",
            "method": "planner.dissolve_territories (coverage union, verified)",
            "seconds": seconds,
            "result": (
                f"{ours.is_valid.sum()} of {len(ours)} valid, {int(ours['full_union'].sum())} full unions, "
                f"total area vs baseline {area_diff:.1e}"
            ),
        }
    )
    return rows


def export_rows(name: str, dataset: Dataset) -> list[dict]:
    approved = demo_approved_plan(dataset, dataset.plan, 2027)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in EXPORT_FORMATS:
            seconds, written = timed(lambda f=fmt: export_plan(approved, dataset, tmp, [f]), repeat=1)
            size_mb = sum(Path(p).stat().st_size for p in written) / 1e6
            rows.append(
                {
                    "task": f"export {fmt}, {name}",
                    "method": "planner.export_plan",
                    "seconds": seconds,
                    "result": f"{', '.join(FORMAT_FILES[fmt])}: {size_mb:.2f} MB",
                }
            )
    units = dataset.plan.units
    moved = dataset.plan.move(list(units[:: max(len(units) // 50, 1)]), dataset.plan.territories[0])
    seconds, report = timed(lambda: change_report(dataset.plan, moved, dataset), repeat=1)
    rows.append(
        {
            "task": f"change report, {name} ({report.summary.loc['units', 'moved']:,.0f} units moved)",
            "method": "planner.exports.change_report",
            "seconds": seconds,
            "result": f"{len(report.accounts):,} accounts change owner, {len(report.flows)} flows",
        }
    )
    return rows


def run() -> list[dict]:
    demo = load_demo()
    rows = dissolve_rows("demo counties (3,108 units, 50 territories)", demo.units, demo.plan.assignment)
    rows += export_rows("demo counties", demo)
    voronoi = voronoi_dataset()
    rows += dissolve_rows("voronoi 40,000 units, 500 territories", voronoi.units, voronoi.plan.assignment)
    rows += export_rows("voronoi 40,000 / 500", voronoi)
    return rows
