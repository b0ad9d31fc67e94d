"""Load a whole data set (units, accounts, reps, bookings, alignment), checked as one.

Files are recognised by name: ``units.*``, ``accounts.*``, ``reps.*``, ``bookings.*``,
``alignment.*`` and ``territory_reps.*`` (see :mod:`planner.data.schema`). Every file is
checked, then the tables are checked against each other (unknown ids, accounts outside
every unit, units without a territory), and every problem is reported in one
:class:`~planner.errors.InputError`.

Accounts are placed into units by point-in-polygon; an account up to
``SNAP_DISTANCE_KM`` outside every unit (coastline generalisation) is snapped to the
nearest unit with a warning. Unit measures missing from the units file are aggregated
from accounts: ``accounts`` (count) and ``bookings_usd`` (last 12 months of bookings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.data.geometry import STORAGE_CRS, check_geometry, equal_area_crs
from planner.data.schema import TABLES, UNIT_MEASURES, TableSchema
from planner.data.tables import read_frame, sheet_row, validate_frame
from planner.errors import InputError, Problem
from planner.plans.plan import Plan

SNAP_DISTANCE_KM = 2.0
BOOKINGS_WINDOW_MONTHS = 12
REQUIRED_TABLES = ("units", "alignment")


@dataclass(frozen=True)
class Dataset:
    """A checked data set.

    Attributes
    ----------
    units : geopandas.GeoDataFrame
        Index ``unit_id``; ``name``, ``region``, measures (``tam_usd``, ``accounts``,
        ``workload_hours``, ``bookings_usd`` and any user numeric column), polygons in
        EPSG:4326.
    accounts : pandas.DataFrame
        Index ``account_id``; schema columns plus ``unit_id`` (resolved).
    reps : pandas.DataFrame
        Index ``rep_id``.
    bookings : pandas.DataFrame
        ``account_id``, ``date``, ``amount_usd``, ``unit_id``.
    plan : Plan
        The current alignment.
    warnings : tuple of Problem
        Repairs made while loading (e.g. an invalid polygon fixed).
    """

    units: gpd.GeoDataFrame
    accounts: pd.DataFrame
    reps: pd.DataFrame
    bookings: pd.DataFrame
    plan: Plan
    warnings: tuple[Problem, ...] = ()

    @property
    def measures(self) -> list[str]:
        """Numeric measure columns of the units, named measures first."""
        numeric = [
            c for c in self.units.columns if c != "geometry" and pd.api.types.is_numeric_dtype(self.units[c])
        ]
        return [m for m in UNIT_MEASURES if m in numeric] + [m for m in numeric if m not in UNIT_MEASURES]


MAX_LISTED = 50  #: units listed by name when many have no territory (the rest are counted)


def find_table_files(paths: Iterable[str | Path]) -> tuple[dict[str, Path], list[Problem]]:
    """Map table names to files, from files and/or directories given by the user."""
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            problems.append(
                Problem(path.name or str(path), f"not found: {path}", "check the path and its spelling")
            )
            continue
        candidates = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for file in candidates:
            table = file.name.split(".")[0].lower()
            if table not in TABLES:
                if not path.is_dir():
                    problems.append(
                        Problem(
                            file.name,
                            f"file name does not say which table it is ('{table}')",
                            f"name it after its table: {', '.join(f'{t}.csv' for t in TABLES)} "
                            "(units as .geojson, .gpkg, .shp or .parquet)",
                        )
                    )
                continue
            if table in found:
                problems.append(
                    Problem(
                        file.name,
                        f"two files for table '{table}': {found[table].name} and {file.name}",
                        "keep one of them",
                    )
                )
                continue
            found[table] = file
    return found, problems


def _read(table: str, path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    schema: TableSchema = TABLES[table]
    frame, problems = read_frame(path, schema)
    if frame is None:
        return None, problems
    if schema.geometry:
        frame, geo_problems = check_geometry(frame, path.name)
        problems += geo_problems
    typed, value_problems = validate_frame(frame, schema, path.name)
    return typed, problems + value_problems


def _unknown_refs(
    values: pd.Series,
    known: pd.Index,
    file: str,
    column: str,
    target: str,
    positions: np.ndarray | None = None,
) -> list[Problem]:
    """One problem per row whose ``values`` is set but not in ``known``."""
    present = values.notna().to_numpy()
    bad = present & ~values.isin(known).to_numpy()
    sample = ", ".join(map(str, known.unique()[:5].tolist()))
    example = f" (e.g. {sample})" if sample else ""
    problems = []
    for position in np.flatnonzero(bad):
        row = positions[position] if positions is not None else position
        problems.append(
            Problem(
                file,
                f"unknown {column} '{values.iloc[position]}' (not in {target})",
                f"use an id from {target}{example} or add it there",
                row=sheet_row(int(row)),
                column=column,
            )
        )
    return problems


def _place_accounts(
    accounts: pd.DataFrame, units: gpd.GeoDataFrame, file: str
) -> tuple[pd.Series, list[Problem]]:
    """Unit of each account: its ``unit_id`` when given, else point-in-polygon on lat/lon."""
    unit_of = (
        accounts["unit_id"].copy()
        if "unit_id" in accounts
        else pd.Series(pd.NA, index=accounts.index, dtype="string")
    )
    problems: list[Problem] = []
    needs = unit_of.isna().to_numpy()
    has_coords = {"lat", "lon"} <= set(accounts.columns)
    if has_coords:
        coords_ok = accounts["lat"].notna().to_numpy() & accounts["lon"].notna().to_numpy()
    else:
        coords_ok = np.zeros(len(accounts), dtype=bool)
    for position in np.flatnonzero(needs & ~coords_ok):
        problems.append(
            Problem(
                file,
                "account has neither a unit_id nor lat/lon",
                "give the account's lat and lon, or the unit_id it lies in",
                row=sheet_row(position),
                column="unit_id" if not has_coords else "lat",
            )
        )
    todo = np.flatnonzero(needs & coords_ok)
    if len(todo):
        points = gpd.GeoSeries.from_xy(
            accounts["lon"].to_numpy()[todo], accounts["lat"].to_numpy()[todo], crs=STORAGE_CRS
        )
        crs = equal_area_crs(units)
        polys = units.geometry.to_crs(crs)
        pts = points.to_crs(crs)
        hit, unit_pos = polys.sindex.query(pts, predicate="within")
        found = np.full(len(todo), -1)
        found[hit] = unit_pos  # a point on a shared border keeps the last unit: fine
        missing = np.flatnonzero(found < 0)
        if len(missing):
            near_pts, near_unit = polys.sindex.nearest(pts.iloc[missing], return_all=False)
            dist_km = pts.iloc[missing].distance(polys.iloc[near_unit], align=False).to_numpy() / 1000
            lats, lons = accounts["lat"].to_numpy(), accounts["lon"].to_numpy()
            for k, i in enumerate(missing[near_pts]):
                row, nearest = sheet_row(int(todo[i])), units.index[near_unit[k]]
                point = f"point ({lats[todo[i]]:.5f}, {lons[todo[i]]:.5f})"
                if dist_km[k] <= SNAP_DISTANCE_KM:
                    found[i] = near_unit[k]
                    message = f"{point} lies {dist_km[k]:.2f} km outside every unit; placed in {nearest}"
                    fix = "check the coordinates, or give unit_id to place it explicitly"
                    problems.append(Problem(file, message, fix, row=row, column="lat", severity="warning"))
                else:
                    message = f"{point} falls in no unit (nearest is {nearest}, {dist_km[k]:.1f} km away)"
                    fix = (
                        "check the coordinates (latitude/longitude swapped? sign of longitude?) "
                        "or give the unit_id it belongs to"
                    )
                    problems.append(Problem(file, message, fix, row=row, column="lat"))
        placed = found >= 0
        unit_of.iloc[todo[placed]] = units.index.to_numpy()[found[placed]]
    return unit_of.astype("string"), problems


def aggregate_measures(
    units: gpd.GeoDataFrame, accounts: pd.DataFrame, bookings: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Fill ``accounts`` and ``bookings_usd`` from the account tables when the units lack them."""
    units = units.copy()
    if "accounts" not in units.columns:
        counts = accounts.groupby("unit_id").size() if len(accounts) else pd.Series(dtype=float)
        units["accounts"] = counts.reindex(units.index, fill_value=0).astype(float)
    if "bookings_usd" not in units.columns:
        if len(bookings):
            end = bookings["date"].max()
            start = end - pd.DateOffset(months=BOOKINGS_WINDOW_MONTHS)
            recent = bookings[bookings["date"] > start]
            sums = recent.groupby("unit_id")["amount_usd"].sum()
        else:
            sums = pd.Series(dtype=float)
        units["bookings_usd"] = sums.reindex(units.index, fill_value=0.0).astype(float)
    if "workload_hours" not in units.columns:
        units["workload_hours"] = 0.0
    return units


