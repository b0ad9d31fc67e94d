"""Exports of an approved plan: hand-checked tables, files re-read and compared, atomic writes, bad input."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import planner.exports.formats as exports
from planner.cli.main import app
from planner.data.dataset import load_dataset
from planner.errors import InputError, PlanError
from planner.exports.crm import account_assignments, assign_owners
from planner.exports.formats import (
    export_plan,
    format_cents,
    parse_cents,
    quota_table,
    read_excel_quotas,
    read_territories_csv,
    territory_table,
)
from planner.exports.inputs import approved_from_files, demo_quotas, read_quota_file
from planner.plans.approved import ApprovedPlan
from planner.plans.dissolve import dissolve_territories
from planner.plans.files import read_plan, write_plan
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine
from tests.conftest import grid_units

QUOTAS = pd.DataFrame(
    {
        "territory_id": ["West", "West", "East", "East"],
        "period": ["2027-Q1", "2027-Q2", "2027-Q1", "2027-Q2"],
        "quota_cents": [1_000_050, 999_999, 5, 0],
    }
)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    from tests.conftest import write_grid_dataset

    return load_dataset(write_grid_dataset(tmp_path_factory.mktemp("grid") / "grid"))


@pytest.fixture(scope="module")
def approved(grid) -> ApprovedPlan:
    return ApprovedPlan(
        version_id=3,
        name="FY2027 v3",
        effective_from=date(2027, 1, 1),
        plan=grid.plan,
        quotas=QUOTAS,
        approved_by="alice",
        approved_at=datetime(2026, 11, 20, 9, 30),
    )


def test_territory_table_by_hand(approved, grid):
    table = territory_table(approved, grid)
    assert list(table.index) == ["East", "West"]
    west, east = table.loc["West"], table.loc["East"]
    # West holds columns 0-1 of the 3x3 grid (cells k = 0,1,3,4,6,7), TAM = 100 * (k + 1)
    assert west["units"] == 6 and east["units"] == 3
    assert west["tam_usd"] == 100 * (1 + 2 + 4 + 5 + 7 + 8) and east["tam_usd"] == 100 * (3 + 6 + 9)
    assert west["rep_ids"] == "R1" and west["rep_names"] == "Ann"
    assert west["manager_ids"] == "M1" and west["manager_names"] == "Cy"
    assert west["quota_2027_q1_cents"] == 1_000_050 and west["quota_2027_q2_cents"] == 999_999
    assert west["annual_quota_cents"] == 2_000_049 and east["annual_quota_cents"] == 5
    assert table["annual_quota_cents"].dtype == np.int64


def test_rates_are_not_summed(approved, grid):
    units = grid.units.assign(unemployment_pct=5.0)
    table = territory_table(approved, type(grid)(units, grid.accounts, grid.reps, grid.bookings, grid.plan))
    assert "unemployment_pct" not in table.columns


def test_money_text_is_exact():
    assert format_cents(123_450) == "1234.50" and format_cents(-5) == "-0.05" and format_cents(0) == "0.00"
    assert parse_cents("$1,234.5") == 123_450
    with pytest.raises(ValueError, match="fractions of a cent"):
        parse_cents("0.001")
    with pytest.raises(ValueError, match="not an amount"):
        parse_cents("ten")


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_text_round_trips(cents):
    assert parse_cents(format_cents(cents)) == cents


@pytest.fixture(scope="module")
def exported(approved, grid, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    export_plan(approved, grid, out)
    return out


def test_every_format_is_written(exported):
    assert {p.name for p in exported.iterdir()} == {
        "territories.csv",
        "quotas.csv",
        "hierarchy.csv",
        "plan.xlsx",
        "territories.geojson",
        "plan.gpkg",
        "account_assignments.csv",
    }


def test_csv_round_trip(exported, approved, grid):
    again = read_territories_csv(exported / "territories.csv")
    expected = territory_table(approved, grid)
    pd.testing.assert_frame_equal(again, expected, check_dtype=False)
    text = (exported / "territories.csv").read_text()
    assert "10000.50" in text and "annual_quota_usd" in text  # exact dollars, not floats
    quotas = pd.read_csv(exported / "quotas.csv", dtype=str)
    assert quotas.columns.tolist() == ["territory_id", "rep_ids", "line", "unit", "period", "quota"]
    assert quotas["quota"].tolist()[-2:] == ["10000.50", "9999.99"]  # exact dollars
    back = read_quota_file(exported / "quotas.csv", approved.plan)
    pd.testing.assert_frame_equal(
        back, quota_table(approved)[["territory_id", "line", "unit", "period", "quota_cents"]]
    )


def test_a_plan_with_several_lines_exports_each_in_its_unit_and_reads_back_exactly(approved, grid, tmp_path):
    deals = QuotaLine("new_logos", unit="deals", potential="accounts")
    quotas = pd.concat(
        [QUOTAS.assign(line="bookings"), QUOTAS.assign(line="new_logos", quota_cents=[300, 100, 0, 200])]
    )
    lines = ApprovedPlan(3, "FY2027 lines", date(2027, 1, 1), grid.plan, quotas, lines=(QuotaLine(), deals))
    export_plan(lines, grid, tmp_path, ["csv", "xlsx"])
    table = read_territories_csv(tmp_path / "territories.csv")
    assert table.loc["West", "bookings_annual_quota_cents"] == 1_000_050 + 999_999
    assert table.loc["West", "new_logos_annual_quota_deals"] == 4  # whole deals, not hundredths
    assert table.loc["East", "new_logos_quota_2027_q2_deals"] == 2
    text = pd.read_csv(tmp_path / "quotas.csv", dtype=str)
    assert text.loc[text["line"] == "new_logos", "quota"].tolist() == ["0", "2", "3", "1"]
    assert set(text.loc[text["line"] == "new_logos", "unit"]) == {"deals"}
    back = read_quota_file(tmp_path / "quotas.csv", grid.plan)
    pd.testing.assert_frame_equal(
        back, quota_table(lines)[["territory_id", "line", "unit", "period", "quota_cents"]]
    )
    pd.testing.assert_frame_equal(read_excel_quotas(tmp_path / "plan.xlsx"), quota_table(lines))
    again = approved_from_files(grid, None, tmp_path / "quotas.csv")  # what planner comp/export --quotas read
    assert again.lines == (QuotaLine(), QuotaLine("new_logos", unit="deals"))
    order = ["territory_id", "line", "period"]
    pd.testing.assert_frame_equal(
        again.quotas.sort_values(order, ignore_index=True), lines.quotas.sort_values(order, ignore_index=True)
    )
    tree = pd.read_csv(tmp_path / "hierarchy.csv", dtype={"quota": str})
    company = tree[tree["level"] == "company"].set_index("line")
    assert company.loc["new_logos", "quota"] == "6" and company.loc["bookings", "quota"] == "20000.54"
    with pytest.raises(PlanError, match="unknown lines \\['upsell'\\]"):
        ApprovedPlan(
            3, "x", date(2027, 1, 1), grid.plan, quotas.assign(line="upsell"), lines=(QuotaLine(), deals)
        )
    with pytest.raises(PlanError, match="line new_logos counts whole units"):
        ApprovedPlan(
            3, "x", date(2027, 1, 1), grid.plan, quotas.assign(quota_cents=150), lines=(QuotaLine(), deals)
        )


def test_excel_round_trip_and_formats(exported, approved, grid):
    pd.testing.assert_frame_equal(read_excel_quotas(exported / "plan.xlsx"), quota_table(approved))
    book = openpyxl.load_workbook(exported / "plan.xlsx")
    assert book.sheetnames == ["README", "Territories", "Quotas", "Hierarchy", "Accounts"]
    meta = {row[0]: row[1] for row in book["README"].iter_rows(min_row=2, values_only=True)}
    assert meta["plan"] == "FY2027 v3" and meta["version_id"] == "3" and meta["approved_by"] == "alice"
    assert meta["effective_from"] == "2027-01-01" and meta["approved_at"] == "2026-11-20T09:30:00"
    sheet = book["Territories"]
    header = [c.value for c in sheet[1]]
    annual = sheet.cell(row=3, column=header.index("annual_quota_usd") + 1)
    assert sheet.cell(row=3, column=1).value == "West"
    assert annual.value == pytest.approx(20000.49) and annual.number_format == exports.CURRENCY_FORMAT
    tam = sheet.cell(row=3, column=header.index("tam_usd") + 1)
    assert tam.value == 2700 and tam.number_format == exports.WHOLE_CURRENCY_FORMAT
    accounts = pd.read_excel(exported / "plan.xlsx", sheet_name="Accounts", dtype=str)
    assert len(accounts) == len(grid.accounts)


def test_geojson_round_trip(exported, approved, grid):
    shapes = gpd.read_file(exported / "territories.geojson").set_index("territory_id")
    assert shapes.crs.to_epsg() == 4326
    assert set(shapes.index) == {"East", "West"}
    assert shapes.is_valid.all() and (shapes.geom_type == "Polygon").all()
    # West = columns 0-1: a 0.2 x 0.3 degree rectangle; East = column 2: 0.1 x 0.3
    assert shapes.geometry["West"].area == pytest.approx(0.06) and shapes.geometry[
        "East"
    ].area == pytest.approx(0.03)
    assert shapes.geometry["West"].bounds == pytest.approx((-100.0, 40.0, -99.8, 40.3))
    table = territory_table(approved, grid)
    assert int(shapes.loc["West", "annual_quota_cents"]) == table.loc["West", "annual_quota_cents"]
    assert shapes.loc["East", "rep_names"] == "Bo" and shapes.loc["West", "units"] == 6


def test_geopackage_layers(exported, grid):
    assert sorted(name for name, _ in pyogrio.list_layers(exported / "plan.gpkg")) == ["territories", "units"]
    units = gpd.read_file(exported / "plan.gpkg", layer="units").set_index("unit_id")
    assert len(units) == 9 and units.loc["r0c2", "territory_id"] == "East"
    assert units["tam_usd"].sum() == grid.units["tam_usd"].sum()
    shapes = gpd.read_file(exported / "plan.gpkg", layer="territories")
    assert shapely.area(shapes.geometry.to_numpy()).sum() == pytest.approx(0.09)


def test_crm_file(exported, grid):
    crm = pd.read_csv(exported / "account_assignments.csv", dtype=str, keep_default_na=False)
    assert crm.columns.tolist() == list(account_assignments.__globals__["ASSIGNMENT_COLUMNS"])
    assert len(crm) == 9 and (crm["effective_date"] == "2027-01-01").all()
    a2 = crm.set_index("account_id").loc["A2"]  # cell r0c2: East (Bo, R2)
    assert a2["new_owner_rep_id"] == "R2" and a2["new_owner_name"] == "Bo" and a2["territory_id"] == "East"
    assert (crm["changed"] == "False").all()  # the grid's owners already match its plan


def test_crm_changed_only_lists_moved_accounts(grid, tmp_path):
    moved = ApprovedPlan(1, "v2", date(2027, 1, 1), grid.plan.move(["r0c2"], "West"), QUOTAS)
    export_plan(moved, grid, tmp_path, ["crm"], changed_only=True)
    crm = pd.read_csv(tmp_path / "account_assignments.csv", dtype=str)
    assert crm[["account_id", "old_owner_rep_id", "new_owner_rep_id"]].to_numpy().tolist() == [
        ["A2", "R2", "R1"]
    ]


def test_simplified_geo_files_keep_territories_valid(approved, grid, tmp_path):
    export_plan(approved, grid, tmp_path, ["geojson"], simplify_tolerance_deg=0.01)
    shapes = gpd.read_file(tmp_path / "territories.geojson")
    assert shapes.is_valid.all() and shapely.area(shapes.geometry.to_numpy()).sum() == pytest.approx(0.09)


def test_failed_export_leaves_every_earlier_file_intact(approved, grid, tmp_path, monkeypatch):
    export_plan(approved, grid, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    newer = ApprovedPlan(4, "v4", date(2027, 7, 1), grid.plan.move(["r0c2"], "West"), QUOTAS)

    def crash(territories, units, path):
        path.write_bytes(b"half a geopackage")  # fails midway, after writing part of the file
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_geopackage", crash)
    with pytest.raises(OSError, match="disk full"):
        export_plan(newer, grid, tmp_path)  # csv, xlsx and geojson were written before the crash
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no debris, nothing replaced


def test_failed_rename_keeps_the_previous_file(approved, grid, tmp_path, monkeypatch):
    export_plan(approved, grid, tmp_path, ["csv"])
    before = (tmp_path / "territories.csv").read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    newer = ApprovedPlan(4, "v4", date(2027, 7, 1), grid.plan.move(["r0c2"], "West"), QUOTAS)
    with pytest.raises(OSError):
        export_plan(newer, grid, tmp_path, ["csv"])
    assert (tmp_path / "territories.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hierarchy.csv", "quotas.csv", "territories.csv"]


def test_bad_inputs_are_rejected_clearly(approved, grid, tmp_path):
    with pytest.raises(PlanError, match=r"unknown export format\(s\) \['pdf'\]; choose from csv"):
        export_plan(approved, grid, tmp_path, ["csv", "pdf"])
    other = Plan(pd.Series({"x1": "A"}), name="elsewhere")
    with pytest.raises(PlanError, match="does not fit the data set: 9 unit"):
        export_plan(ApprovedPlan(1, "elsewhere", date(2027, 1, 1), other, QUOTAS.iloc[:0]), grid, tmp_path)
    ghost = Plan(grid.plan.assignment, pd.Series({"R1": "West", "R9": "East"}))
    with pytest.raises(PlanError, match=r"rep\(s\) \['R9'\] missing from the reps table"):
        territory_table(ApprovedPlan(1, "ghost", date(2027, 1, 1), ghost, QUOTAS), grid)
    with pytest.raises(PlanError, match="simplify tolerance must be >= 0"):
        export_plan(approved, grid, tmp_path, ["geojson"], simplify_tolerance_deg=-1)
    assert not list(tmp_path.iterdir())


# -- dissolve --


def test_dissolve_falls_back_to_a_full_union_for_overlaps():
    cells = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1), shapely.box(5, 5, 6, 6)],
        index=pd.Index(["a", "b", "c"], name="unit_id"),
        crs="EPSG:4326",
    )
    out = dissolve_territories(cells, pd.Series({"a": "T1", "b": "T1", "c": "T2"}))
    assert out.loc["T1", "full_union"] and not out.loc["T2", "full_union"]
    assert out.geometry["T1"].area == pytest.approx(3.0) and out.geometry["T1"].is_valid


def test_dissolve_rejects_units_without_territory_or_crs():
    cells = grid_units(2, 2).set_index("unit_id")
    with pytest.raises(PlanError, match="units without a territory"):
        dissolve_territories(cells, pd.Series({"r0c0": "A"}))
    with pytest.raises(PlanError, match="no CRS"):
        dissolve_territories(cells.set_crs(None, allow_override=True), pd.Series("A", index=cells.index))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from("ABCD"), min_size=20, max_size=20))
def test_dissolve_preserves_area_and_validity(labels):
    cells = grid_units(4, 5).set_index("unit_id")
    assignment = pd.Series(labels, index=cells.index)
    out = dissolve_territories(cells, assignment)
    assert out.is_valid.all() and not out["full_union"].any()
    per_territory = (
        pd.Series(shapely.area(cells.geometry.to_numpy()), index=cells.index).groupby(assignment).sum()
    )
    areas = pd.Series(shapely.area(out.geometry.to_numpy()), index=out.index)
    np.testing.assert_allclose(areas.reindex(per_territory.index), per_territory, rtol=1e-9)


# -- CRM owner rule --


def test_multi_rep_territory_owner_rule():
    accounts = pd.DataFrame(
        {"unit_id": ["u1"] * 5 + ["u2"], "owner_rep_id": ["R1", "R3", "", "R9", "", "R1"], "name": "x"},
        index=pd.Index(["A5", "A1", "A2", "A3", "A4", "A6"], name="account_id"),
    )
    plan = Plan(pd.Series({"u1": "T", "u2": "V"}), pd.Series({"R3": "T", "R1": "T"}))
    owners = assign_owners(accounts, plan)
    # kept: A5 (R1) and A1 (R3); dealt in id order to the rep with fewest, ties to the smaller id
    assert owners.to_dict() == {"A5": "R1", "A1": "R3", "A2": "R1", "A3": "R3", "A4": "R1", "A6": ""}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["u1", "u2", "u3"]), st.sampled_from(["", "R1", "R2", "R3", "R4"])),
        min_size=1,
        max_size=25,
    ),
    st.permutations(range(25)),
)
def test_owner_rule_properties(rows, order):
    accounts = pd.DataFrame(
        rows, columns=["unit_id", "owner_rep_id"], index=pd.Index([f"A{i:02d}" for i in range(len(rows))])
    )
    plan = Plan(
        pd.Series({"u1": "T1", "u2": "T2", "u3": "T3"}), pd.Series({"R1": "T1", "R2": "T1", "R3": "T2"})
    )
    owners = assign_owners(accounts, plan)
    reps_of = {"T1": {"R1", "R2"}, "T2": {"R3"}, "T3": set()}
    for account_id, row in accounts.iterrows():
        members = reps_of[plan.assignment[row["unit_id"]]]
        assert owners[account_id] in members or (not members and owners[account_id] == "")
        if row["owner_rep_id"] in members:
            assert owners[account_id] == row["owner_rep_id"]
    shuffled = accounts.iloc[[i for i in order if i < len(accounts)]]
    assert assign_owners(shuffled, plan).sort_index().equals(owners.sort_index())  # order-free
    in_t1 = owners[accounts["unit_id"].map(plan.assignment) == "T1"]
    dealt = in_t1[~accounts.loc[in_t1.index, "owner_rep_id"].isin(["R1", "R2"])]
    if len(dealt) >= 2:
        counts = in_t1.value_counts().reindex(["R1", "R2"], fill_value=0)
        kept = accounts.loc[in_t1.index, "owner_rep_id"].value_counts().reindex(["R1", "R2"], fill_value=0)
        assert abs(counts["R1"] - counts["R2"]) <= max(1, abs(kept["R1"] - kept["R2"]))


def test_old_owner_from_an_old_plan(grid):
    old = grid.plan.move(["r0c2"], "West")
    table = account_assignments(grid.accounts, grid.plan, date(2027, 1, 1), old_plan=old)
    changed = table[table["changed"]]
    assert changed[["account_id", "old_owner_rep_id", "new_owner_rep_id"]].to_numpy().tolist() == [
        ["A2", "R1", "R2"]
    ]


# -- inputs from files --


def test_quota_file_in_dollars_or_cents(grid, tmp_path):
    (tmp_path / "q.csv").write_text(
        'territory_id,period,quota_usd\nWest,2027-01,1000.5\nEast,2027-Q1,"2,000"\n'
    )
    table = read_quota_file(tmp_path / "q.csv", grid.plan)
    assert table["quota_cents"].tolist() == [100_050, 200_000]
    (tmp_path / "c.csv").write_text("territory_id,period,quota_cents\nWest,2027-01,100050\n")
    assert read_quota_file(tmp_path / "c.csv", grid.plan)["quota_cents"].tolist() == [100_050]


def test_quota_file_reports_every_bad_row(grid, tmp_path):
    (tmp_path / "quotas.csv").write_text(
        "territory_id,period,quota_usd\n"
        "West,2027-01,10\n"
        "Nowhere,2027-01,10\n"
        "West,2027-13,10\n"
        "East,2027-02,1.005\n"
        "East,2027-03,-4\n"
        "West,2027-01,11\n"
    )
    with pytest.raises(InputError) as caught:
        read_quota_file(tmp_path / "quotas.csv", grid.plan)
    text = [str(p) for p in caught.value.problems]
    assert any(
        t.startswith("ERROR quotas.csv, row 3, column 'territory_id': unknown territory 'Nowhere'")
        for t in text
    )
    assert any(t.startswith("ERROR quotas.csv, row 4, column 'period': period '2027-13'") for t in text)
    assert any("row 5, column 'quota_usd': '1.005' has fractions of a cent" in t for t in text)
    assert any("row 6, column 'quota_usd': '-4' is negative" in t for t in text)
    assert any(
        "row 7, column 'period': quota for West in 2027-01 given twice (first in row 2)" in t for t in text
    )
    (tmp_path / "both.csv").write_text("territory_id,period,quota_usd,quota_cents\nWest,2027-01,1,100\n")
    with pytest.raises(InputError, match="give exactly one of quota_usd, quota_cents"):
        read_quota_file(tmp_path / "both.csv", grid.plan)


def test_plan_dir_round_trip_and_errors(grid, tmp_path):
    moved = grid.plan.move(["r0c2"], "West")
    write_plan(moved, tmp_path / "v2")
    assert read_plan(tmp_path / "v2", grid.units.index).equals(moved)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "alignment.csv").write_text("unit_id,territory_id\nr0c0,West\nr0c0,East\nzz,West\n")
    with pytest.raises(InputError) as caught:
        read_plan(tmp_path / "bad", grid.units.index)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "row 4, column 'unit_id': unknown unit_id 'zz'" in text
    assert "row 3, column 'unit_id': unit 'r0c0' listed twice" in text
    assert "8 unit(s) of the data set have no territory" in text
    with pytest.raises(InputError, match="file not found"):
        read_plan(tmp_path / "missing", grid.units.index)


def test_demo_quotas_add_up_exactly(grid):
    quotas = demo_quotas(grid.plan, grid.units, 2027)
    total_cents = round(float(grid.units["bookings_usd"].sum()) * 1.1) * 100
    assert quotas["quota_cents"].sum() == total_cents and len(quotas) == 24
    annual = quotas.groupby("territory_id")["quota_cents"].sum()
    tam = grid.units["tam_usd"].groupby(grid.plan.assignment).sum()
    assert abs(annual["West"] - total_cents * tam["West"] / tam.sum()) <= 1
    monthly = quotas.groupby("territory_id")["quota_cents"].agg(["min", "max"])
    assert ((monthly["max"] - monthly["min"]) <= 1).all()  # phased evenly


# -- CLI --


def test_cli_exports_an_optimized_plan_with_quotas(grid_dir, tmp_path):
    data = load_dataset(grid_dir)
    write_plan(data.plan.move(["r0c2"], "West"), tmp_path / "plan-v2")
    (tmp_path / "quotas.csv").write_text(
        "territory_id,period,quota_usd\nWest,2027-01,100\nEast,2027-01,50.25\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "export",
            str(grid_dir),
            "--plan",
            str(tmp_path / "plan-v2"),
            "--quotas",
            str(tmp_path / "quotas.csv"),
            "--out",
            str(tmp_path / "out"),
            "--effective-date",
            "2027-01-01",
            "--changed-only",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "current -> plan-v2: 1 units moved, 1 accounts change owner" in result.output
    out = tmp_path / "out"
    assert read_territories_csv(out / "territories.csv").loc["East", "annual_quota_cents"] == 5025
    crm = pd.read_csv(out / "account_assignments.csv", dtype=str)
    assert crm["account_id"].tolist() == ["A2"]
    assert "1 of 9 units" in (out / "change_report.md").read_text()


def test_cli_rejects_bad_input(grid_dir, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(grid_dir), "--out", str(tmp_path), "--format", "pdf"])
    assert result.exit_code == 2 and "unknown format(s) ['pdf']" in result.output
    (tmp_path / "q.csv").write_text("territory_id,period,quota_usd\nMars,2027-01,1\n")
    result = runner.invoke(
        app,
        ["export", str(grid_dir), "--out", str(tmp_path / "o"), "--quotas", str(tmp_path / "q.csv")],
        terminal_width=300,
    )
    assert result.exit_code == 1 and "unknown territory 'Mars'" in result.output
    assert not (tmp_path / "o").exists()


def test_approved_from_files_defaults(grid):
    approved = approved_from_files(grid, effective_from=date(2027, 2, 1))
    assert approved.plan is grid.plan and approved.name == "current" and approved.quotas.empty
    assert "annual_quota_cents" not in territory_table(approved, grid).columns


def test_data_set_without_accounts_or_reps_exports(grid_dir, tmp_path):
    for name in ("accounts.csv", "bookings.csv", "reps.csv", "territory_reps.csv"):
        (grid_dir / name).unlink()
    bare = load_dataset(grid_dir)
    approved = approved_from_files(bare, effective_from=date(2027, 1, 1))
    export_plan(approved, bare, tmp_path)
    assert pd.read_csv(tmp_path / "account_assignments.csv").empty
    territories = read_territories_csv(tmp_path / "territories.csv")
    assert territories.loc["West", "rep_ids"] == "" and territories.loc["West", "units"] == 6


def test_cli_exports_an_approved_version_from_the_store(grid_dir, tmp_path, monkeypatch):
    import planner.cli.common as cli_common

    data = load_dataset(grid_dir)
    versions = {
        1: ApprovedPlan(1, "FY2026", date(2026, 1, 1), data.plan, QUOTAS),
        2: ApprovedPlan(2, "FY2027", date(2027, 1, 1), data.plan.move(["r0c2", "r1c2"], "West"), QUOTAS),
    }

    class Store:
        def __init__(self, url):
            self.url = url

        def approved_plan(self, version_id):
            if version_id not in versions:
                raise PlanError(f"v{version_id} is proposed, not approved; approve it first")
            return versions[version_id]

    monkeypatch.setattr(cli_common, "PlanStore", Store)
    args = ["export", str(grid_dir), "--db", "sqlite:///x.db", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--version", "2", "--compare-version", "1"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "FY2026 -> FY2027: 2 units moved, 2 accounts change owner" in result.output
    assert read_territories_csv(tmp_path / "out" / "territories.csv").loc["West", "units"] == 8
    result = CliRunner().invoke(app, [*args, "--version", "3"], terminal_width=200)
    assert result.exit_code == 1 and "v3 is proposed, not approved" in result.output


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**13), min_size=4, max_size=4),
    st.sampled_from(["2027-01", "2027-Q3", "2031-12"]),
)
def test_quota_round_trip_through_csv_and_excel(grid, tmp_path_factory, cents, period):
    quotas = pd.DataFrame(
        {
            "territory_id": ["West", "West", "East", "East"],
            "period": [period, "2026-02", period, "2026-02"],
            "quota_cents": cents,
        }
    )
    approved = ApprovedPlan(1, "p", date(2027, 1, 1), grid.plan, quotas)
    out = tmp_path_factory.mktemp("rt")
    export_plan(approved, grid, out, ["csv", "xlsx"])
    pd.testing.assert_frame_equal(
        read_territories_csv(out / "territories.csv"), territory_table(approved, grid), check_dtype=False
    )
    pd.testing.assert_frame_equal(read_excel_quotas(out / "plan.xlsx"), quota_table(approved))


def test_the_hierarchy_export_rolls_quotas_up_to_the_company(exported, approved):
    tree = pd.read_csv(exported / "hierarchy.csv", dtype={"quota": str})
    assert tree["level"].iloc[0] == "company"
    total = sum(parse_cents(v) for v in tree.loc[tree["level"] == "territory", "quota"])
    assert parse_cents(tree["quota"].iloc[0]) == total == int(approved.annual_quota_cents().sum())
    managers = tree[tree["level"] == "manager"]
    for _, manager in managers.iterrows():
        team = tree[tree["parent_id"] == manager["node_id"]]
        assert parse_cents(manager["quota"]) == sum(parse_cents(v) for v in team["quota"])
