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
