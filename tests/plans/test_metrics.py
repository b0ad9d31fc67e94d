"""Plan metrics against hand-computed values on small grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.data.adjacency import build_adjacency
from planner.plans.metrics import (
    balance_summary,
    contiguity_pieces,
    contiguity_violations,
    deviations,
    group_deviation,
    plan_report,
    polsby_popper,
    territory_neighbors,
    territory_totals,
)
from planner.plans.plan import Plan
from tests.conftest import grid_units


@pytest.fixture
def units():
    frame = grid_units(2, 2).set_index("unit_id")
    frame["tam_usd"] = [100.0, 200.0, 300.0, 400.0]  # r0c0, r0c1, r1c0, r1c1
    return frame


def test_balance_by_hand(units):
    plan = Plan(pd.Series(["A", "A", "B", "B"], index=units.index))  # A = 300, B = 700, mean 500
    summary = balance_summary(plan, units, {"tam_usd": 0.5})
    row = summary.loc["tam_usd"]
    assert row["max_abs_dev"] == pytest.approx(0.4)
    assert row["range"] == pytest.approx(0.8)
    assert row["cv"] == pytest.approx(200 / 500)  # population std of (300, 700) is 200
    assert row["share_within_tol"] == pytest.approx(1.0)
    assert balance_summary(plan, units, {"tam_usd": 0.3}).loc["tam_usd", "share_within_tol"] == 0.0


def test_balance_is_judged_per_rep(units):
    plan = Plan(pd.Series(["A", "B", "B", "B"], index=units.index))  # A = 100, B = 900 with 3 reps
    reps = pd.Series({"A": 1.0, "B": 3.0})
    dev = deviations(territory_totals(plan, units, ["tam_usd"]), reps)
    # per-rep fair share 1000 / 4 = 250: A 100 -> -60%, B 900 / 3 = 300 -> +20%
    assert dev.loc["A", "tam_usd"] == pytest.approx(-0.6)
    assert dev.loc["B", "tam_usd"] == pytest.approx(0.2)


def test_contiguity_counts_pieces(units):
    adjacency = build_adjacency(grid_units(1, 3).set_index("unit_id"))
    line = grid_units(1, 3).set_index("unit_id")
    plan = Plan(pd.Series(["A", "B", "A"], index=line.index))
    assert contiguity_pieces(plan, adjacency).to_dict() == {"A": 2, "B": 1}
    assert contiguity_violations(plan, adjacency) == 1


def test_polsby_popper_of_a_rectangle(units):
    plan = Plan(pd.Series(["A"] * 4, index=units.index))
    pp = polsby_popper(plan, units)["A"]
    # a 0.2 x 0.2 degree block at 40N is about 17.0 x 22.2 km: PP = 4 pi w h / (2 (w + h))^2
    w, h = 0.2 * 111.32 * np.cos(np.radians(40.1)), 0.2 * 110.95
    assert pp == pytest.approx(np.pi * w * h / (w + h) ** 2, rel=0.01)


def test_report_disruption_and_travel(units):
    adjacency = build_adjacency(units)
    before = Plan(pd.Series(["A", "A", "B", "B"], index=units.index))
    after = before.move(["r0c1"], "B")
    homes = pd.DataFrame({"x_km": [0.0], "y_km": [0.0]}, index=["A"])
    report = plan_report(
        after, units, adjacency, {"tam_usd": 0.1}, reference=before, territory_homes_km=homes
    )
    assert report.disruption["units"] == pytest.approx(0.25)
    assert report.disruption["tam_usd"] == pytest.approx(0.2)
    assert report.contiguity_violations == 0
    assert list(report.travel.index) == ["A"]
    assert set(report.summary()) >= {
        "tam_usd_max_abs_dev",
        "contiguity_violations",
        "moved_tam_usd",
        "travel_max_km",
    }


def test_territory_neighbors_and_group_deviation_by_hand():
    line = grid_units(1, 4).set_index("unit_id")
    line["tam_usd"] = [100.0, 100.0, 300.0, 300.0]
    adjacency = build_adjacency(line)
    plan = Plan(pd.Series(["A", "B", "C", "C"], index=line.index))
    assert territory_neighbors(plan, adjacency) == {"A": ["B"], "B": ["A", "C"], "C": ["B"]}
    reps = pd.Series({"A": 1.0, "B": 1.0, "C": 2.0})
    dev = deviations(territory_totals(plan, line, ["tam_usd"]), reps)
    # fair share 800 / 4 = 200 per rep: A and B hold 100 each, -50% per rep together;
    # B and C hold 700 for 3 reps, +16.7%; all three hold exactly their share.
    assert group_deviation(dev, reps, ["A", "B"])["tam_usd"] == pytest.approx(-0.5)
    assert group_deviation(dev, reps, ["B", "C"])["tam_usd"] == pytest.approx(700 / 600 - 1)
    assert group_deviation(dev, reps, ["A", "B", "C"])["tam_usd"] == pytest.approx(0.0)


def test_transport_floor_is_the_sum_of_excesses_and_no_plan_moves_less():
    from planner.plans.metrics import transport_floor

    # A line of 4 units (TAM 1, 1, 1, 5) in territories A = {0, 1, 2} (3) and B = {3} (5):
    # a fair share is 4, B holds 1 too much; within 10% (4.4) it holds 0.6 too much.
    units = pd.DataFrame({"tam_usd": [1.0, 1.0, 1.0, 5.0]}, index=pd.Index(list("wxyz"), name="unit_id"))
    plan = Plan(pd.Series(["A", "A", "A", "B"], index=units.index))
    reps = pd.Series({"A": 1, "B": 1})
    assert transport_floor(plan, units, "tam_usd", reps) == pytest.approx(1 / 8)
    assert transport_floor(plan, units, "tam_usd", reps, tolerance_frac=0.1) == pytest.approx(0.6 / 8)
    # Balanced plans need nothing moved.
    even = Plan(pd.Series(["A", "A", "A", "A"], index=units.index))
    assert transport_floor(even, units, "tam_usd", pd.Series({"A": 1})) == 0.0
