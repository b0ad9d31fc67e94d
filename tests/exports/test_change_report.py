"""The change report between two plans: hand-checked moves, owners, flows, files and invariants."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.data.dataset import load_dataset
from planner.errors import PlanError
from planner.exports.change_report import REPORT_FILES, change_report, write_change_report
from planner.exports.crm import assign_owners
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from tests.conftest import write_grid_dataset


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return load_dataset(write_grid_dataset(tmp_path_factory.mktemp("grid") / "grid"))


def test_one_unit_moving_by_hand(grid):
    # r0c2 (East, TAM 300, account A2 owned by Bo/R2) moves to West (Ann/R1)
    after = grid.plan.move(["r0c2"], "West", name="v2")
    report = change_report(grid.plan, after, grid)
    assert report.before_name == "current" and report.after_name == "v2"
    assert report.summary.loc["units", "moved"] == 1 and report.summary.loc["units", "total"] == 9
    assert report.summary.loc["tam_usd", "moved"] == 300
    assert report.summary.loc["tam_usd", "moved_pct"] == pytest.approx(100 * 300 / 4500)
    assert report.summary.loc["accounts_owner_changed", "moved"] == 1
    assert report.units[["unit_id", "name", "from_territory", "to_territory"]].to_numpy().tolist() == [
        ["r0c2", "Cell 0,2", "East", "West"]
    ]
    account = report.accounts.iloc[0]
    assert (account["account_id"], account["old_owner_name"], account["new_owner_name"]) == (
        "A2",
        "Bo",
        "Ann",
    )
    assert report.flows[["from_territory", "to_territory", "units", "tam_usd"]].to_numpy().tolist() == [
        ["East", "West", 1, 300.0]
    ]
    east, west = report.territories.loc["East"], report.territories.loc["West"]
    assert east["units_out"] == 1 and east["tam_usd_net"] == -300 and east["accounts_lost"] == 1
    assert west["units_in"] == 1 and west["tam_usd_net"] == 300 and west["accounts_gained"] == 1
    assert report.flow_matrix("tam_usd").loc["East", "West"] == 300


def test_markdown_summary(grid):
    report = change_report(grid.plan, grid.plan.move(["r0c2", "r1c2"], "West", name="v2"), grid)
    text = report.to_markdown()
    assert text.startswith("# Realignment: current to v2")
    assert "2 of 9 units (22.2%) change territory, carrying 20.0% of TAM; 2 of 9 accounts (22.2%)" in text
    assert "| East | West | 2 | 900 |" in text  # largest flows: TAM 300 + 600
    assert "| A2 | Account 2 | Bo | Ann | West |" in text


def test_no_change(grid):
    report = change_report(grid.plan, grid.plan, grid)
    assert report.units.empty and report.accounts.empty and report.flows.empty and report.territories.empty
    assert report.summary["moved"].sum() == 0
    assert "No unit changes territory and no account changes owner." in report.to_markdown()


def test_rep_change_without_unit_moves(grid):
    swapped = Plan(grid.plan.assignment, pd.Series({"R1": "East", "R2": "West"}), name="swap")
    report = change_report(grid.plan, swapped, grid)
    assert report.units.empty and len(report.accounts) == 9
    assert report.summary.loc["accounts_owner_changed", "moved_pct"] == 100


def test_approved_plans_are_accepted(grid):
    quotas = pd.DataFrame({"territory_id": ["West"], "period": ["2027-01"], "quota_cents": [100]})
    before = ApprovedPlan(1, "FY27 v1", date(2027, 1, 1), grid.plan, quotas)
    after = ApprovedPlan(2, "FY27 v2", date(2027, 7, 1), grid.plan.move(["r0c2"], "West"), quotas)
    report = change_report(before, after, grid, measures=["tam_usd"])
    assert (report.before_name, report.after_name) == ("FY27 v1", "FY27 v2")
    assert list(report.flows.columns) == ["from_territory", "to_territory", "units", "tam_usd"]


def test_files_round_trip(grid, tmp_path):
    report = change_report(grid.plan, grid.plan.move(["r0c2", "r2c0"], "West").move(["r2c0"], "East"), grid)
    written = write_change_report(report, tmp_path)
    assert sorted(p.name for p in written) == sorted(n for names in REPORT_FILES.values() for n in names)
    accounts = pd.read_csv(tmp_path / "change_accounts.csv", dtype=str)
    pd.testing.assert_frame_equal(accounts, report.accounts.astype(str))
    flows = pd.read_csv(tmp_path / "change_flows.csv", dtype={"from_territory": str, "to_territory": str})
    pd.testing.assert_frame_equal(flows, report.flows, check_dtype=False)
    workbook = pd.read_excel(tmp_path / "change_report.xlsx", sheet_name=None)
    assert list(workbook) == ["Summary", "Accounts", "Units", "Flows", "Territories"]
    assert len(workbook["Units"]) == len(report.units) == 2
    assert (tmp_path / "change_report.md").read_text() == report.to_markdown()


def test_bad_inputs(grid, tmp_path):
    other = Plan(pd.Series({"x": "A"}), name="elsewhere")
    with pytest.raises(PlanError, match="plan 'elsewhere' covers other units than the data set"):
        change_report(grid.plan, other, grid)
    with pytest.raises(PlanError, match=r"unknown measure\(s\) \['revenue'\]"):
        change_report(grid.plan, grid.plan, grid, measures=["revenue"])
    report = change_report(grid.plan, grid.plan, grid)
    with pytest.raises(PlanError, match="no measure 'revenue' in the flows"):
        report.flow_matrix("revenue")
    with pytest.raises(PlanError, match=r"unknown report format\(s\) \['pdf'\]"):
        write_change_report(report, tmp_path, ["pdf"])
    assert not list(tmp_path.iterdir())


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(["West", "East", "North"]), min_size=9, max_size=9))
def test_report_invariants(grid, labels):
    after = Plan(pd.Series(labels, index=grid.plan.units), grid.plan.territory_reps, name="random")
    report = change_report(grid.plan, after, grid)
    moved = grid.plan.assignment != after.assignment
    assert len(report.units) == moved.sum()
    assert report.flows["tam_usd"].sum() == pytest.approx(grid.units.loc[moved[moved].index, "tam_usd"].sum())
    assert report.territories["units_net"].sum() == 0
    assert report.territories["tam_usd_net"].sum() == pytest.approx(0)
    old, new = assign_owners(grid.accounts, grid.plan), assign_owners(grid.accounts, after)
    assert set(report.accounts["account_id"]) == set(old.index[old != new])
    assert (report.flows["from_territory"] != report.flows["to_territory"]).all()


def test_html_summary_is_standalone_and_escaped(grid):
    names = Plan(grid.plan.assignment, grid.plan.territory_reps, name="<v1 & co>")
    report = change_report(names, grid.plan.move(["r0c2"], "West", name="v2"), grid)
    page = report.to_html()
    assert (
        page.startswith("<!DOCTYPE html>") and "<title>Realignment: &lt;v1 &amp; co&gt; to v2</title>" in page
    )
    assert "1 of 9 units (11.1%) change territory" in page and "<td>Account 2</td>" in page
    assert "http" not in page  # no external assets