def check_files(paths: Iterable[str | Path]) -> tuple[Dataset | None, list[Problem]]:
    """Check the files in ``paths`` (files or directories); never raises for bad input.

    Returns the loaded :class:`Dataset` when units and alignment are present and no
    error was found, else ``None``; and every problem found (errors and warnings),
    ordered by file and row. Tables that are not given are not required, except units
    and alignment for a Dataset.
    """
    files, problems = find_table_files(paths)
    frames: dict[str, pd.DataFrame] = {}
    for table, path in files.items():
        frame, found = _read(table, path)
        problems += found
        if frame is not None:
            frames[table] = frame
    problems += _cross_check(frames, files)
    unit_of: pd.Series | None = None
    # Accounts can be placed unless the units file is wrong as a whole (no CRS, bad columns).
    units_usable = "units" in frames and not any(
        p.severity == "error" and p.file == files["units"].name and p.row is None for p in problems
    )
    if units_usable and "accounts" in frames:
        unit_of, placed = _place_accounts(frames["accounts"], frames["units"], files["accounts"].name)
        problems += placed
    order = {path.name: k for k, path in enumerate(files.values())}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.row if p.row is not None else 0))
    if any(p.severity == "error" for p in problems) or any(t not in frames for t in REQUIRED_TABLES):
        return None, problems
    warnings = tuple(p for p in problems if p.severity == "warning")
    return _assemble(frames, unit_of, warnings), problems


