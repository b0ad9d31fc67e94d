"""ZIP cells: Voronoi cells of ZIP points clipped to their county, measures split by weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from planner.data.adjacency import build_adjacency
from planner.data.dataset import load_dataset
from planner.data.zips import ZIP_POINTS, load_zip_points, zip_dataset, zip_units
from planner.optimize.api import optimize_dataset
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.metrics import polsby_popper
from tests.conftest import write_grid_dataset


@pytest.fixture
def grid(tmp_path):
    return load_dataset(write_grid_dataset(tmp_path / "grid", rows=2, cols=3))


def points_in(units, per_unit: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """ZIP points inside the grid cells: ``per_unit[unit]`` points each, weights 1..n."""
    rng = np.random.default_rng(seed)
    rows = []
    for unit, count in per_unit.items():
        minx, miny, maxx, maxy = units.geometry[unit].bounds
        for k in range(count):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            rows.append((f"{unit}{k}", x, y, "Town", "ZZ", unit, float(k + 1)))
    return pd.DataFrame(rows, columns=["zip", "lon", "lat", "city", "state", "county", "people"]).set_index(
        "zip"
    )


def test_cells_tile_their_county_and_split_its_measures_by_weight(grid):
    units = grid.units
    points = points_in(units, {"r0c0": 3, "r1c1": 2})
    cells = zip_units(units, points)
    zipped = cells.index[cells.index.str.startswith("Z")]
    assert len(zipped) == 5 and len(cells) == 6 - 2 + 5  # units without ZIP points stay whole
    for county, n in (("r0c0", 3), ("r1c1", 2)):
        mine = cells[cells["county"] == county]
        assert mine.geometry.area.sum() == pytest.approx(units.geometry[county].area, rel=1e-9)
        assert shapely.union_all(mine.geometry.to_numpy()).equals_exact(units.geometry[county], 1e-9) or (
            shapely.symmetric_difference(
                shapely.union_all(mine.geometry.to_numpy()), units.geometry[county]
            ).area
            < 1e-12
        )
        weights = np.arange(1, n + 1) / np.arange(1, n + 1).sum()
        assert mine["tam_usd"].to_numpy() == pytest.approx(units.loc[county, "tam_usd"] * weights)
    assert cells["tam_usd"].sum() == pytest.approx(units["tam_usd"].sum())


def test_zip_data_set_keeps_totals_territories_and_accounts_and_the_optimizer_runs(grid):
    points = points_in(grid.units, {"r0c0": 3, "r0c1": 2, "r1c2": 2})
    zipped = zip_dataset(grid, points=points)
    assert zipped.units["tam_usd"].sum() == pytest.approx(grid.units["tam_usd"].sum())
    assert zipped.units["accounts"].sum() == grid.units["accounts"].sum()
    assert zipped.units["bookings_usd"].sum() == pytest.approx(grid.units["bookings_usd"].sum())
    # Each ZIP starts in its county's territory.
    county_of = {u: u[1:-1] for u in zipped.units.index if u.startswith("Z")}
    for unit, county in county_of.items():
        assert zipped.plan.assignment[unit] == grid.plan.assignment[county]
    adjacency = build_adjacency(zipped.units)
    assert not adjacency.island_links  # cells of neighbouring counties share the county border
    assert polsby_popper(zipped.plan, zipped.units).between(0, 1).all()  # cells are not a noded coverage
    result = optimize_dataset(
        zipped,
        options=OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.25),), time_limit_s=1),
        adjacency=adjacency,
    )
    assert set(result.plan.territories) == set(grid.plan.territories)


def test_the_shipped_zip_points_cover_the_demo_counties():
    points = load_zip_points()
    assert 29_000 <= len(points) <= 30_500 and points["county"].nunique() > 3_000
    assert (points["people"] >= 1_000).all() and points.index.str.fullmatch(r"\d{5}").all()
    assert ZIP_POINTS.stat().st_size < 2_000_000  # small enough to ship
