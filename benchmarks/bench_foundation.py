"""Foundation benchmark: loading, validation and adjacency, against libpysal on the same polygons.

Baseline: ``libpysal.weights.Queen.from_dataframe`` (PySAL's queen contiguity, shared
vertices). Ours: STRtree ``dwithin`` queries (tolerant to slivers) plus island linking.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

from benchmarks.instances import voronoi_units
from planner.data.adjacency import build_adjacency
from planner.data.dataset import check_files
from planner.data.demo import load_demo, write_demo_files


def timed(fn, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def queen_libpysal(units):
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Queen.from_dataframe(units, use_index=False, silence_warnings=True)


def run() -> list[dict]:
    rows = []
    seconds, demo = timed(load_demo)
    rows.append(
        {
            "task": "load demo data set (parquet, 3,108 units, 233k bookings)",
            "method": "planner",
            "seconds": seconds,
            "result": f"{len(demo.accounts):,} accounts placed",
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        write_demo_files(tmp)
        seconds, (_, problems) = timed(lambda: check_files([Path(tmp)]), repeat=1)
        rows.append(
            {
                "task": "validate demo as CSV + GeoJSON files",
                "method": "planner validate",
                "seconds": seconds,
                "result": f"{len(problems)} problems",
            }
        )
    instances = {
        "demo counties (3,108)": demo.units,
        "voronoi 10,000": voronoi_units(10_000, seed=1),
        "voronoi 40,000": voronoi_units(40_000, seed=2),
    }
    for name, units in instances.items():
        seconds, ours = timed(lambda u=units: build_adjacency(u), repeat=1)
        rows.append(
            {
                "task": f"queen adjacency, {name}",
                "method": "planner.build_adjacency",
                "seconds": seconds,
                "result": f"{ours.n_edges:,} edges, {len(ours.island_links)} island links",
            }
        )
        seconds, theirs = timed(lambda u=units: queen_libpysal(u), repeat=1)
        rows.append(
            {
                "task": f"queen adjacency, {name}",
                "method": "libpysal Queen (baseline)",
                "seconds": seconds,
                "result": f"{theirs.s0 / 2:,.0f} edges, {len(theirs.islands)} islands unlinked",
            }
        )
    return rows
