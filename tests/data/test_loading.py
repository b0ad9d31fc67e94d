"""Loading a data set: a valid one loads with the right numbers; each bad input gets a named problem."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner import InputError, check_files, load_dataset
from planner.errors import Problem
from tests.conftest import write_grid_dataset


def errors_of(path_or_paths) -> list[Problem]:
    paths = path_or_paths if isinstance(path_or_paths, list) else [path_or_paths]
    _, problems = check_files(paths)
    return [p for p in problems if p.severity == "error"]


def edit_csv(path: Path, edit) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(path, index=False)


def edit_units(directory: Path, edit) -> None:
    units = gpd.read_file(directory / "units.geojson")
    units = edit(units)
    (directory / "units.geojson").unlink()
    units.to_file(directory / "units.geojson", driver="GeoJSON")


def test_valid_grid_loads_with_aggregated_measures(grid_dir):
    dataset = load_dataset(grid_dir)
    assert len(dataset.units) == 9
    assert dataset.units.crs.to_epsg() == 4326
    # one account at each cell centre: point-in-polygon puts A{k} into cell k
    assert dataset.accounts.loc["A4", "unit_id"] == "r1c1"
    assert dataset.accounts.loc["A8", "unit_id"] == "r2c2"
    assert (dataset.units["accounts"] == 1).all()
    assert dataset.units.loc["r2c2", "bookings_usd"] == pytest.approx(90.0)
    assert dataset.units["tam_usd"].sum() == pytest.approx(100 * 45)
    assert list(dataset.plan.territories) == ["East", "West"]
    assert dataset.plan.reps_of("West") == ["R1"]
    assert dataset.warnings == ()
    assert dataset.measures[:4] == ["tam_usd", "accounts", "workload_hours", "bookings_usd"]


def test_missing_required_column_names_column_and_fix(grid_dir):
    edit_units(grid_dir, lambda u: u.drop(columns=["tam_usd"]))
    [problem] = errors_of(grid_dir)
    assert problem.file == "units.geojson"
    assert problem.column == "tam_usd"
    assert "missing" in problem.message and "add a 'tam_usd' column" in problem.fix


def test_duplicate_ids_list_every_row(grid_dir):
    def dup(frame):
        frame.loc[3, "account_id"] = "A0"
        frame.loc[5, "account_id"] = "A0"

    edit_csv(grid_dir / "accounts.csv", dup)
    problems = [p for p in errors_of(grid_dir) if "duplicate" in p.message]
    assert len(problems) == 1
    assert problems[0].column == "account_id"
    assert "rows 2, 5, 7" in problems[0].message  # header is row 1


def test_empty_geometry_is_an_error_with_row(grid_dir):
    def empty(units):
        units.loc[4, "geometry"] = shapely.Polygon()
        return units

    edit_units(grid_dir, empty)
    problems = errors_of(grid_dir)
    geometry = [p for p in problems if p.column == "geometry"]
    assert [(p.row, p.file) for p in geometry] == [(6, "units.geojson")]
    assert "empty" in geometry[0].message


def test_non_polygon_geometry_is_an_error(grid_dir):
    def point(units):
        units.loc[0, "geometry"] = shapely.Point(-99.95, 40.05)
        return units

    edit_units(grid_dir, point)
    [problem] = [p for p in errors_of(grid_dir) if p.column == "geometry"]
    assert problem.row == 2 and "Point" in problem.message


def test_invalid_polygon_is_repaired_with_a_warning(grid_dir):
    def bowtie(units):
        x0, y0 = -100.0, 40.0
        units.loc[0, "geometry"] = shapely.Polygon(
            [(x0, y0), (x0 + 0.1, y0 + 0.1), (x0 + 0.1, y0), (x0, y0 + 0.1), (x0, y0)]
        )
        return units

    edit_units(grid_dir, bowtie)
    dataset, problems = check_files([grid_dir])
    assert [p for p in problems if p.severity == "error"] == []
    [warning] = [w for w in dataset.warnings if w.column == "geometry"]
    assert warning.row == 2 and "make_valid" in warning.message
    assert dataset.units.geometry.is_valid.all()
    assert dataset.units.loc["r0c0"].geometry.area == pytest.approx(0.005, rel=1e-6)


def test_missing_crs_is_an_error(grid_dir):
    units = gpd.read_file(grid_dir / "units.geojson").set_crs(None, allow_override=True)
    (grid_dir / "units.geojson").unlink()
    units.to_parquet(grid_dir / "units.parquet")
    [problem] = errors_of(grid_dir)
    assert "coordinate reference system" in problem.message and "EPSG:4326" in problem.fix


def test_projected_coordinates_under_a_geographic_crs_are_reported(grid_dir):
    units = gpd.read_file(grid_dir / "units.geojson").to_crs("EPSG:5070")
    units = units.set_crs("EPSG:4326", allow_override=True)
    (grid_dir / "units.geojson").unlink()
    units.to_parquet(grid_dir / "units.parquet")
    [problem] = errors_of(grid_dir)
    assert "are not degrees, but the CRS says EPSG:4326" in problem.message and "x from" in problem.message


def test_degree_coordinates_under_a_projected_crs_are_an_error_not_a_tiny_box(grid_dir):
    units = gpd.read_file(grid_dir / "units.geojson").set_crs("EPSG:3857", allow_override=True)
    (grid_dir / "units.geojson").unlink()
    units.to_parquet(grid_dir / "units.parquet")
    [problem] = errors_of(grid_dir)
    assert "look like longitude/latitude degrees, but the CRS says EPSG:3857" in problem.message
    assert "EPSG:4326" in problem.fix


def test_units_in_a_projected_crs_are_converted(grid_dir):
    units = gpd.read_file(grid_dir / "units.geojson").to_crs("EPSG:5070")
    (grid_dir / "units.geojson").unlink()
    units.to_file(grid_dir / "units.gpkg", driver="GPKG")
    dataset = load_dataset(grid_dir)
    assert dataset.units.crs.to_epsg() == 4326
    assert dataset.accounts.loc["A4", "unit_id"] == "r1c1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "not a number"),
        ("", "missing value"),
        ("NaN", "missing value"),
        ("-5", "negative"),
        ("inf", "infinite"),
    ],
)
def test_bad_measure_values_name_row_and_column(grid_dir, value, expected):
    edit_csv(
        grid_dir / "accounts.csv",
        lambda f: f.__setitem__("potential_usd", f["potential_usd"].where(f.index != 2, value)),
    )
    [problem] = errors_of(grid_dir)
    assert (problem.file, problem.row, problem.column) == ("accounts.csv", 4, "potential_usd")
    assert expected in problem.message


def test_negative_unit_measure(grid_dir):
    def negative(units):
        units.loc[7, "tam_usd"] = -1.0
        return units

    edit_units(grid_dir, negative)
    [problem] = errors_of(grid_dir)
    assert (problem.row, problem.column) == (9, "tam_usd") and "negative" in problem.message


def test_bad_category_date_and_latitude(grid_dir):
    def bad(frame):
        frame.loc[0, "status"] = "on leave"
        frame.loc[1, "hire_date"] = "31/12/2020"
        frame.loc[2, "home_lat"] = "123"

    edit_csv(grid_dir / "reps.csv", bad)
    problems = {(p.row, p.column): p for p in errors_of(grid_dir)}
    assert "ramping, ramped, leaving" in problems[(2, "status")].fix
    assert "not a date" in problems[(3, "hire_date")].message
    assert "outside [-90, 90]" in problems[(4, "home_lat")].message


def test_account_far_outside_every_unit_is_an_error(grid_dir):
    edit_csv(grid_dir / "accounts.csv", lambda f: f.__setitem__("lat", f["lat"].where(f.index != 1, "10.0")))
    [problem] = errors_of(grid_dir)
    assert (problem.row, problem.column) == (3, "lat")
    assert "falls in no unit" in problem.message and "swapped" in problem.fix


def test_account_just_outside_is_snapped_with_a_warning(grid_dir):
    # 0.005 degrees (~0.55 km) west of the grid's west edge, level with cell r0c0
    edit_csv(
        grid_dir / "accounts.csv", lambda f: f.__setitem__("lon", f["lon"].where(f.index != 0, "-100.005"))
    )
    dataset = load_dataset(grid_dir)
    assert dataset.accounts.loc["A0", "unit_id"] == "r0c0"
    [warning] = dataset.warnings
    assert warning.row == 2 and "placed in r0c0" in warning.message


def test_unknown_ids_across_tables(grid_dir):
    edit_csv(grid_dir / "territory_reps.csv", lambda f: f.__setitem__("territory_id", ["West", "Nowhere"]))
    edit_csv(
        grid_dir / "accounts.csv",
        lambda f: f.__setitem__("owner_rep_id", f["owner_rep_id"].where(f.index != 0, "R9")),
    )
    edit_csv(
        grid_dir / "alignment.csv", lambda f: f.__setitem__("unit_id", f["unit_id"].where(f.index != 8, "zz"))
    )
    problems = {(p.file, p.row, p.column): p for p in errors_of(grid_dir)}
    assert "unknown territory_id 'Nowhere'" in problems[("territory_reps.csv", 3, "territory_id")].message
    assert "unknown owner_rep_id 'R9'" in problems[("accounts.csv", 2, "owner_rep_id")].message
    assert "unknown unit_id 'zz'" in problems[("alignment.csv", 10, "unit_id")].message
    assert "unit 'r2c2' has no territory" in problems[("alignment.csv", None, "unit_id")].message


def test_every_problem_reported_at_once(grid_dir):
    edit_units(grid_dir, lambda u: u.assign(tam_usd=np.where(u.index == 0, -1.0, u["tam_usd"])))
    edit_csv(grid_dir / "reps.csv", lambda f: f.__setitem__("status", "gone"))
    edit_csv(
        grid_dir / "bookings.csv",
        lambda f: f.__setitem__("amount_usd", f["amount_usd"].where(f.index != 0, "ten")),
    )
    with pytest.raises(InputError) as caught:
        load_dataset(grid_dir)
    found = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert ("units.geojson", 2, "tam_usd") in found
    assert {("reps.csv", r, "status") for r in (2, 3, 4)} <= found
    assert ("bookings.csv", 2, "amount_usd") in found
    assert "5 problem(s)" in str(caught.value)


def test_unreadable_and_unknown_files(tmp_path):
    (tmp_path / "units.geojson").write_text("{not json")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    problems = errors_of([tmp_path / "units.geojson", tmp_path / "notes.csv"])
    assert any(p.file == "units.geojson" and "is not a readable GeoJSON file" in p.message for p in problems)
    assert any(p.file == "notes.csv" and "name it after its table" in p.fix for p in problems)
    # No server path and no reader advice meant for programmers.
    assert not [p for p in problems if str(tmp_path) in str(p) or "DRIVER" in str(p)]


@pytest.mark.parametrize("name", ["units.gpkg", "units.parquet", "alignment.csv"])
def test_an_empty_file_is_called_empty(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    [problem] = [p for p in errors_of([tmp_path / name]) if p.file == name]
    assert problem.message == "the file is empty (0 bytes)"


def test_a_path_that_does_not_exist_is_not_found(tmp_path):
    [problem] = errors_of([tmp_path / "nowhere"])
    assert problem.message.startswith("not found:") and "spelling" in problem.fix


def test_many_units_without_a_territory_are_capped_and_the_rest_counted(tmp_path):
    folder = write_grid_dataset(tmp_path / "grid", rows=8, cols=8)
    kept = pd.read_csv(folder / "alignment.csv", dtype=str).iloc[60:]
    kept.to_csv(folder / "alignment.csv", index=False)
    problems = [p for p in errors_of(folder) if "no territory" in p.message]
    assert len(problems) == 51 and sum("has no territory" in p.message for p in problems) == 50
    assert problems[-1].message.startswith("and 10 more units have no territory (60 in all")


def test_missing_required_table_raises(grid_dir):
    (grid_dir / "alignment.csv").unlink()
    with pytest.raises(InputError, match="no alignment file found"):
        load_dataset(grid_dir)


def test_accounts_placed_by_unit_id_when_no_coordinates(grid_dir):
    def by_unit(frame):
        frame["unit_id"] = [f"r{k // 3}c{k % 3}" for k in range(9)]
        del frame["lat"], frame["lon"]

    edit_csv(grid_dir / "accounts.csv", by_unit)
    dataset = load_dataset(grid_dir)
    assert dataset.accounts.loc["A5", "unit_id"] == "r1c2"
    assert (dataset.units["accounts"] == 1).all()
