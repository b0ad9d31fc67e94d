"""The shipped demo data set: where it lives, how to load it, how to export it as plain files.

The files are built by ``data/generate.py`` (see ``data/README.md``). Set
``TERRAIN_DATA_DIR`` to use another directory of the same layout.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.data.dataset import Dataset, load_dataset

DEMO_DIR = Path(os.environ.get("TERRAIN_DATA_DIR", Path(__file__).resolve().parents[2] / "data" / "demo"))
PLAIN_TABLES = ("accounts", "reps", "bookings", "alignment", "territory_reps")


def load_demo() -> Dataset:
    """Load the shipped demo data set (US counties, synthetic sales)."""
    return load_dataset(DEMO_DIR)


def write_demo_files(out_dir: str | Path) -> list[Path]:
    """Write the demo data set to ``out_dir``: units as GeoJSON, other tables as CSV.

    Returns the paths written. The files load back with :func:`planner.data.dataset.load_dataset`
    to the same data set.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    units = gpd.read_parquet(DEMO_DIR / "units.parquet")
    path = out / "units.geojson"
    units.reset_index().to_file(path, driver="GeoJSON")
    written.append(path)
    for name in PLAIN_TABLES:
        frame = pd.read_parquet(DEMO_DIR / f"{name}.parquet")
        path = out / f"{name}.csv"
        frame.to_csv(path, index=frame.index.name is not None)
        written.append(path)
    return written


def write_dataset_files(dataset: Dataset, out_dir: str | Path) -> list[Path]:
    """Write a loaded data set as files that load back to it: units as GeoParquet, the rest as CSV.

    Measures the loader derives (account counts, bookings per unit) are left out of the units.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    units = dataset.units.drop(
        columns=[c for c in ("accounts", "bookings_usd") if c in dataset.units.columns]
    )
    written = [out / "units.parquet"]
    units.to_parquet(written[0])
    tables = {
        "alignment": dataset.plan.assignment.rename("territory_id").rename_axis("unit_id").to_frame(),
        "territory_reps": dataset.plan.territory_reps.rename("territory_id").rename_axis("rep_id").to_frame(),
        "accounts": dataset.accounts,
        "reps": dataset.reps,
        "bookings": dataset.bookings.drop(columns=[c for c in ("unit_id",) if c in dataset.bookings.columns]),
    }
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=frame.index.name is not None)
        written.append(path)
    return written
