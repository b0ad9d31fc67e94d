"""Cached loaders shared by the pages (pure functions of their arguments).

Derivatives of a data set are cached per *token*: ``"demo"`` for the shipped demo, or
``"upload-<sha256>"`` of the uploaded files' names and bytes, so two sessions that load
the same files share them and different files never collide. Cached values are shared
by every session: treat them as read-only.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import streamlit as st

from planner.data.adjacency import Adjacency, build_adjacency
from planner.data.dataset import REQUIRED_TABLES, Dataset, check_files, find_table_files
from planner.data.demo import load_demo
from planner.data.zips import big_counties, zip_dataset
from planner.errors import Problem
from ui.territory_map.layer import MapLayer, write_layer
from ui.territory_view import unit_details

DEMO_TOKEN = "demo"
#: Demo geographies: token -> what the captions call it. ZIP layers are built from the county demo.
DEMO_GEOGRAPHIES = {
    DEMO_TOKEN: "demo data (3,108 US counties)",
    "demo-metro-zips": "demo data (ZIP codes in the 7 largest metros, counties elsewhere)",
    "demo-zips": "demo data (29,545 US ZIP codes)",
}
CACHE_DIR = Path(__file__).resolve().parents[1] / ".terrain" / "cache"
UPLOAD_TYPES = ("geojson", "json", "gpkg", "parquet", "geoparquet", "csv")


@st.cache_resource(max_entries=1, show_spinner="Loading the demo data set...")
def demo_dataset() -> Dataset:
    """The shipped demo data set, loaded once per server (treat it as read-only)."""
    return load_demo()


@st.cache_resource(
    max_entries=2, show_spinner="Making the ZIP-code cells (the first time: about a minute)..."
)
def demo_zip_dataset(token: str) -> Dataset:
    """The demo with ZIP cells as units: in the largest metros only, or everywhere."""
    base = demo_dataset()
    within = big_counties(base) if token == "demo-metro-zips" else None
    return zip_dataset(base, within, cache_dir=CACHE_DIR)


@st.cache_resource(max_entries=4, show_spinner="Finding neighbouring units...")
def dataset_adjacency(token: str, _dataset: Dataset) -> Adjacency:
    """Adjacency of the data set's units (cached per token)."""
    return build_adjacency(_dataset.units)


@st.cache_resource(max_entries=4)
def adjacency_edges(token: str, _dataset: Dataset) -> pd.DataFrame:
    """Unit adjacency as an edge list ``unit_a``, ``unit_b`` (cached per token)."""
    return dataset_adjacency(token, _dataset).edge_frame()


@st.cache_resource(max_entries=4, show_spinner="Preparing the map's polygons (once per data set)...")
def map_layer(token: str, _dataset: Dataset) -> MapLayer:
    """The data set's polygons for the territory map, written once under ``static/maps/``."""
    return write_layer(_dataset.units, details=unit_details(_dataset.units))


@st.cache_resource(max_entries=4)
def unit_labels(token: str, _dataset: Dataset) -> dict[str, str]:
    """``unit_id -> "name (unit_id)"`` for the searchable unit picker."""
    units = _dataset.units
    if "name" not in units:
        return {str(u): str(u) for u in units.index}
    return {str(u): f"{name} ({u})" for u, name in zip(units.index, units["name"].astype(str), strict=True)}


def upload_token(files: Iterable[tuple[str, bytes]]) -> str:
    """Content token of uploaded files: ``upload-`` + sha256 of names and bytes (order-free)."""
    digest = hashlib.sha256()
    for name, content in sorted(files):
        digest.update(name.encode())
        digest.update(len(content).to_bytes(8, "little"))
        digest.update(content)
    return f"upload-{digest.hexdigest()[:16]}"


def load_uploaded_files(files: list[tuple[str, bytes]]) -> tuple[Dataset | None, list[Problem]]:
    """Check uploaded files (name, bytes) as a data set; never raises for bad input.

    The files are written to a temporary directory under their own base names (so
    ``units.geojson`` is recognised as the units table) and checked with
    :func:`planner.data.dataset.check_files`; the directory is removed afterwards (a loaded
    data set holds its tables in memory). Returns the data set, or None, and every problem.
    """
    if not files:
        return None, [Problem("upload", "no files were uploaded", "add units and alignment files at least")]
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="terrain-upload-") as tmp:
        paths = []
        for name, content in files:
            base = Path(name).name
            if not base or base.startswith("."):
                problems.append(
                    Problem(name, "file name is empty or hidden", "name the file after its table")
                )
                continue
            path = Path(tmp) / base
            if path.exists():
                problems.append(Problem(base, "uploaded twice", "upload each file once"))
                continue
            path.write_bytes(content)
            paths.append(path)
        try:
            dataset, found = check_files(paths)
        except Exception as exc:  # a crash on bad input must become a message, not a traceback
            return None, [
                *problems,
                Problem(
                    "upload",
                    f"the files could not be read ({type(exc).__name__}: {exc})",
                    "check that every file is a valid CSV, GeoJSON, GeoPackage or Parquet file",
                ),
            ]
        problems += found
        tables, _ = find_table_files(paths)
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    problems += [
        Problem(
            t, f"no {t} file among the uploaded files", f"add {t}.csv (or .geojson/.gpkg/.parquet for units)"
        )
        for t in missing
    ]
    if any(p.severity == "error" for p in problems):
        return None, problems
    return dataset, problems
