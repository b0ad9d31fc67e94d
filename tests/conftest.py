"""Small hand-checkable fixtures: grids of square units with known measures."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.data.adjacency import build_adjacency
from planner.optimize.options import BalanceTarget, OptimizeOptions

CELL_DEG = 0.1


def grid_units(rows: int, cols: int, *, origin=(-100.0, 40.0)) -> gpd.GeoDataFrame:
    """``rows x cols`` square units of 0.1 degree, ids 'r{row}c{col}', TAM = 100 * (index + 1)."""
    x0, y0 = origin
    records = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            records.append(
                {
                    "unit_id": f"r{r}c{c}",
                    "name": f"Cell {r},{c}",
                    "region": "XX",
                    "tam_usd": 100.0 * (k + 1),
                    "workload_hours": 10.0,
                    "geometry": shapely.box(
                        x0 + c * CELL_DEG, y0 + r * CELL_DEG, x0 + (c + 1) * CELL_DEG, y0 + (r + 1) * CELL_DEG
                    ),
                }
            )
    return gpd.GeoDataFrame(records, crs="EPSG:4326")


def centre_of(unit_id: str, origin=(-100.0, 40.0)) -> tuple[float, float]:
    """(lat, lon) of the centre of grid cell ``unit_id``."""
    r, c = (int(x) for x in unit_id[1:].split("c"))
    return origin[1] + (r + 0.5) * CELL_DEG, origin[0] + (c + 0.5) * CELL_DEG


def write_grid_dataset(directory: Path, rows: int = 3, cols: int = 3) -> Path:
    """A valid small data set on a grid: one account per cell, two territories, two reps."""
    directory.mkdir(parents=True, exist_ok=True)
    units = grid_units(rows, cols)
    units.to_file(directory / "units.geojson", driver="GeoJSON")
    accounts, bookings = [], []
    for k, unit_id in enumerate(units["unit_id"]):
        lat, lon = centre_of(unit_id)
        accounts.append(
            {
                "account_id": f"A{k}",
                "name": f"Account {k}",
                "lat": lat,
                "lon": lon,
                "segment": "smb",
                "industry": "retail",
                "potential_usd": 50 * (k + 1),
                "owner_rep_id": "R1" if k % cols < cols / 2 else "R2",
            }
        )
        bookings.append({"account_id": f"A{k}", "date": "2026-06-15", "amount_usd": 10.0 * (k + 1)})
    pd.DataFrame(accounts).to_csv(directory / "accounts.csv", index=False)
    pd.DataFrame(bookings).to_csv(directory / "bookings.csv", index=False)
    pd.DataFrame(
        [
            {
                "rep_id": "R1",
                "name": "Ann",
                "role": "account_executive",
                "manager_id": "M1",
                "home_lat": 40.05,
                "home_lon": -99.95,
                "hire_date": "2020-01-06",
                "status": "ramped",
            },
            {
                "rep_id": "R2",
                "name": "Bo",
                "role": "account_executive",
                "manager_id": "M1",
                "home_lat": 40.05,
                "home_lon": -99.75,
                "hire_date": "2026-09-01",
                "status": "ramping",
            },
            {
                "rep_id": "M1",
                "name": "Cy",
                "role": "manager",
                "manager_id": "",
                "home_lat": 40.05,
                "home_lon": -99.85,
                "hire_date": "2015-01-05",
                "status": "ramped",
            },
        ]
    ).to_csv(directory / "reps.csv", index=False)
    alignment = [
        {"unit_id": u, "territory_id": "West" if int(u.split("c")[1]) < cols / 2 else "East"}
        for u in units["unit_id"]
    ]
    pd.DataFrame(alignment).to_csv(directory / "alignment.csv", index=False)
    pd.DataFrame([{"territory_id": "West", "rep_id": "R1"}, {"territory_id": "East", "rep_id": "R2"}]).to_csv(
        directory / "territory_reps.csv", index=False
    )
    return directory


@pytest.fixture
def grid_dir(tmp_path: Path) -> Path:
    """Directory holding a valid 3x3 grid data set."""
    return write_grid_dataset(tmp_path / "grid")


def components(at) -> list:
    """Custom-component elements (e.g. the territory map) of an AppTest run."""
    found = []

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                if getattr(child, "type", None) == "component_instance":
                    found.append(child)
                walk(child)

    walk(at._tree)
    return found


def border_search(instance, labels, *, compactness_weight: float = 0.0, rng=None):
    """A search state from ``labels`` without disruption, and the keyword arguments of its moves.

    The moves share one random generator, seeded (0) unless ``rng`` is given, and no deadline.
    """
    from planner.optimize.instance import adjacency_lists
    from planner.optimize.search import SearchState
    from planner.optimize.work_clock import WorkClock

    state = SearchState(
        instance,
        np.asarray(labels),
        adjacency_lists(instance),
        compactness_weight=compactness_weight,
        disruption_weight=0.0,
        max_disruption=None,
        clock=WorkClock(),
    )
    at = {"rng": np.random.default_rng(0) if rng is None else rng, "clock": state.clock, "deadline": np.inf}
    return state, at


def run_border_search(state, at, *, time_limit_s: float, polish: bool = True):
    """Run the whole search schedule on ``state`` as the optimizer does with pooled reps."""
    from planner.optimize.search import default_recombination, run_search

    return run_search(
        state,
        rng=at["rng"],
        clock=at["clock"],
        time_limit_s=time_limit_s,
        recombination=default_recombination(state),
        pool_reps=True,
        polish=polish,
    )


def grid(rows: int, cols: int, tam=None, *, contiguity: str = "rook"):
    """A ``rows x cols`` grid of units with ``tam_usd`` (100 each unless given) and its adjacency."""
    units = grid_units(rows, cols).set_index("unit_id")
    units["tam_usd"] = 100.0 if tam is None else np.asarray(tam, dtype=float)
    return units, build_adjacency(units, contiguity=contiguity)


def grid_with_bookings(rows: int, cols: int, tam, bookings):
    """:func:`grid` with ``bookings_usd`` too."""
    units, adjacency = grid(rows, cols, tam)
    units["bookings_usd"] = np.asarray(bookings, dtype=float)
    return units, adjacency


def both_hard(tolerance: float, **options) -> OptimizeOptions:
    """TAM and bookings, both hard at ``tolerance``."""
    targets = tuple(BalanceTarget(m, tolerance, hard=True) for m in ("tam_usd", "bookings_usd"))
    return OptimizeOptions(targets=targets, **options)


def postgres_url() -> str:
    """The test PostgreSQL server's URL; skips without one (fails in CI, which must test it)."""
    url = os.environ.get("TERRAIN_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test PostgreSQL: set TERRAIN_TEST_POSTGRES_URL (scripts/start-postgres.sh)")
        pytest.skip("set TERRAIN_TEST_POSTGRES_URL to test PostgreSQL")
    return url