def _cross_check(frames: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """Check references between the tables that were read."""
    problems: list[Problem] = []
    units, accounts, reps = frames.get("units"), frames.get("accounts"), frames.get("reps")
    alignment, trep, bookings = frames.get("alignment"), frames.get("territory_reps"), frames.get("bookings")
    name = {t: p.name for t, p in files.items()}

    if units is not None and alignment is not None:
        positions = np.arange(len(alignment))
        problems += _unknown_refs(
            alignment.index.to_series(), units.index, name["alignment"], "unit_id", name["units"], positions
        )
        unplaced = units.index.difference(alignment.index)
        for unit_id in unplaced[:MAX_LISTED]:
            problems.append(
                Problem(
                    name["alignment"],
                    f"unit '{unit_id}' has no territory",
                    f"add a row '{unit_id},<territory_id>' to {name['alignment']}",
                    column="unit_id",
                )
            )
        if len(unplaced) > MAX_LISTED:
            problems.append(
                Problem(
                    name["alignment"],
                    f"and {len(unplaced) - MAX_LISTED:,} more units have no territory "
                    f"({len(unplaced):,} in all; the first {MAX_LISTED} are listed)",
                    f"give every unit of {name['units']} a row in {name['alignment']}",
                    column="unit_id",
                )
            )
    if accounts is not None and reps is not None and "owner_rep_id" in accounts:
        problems += _unknown_refs(
            accounts["owner_rep_id"], reps.index, name["accounts"], "owner_rep_id", name["reps"]
        )
    if accounts is not None and units is not None and "unit_id" in accounts:
        problems += _unknown_refs(
            accounts["unit_id"], units.index, name["accounts"], "unit_id", name["units"]
        )
    if reps is not None and "manager_id" in reps:
        problems += _unknown_refs(reps["manager_id"], reps.index, name["reps"], "manager_id", name["reps"])
    if bookings is not None and accounts is not None and "account_id" in bookings:
        problems += _unknown_refs(
            bookings["account_id"], accounts.index, name["bookings"], "account_id", name["accounts"]
        )
    if trep is not None and alignment is not None and "territory_id" in alignment:
        territories = pd.Index(alignment["territory_id"].dropna().unique())
        problems += _unknown_refs(
            trep["territory_id"], territories, name["territory_reps"], "territory_id", name["alignment"]
        )
    if trep is not None and reps is not None:
        positions = np.arange(len(trep))
        problems += _unknown_refs(
            trep.index.to_series(), reps.index, name["territory_reps"], "rep_id", name["reps"], positions
        )
    return problems


def _assemble(
    frames: dict[str, pd.DataFrame], unit_of: pd.Series | None, warnings: tuple[Problem, ...]
) -> Dataset:
    """Build the Dataset from checked frames (no errors left)."""
    units = frames["units"]
    accounts = frames.get("accounts", pd.DataFrame(columns=["unit_id"]).rename_axis("account_id"))
    if unit_of is not None:
        accounts = accounts.assign(unit_id=unit_of)
    bookings = frames.get("bookings", pd.DataFrame(columns=["account_id", "date", "amount_usd"]))
    bookings = bookings.assign(unit_id=bookings["account_id"].map(accounts["unit_id"]).astype("string"))
    units = aggregate_measures(units, accounts, bookings)
    territory_reps = frames.get("territory_reps", pd.DataFrame(columns=["territory_id"]))["territory_id"]
    plan = Plan(frames["alignment"]["territory_id"].reindex(units.index), territory_reps, name="current")
    reps = frames.get("reps", pd.DataFrame().rename_axis("rep_id"))
    return Dataset(units, accounts, reps, bookings, plan, warnings)


def load_dataset(*paths: str | Path) -> Dataset:
    """Load and check a data set from files and/or directories.

    Raises
    ------
    InputError
        Listing every problem found, when any file is invalid or units/alignment are missing.
    """
    dataset, problems = check_files(paths)
    if dataset is None:
        files, _ = find_table_files(paths)
        missing = [t for t in REQUIRED_TABLES if t not in files]
        problems = problems + [
            Problem(
                t,
                f"no {t} file found in {', '.join(map(str, paths))}",
                f"add {t}.csv (or .geojson/.parquet for units)",
            )
            for t in missing
        ]
        raise InputError(problems)
    return dataset
