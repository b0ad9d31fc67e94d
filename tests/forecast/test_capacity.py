"""Capacity model: hand-computed cases, validation errors, and monotonicity properties."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.data.demo import load_demo
from planner.forecast.capacity import (
    CapacityInputError,
    CapacityInputs,
    current_reps,
    plan_capacity,
    plan_months,
    plan_scenarios,
    scenario_table,
    spread_target,
)

MONTHS = plan_months("2027-01", 4)


def three_reps(**overrides) -> CapacityInputs:
    """A ramped rep, a rep starting in the first month, one in tenure month 2 who leaves after February."""
    values = {
        "target_usd": spread_target(8000.0, MONTHS),
        "hire_dates": pd.Series(
            pd.to_datetime(["2020-01-06", "2027-01-11", "2026-12-01"]),
            index=["A", "B", "C"],
            name="hire_date",
        ),
        "ramp_frac": (0.25, 0.5, 1.0),
        "ramped_monthly_usd": 1000.0,
        "attainment_frac": 0.8,
        "attrition_monthly_frac": 0.0,
        "backfill_months": 1,
        "leave_months": {"C": "2027-02"},
    }
    return CapacityInputs(**(values | overrides))


def test_three_reps_three_month_ramp_one_leaver_matches_hand_computation():
    result = plan_capacity(three_reps())
    table = result.by_month
    # Jan: A 1 + B 0.25 + C 0.5; Feb: 1 + 0.5 + 1 (C leaves after Feb); Mar: 1 + 1;
    # Apr: 1 + 1 + backfill of C in tenure month 1 (seat empty in March) 0.25.
    assert table["ramped_equivalent"].tolist() == pytest.approx([1.75, 2.5, 2.0, 2.25])
    assert table["headcount"].tolist() == pytest.approx([3, 3, 2, 3])
    assert table["departures"].tolist() == pytest.approx([0, 1, 0, 0])
    assert table["backfills_starting"].tolist() == pytest.approx([0, 0, 0, 1])
    assert table["capacity_usd"].tolist() == pytest.approx([1400, 2000, 1600, 1800])
    assert table["coverage_frac"].tolist() == pytest.approx([0.7, 1.0, 0.8, 0.9])
    assert table["cumulative_coverage_frac"].iloc[-1] == pytest.approx(6800 / 8000)
    assert result.coverage_frac == pytest.approx(0.85)
    # One hire in January adds (0.25 + 0.5 + 1 + 1) * 800 = 2,200 >= the 1,200 gap.
    assert result.hire_gain_usd.tolist() == pytest.approx([2200, 1400, 600, 200])
    assert result.hires_needed == 1
    assert table["hires_needed"].tolist() == [1, 0, 0, 0]
    assert result.reachable and result.gap_usd == 0
    assert table["capacity_with_hires_usd"].sum() == pytest.approx(6800 + 2200)


def test_hiring_cap_spreads_hires_and_reports_an_unreachable_target():
    big = three_reps(target_usd=spread_target(14000.0, MONTHS), max_hires_per_month=1)
    result = plan_capacity(big)
    # Gap 7,200: 1 hire in Jan (2,200), Feb (1,400), Mar (600), Apr (200) = 4,400 < 7,200.
    assert result.by_month["hires_needed"].tolist() == [1, 1, 1, 1]
    assert not result.reachable
    assert result.gap_usd == pytest.approx(7200 - 4400)
    assert plan_capacity(replace(big, max_hires_per_month=None)).hires_needed == 4  # ceil(7200 / 2200)


def test_attrition_with_immediate_backfill_matches_hand_computation():
    inputs = CapacityInputs(
        target_usd=spread_target(300.0, plan_months("2027-01", 3)),
        hire_dates=pd.Series(pd.to_datetime(["2020-01-01"]), index=["A"]),
        ramp_frac=(0.5, 1.0),
        ramped_monthly_usd=100.0,
        attrition_monthly_frac=0.1,
        backfill_months=0,
    )
    table = plan_capacity(inputs).by_month
    # Feb: 0.9 stay + 0.1 backfill at half speed; Mar: 0.81 + 0.09 (ramped) + 0.1 new at half.
    assert table["capacity_usd"].tolist() == pytest.approx([100, 95, 95])
    assert table["headcount"].tolist() == pytest.approx([1, 1, 1])


def test_planned_hires_add_capacity_from_their_start_month():
    with_hire = plan_capacity(three_reps(planned_hires={"2027-03": 2}))
    base = plan_capacity(three_reps())
    extra = with_hire.by_month["capacity_usd"] - base.by_month["capacity_usd"]
    assert extra.tolist() == pytest.approx([0, 0, 2 * 0.25 * 800, 2 * 0.5 * 800])
    assert with_hire.by_month["planned_hires"].tolist() == [0, 0, 2, 0]


def test_scenarios_order_best_base_worst():
    scenarios = plan_scenarios(
        three_reps(attrition_monthly_frac=0.02), attrition_range=(0.0, 0.05), attainment_range=(0.7, 0.9)
    )
    capacity = {name: result.capacity_usd for name, result in scenarios.items()}
    assert capacity["best"] > capacity["base"] > capacity["worst"]
    table = scenario_table(scenarios)
    assert list(table.index) == ["best", "base", "worst"]
    assert table.loc["worst", "hires_needed"] >= table.loc["best", "hires_needed"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"attrition_monthly_frac": 1.5}, "attrition_monthly_frac must be a rate between 0 and 1"),
        ({"attrition_monthly_frac": -0.1}, "attrition_monthly_frac must be a rate between 0 and 1"),
        ({"attainment_frac": 1.2}, "attainment_frac must be a rate between 0 and 1"),
        ({"ramp_frac": (0.2, 0.6, 0.9)}, "ends at 90%, not 100%"),
        ({"ramp_frac": ()}, "ramp curve is empty"),
        ({"ramp_frac": (0.5, 0.3, 1.0)}, "falls in tenure month 2"),
        ({"ramp_frac": (0.5, 1.2, 1.0)}, "ramp share of tenure month 2 must be a rate between 0 and 1"),
        ({"planned_hires": {"2027-02": -1}}, "headcount must be a whole number 0 or more"),
        ({"planned_hires": {"2028-02": 1}}, "outside the plan's months"),
        ({"max_hires_per_month": -2}, "max_hires_per_month must be a whole number"),
        ({"backfill_months": -1}, "backfill_months must be a whole number 0 or more"),
        ({"ramped_monthly_usd": -5.0}, "ramped_monthly_usd must be 0 or more"),
        ({"target_usd": pd.Series(dtype=float)}, "the target has no months"),
        ({"leave_months": {"Z": "2027-01"}}, "unknown reps ['Z']"),
        ({"hire_dates": pd.Series(["not a date"], index=["A"])}, "no valid hire date"),
    ],
)
def test_invalid_inputs_give_clear_errors(overrides, message):
    with pytest.raises(CapacityInputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        three_reps(**overrides)


def test_target_with_no_months_and_bad_scenario_ranges_are_rejected():
    with pytest.raises(CapacityInputError, match="the target has no months"):
        spread_target(1_000_000.0, [])
    with pytest.raises(CapacityInputError, match="YYYY-MM"):
        plan_months("January", 12)
    with pytest.raises(CapacityInputError, match=r"attrition_range low 0\.05 is above its high 0\.01"):
        plan_scenarios(three_reps(), attrition_range=(0.05, 0.01), attainment_range=(0.7, 0.9))
    with pytest.raises(CapacityInputError, match="attainment_range high must be a rate between 0 and 1"):
        plan_scenarios(three_reps(), attrition_range=(0.0, 0.01), attainment_range=(0.7, 1.3))


def test_spread_target_follows_weights():
    target = spread_target(1200.0, plan_months("2027-01", 3), [1, 2, 3])
    assert target.tolist() == pytest.approx([200, 400, 600])
    assert list(target.index) == ["2027-01", "2027-02", "2027-03"]


def test_demo_reps_leave_out_managers_and_mark_leavers():
    demo = load_demo()
    hire_dates, leaving = current_reps(demo.reps, "2026-11")
    assert len(hire_dates) == 50
    assert len(leaving) == (demo.reps["status"] == "leaving").sum() == 2
    assert set(leaving.values()) == {"2026-11"}


ramps = st.lists(st.floats(0, 1), min_size=0, max_size=5).map(lambda xs: (*sorted(xs), 1.0))
rates = st.floats(0, 0.3)


@settings(max_examples=40, deadline=None)
@given(ramp=ramps, low=rates, high=rates, backfill=st.integers(0, 3), hires=st.integers(0, 3))
def test_more_attrition_never_increases_capacity(ramp, low, high, backfill, hires):
    low, high = min(low, high), max(low, high)
    inputs = three_reps(ramp_frac=ramp, backfill_months=backfill, planned_hires={"2027-02": hires})
    calm = plan_capacity(replace(inputs, attrition_monthly_frac=low)).by_month["capacity_usd"]
    stormy = plan_capacity(replace(inputs, attrition_monthly_frac=high)).by_month["capacity_usd"]
    assert (stormy <= calm + 1e-6).all()


@settings(max_examples=40, deadline=None)
@given(
    ramp=ramps,
    rate=rates,
    backfill=st.integers(0, 3),
    month=st.sampled_from(MONTHS),
    before=st.integers(0, 4),
    more=st.integers(0, 4),
)
def test_more_hires_never_reduce_capacity(ramp, rate, backfill, month, before, more):
    inputs = three_reps(ramp_frac=ramp, attrition_monthly_frac=rate, backfill_months=backfill)
    fewer = plan_capacity(replace(inputs, planned_hires={month: before})).by_month["capacity_usd"]
    extra = plan_capacity(replace(inputs, planned_hires={month: before + more})).by_month["capacity_usd"]
    assert (extra >= fewer - 1e-6).all()


def test_capacity_command_prints_scenarios_and_writes_csv(grid_dir, tmp_path):
    from typer.testing import CliRunner

    from planner.cli.main import app

    out = tmp_path / "capacity.csv"
    args = ["capacity", str(grid_dir), "--target-usd", "1000", "--ramped-annual-usd", "600", "--months", "2"]
    args += ["--ramp", "0.5,1", "--attrition", "0", "--attrition-range", "0:0", "--attainment", "1"]
    args += ["--attainment-range", "1:1", "--backfill-months", "0", "--even", "--out", str(out)]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    # Bookings end in 2026-06: the plan is July and August 2026. R1 (ramped) books 50 a month;
    # R2 starts in September, the manager carries no quota: 100 of a 1,000 target.
    assert "Capacity: base" in result.output and "Scenarios" in result.output
    written = pd.read_csv(out)
    base = written[written["scenario"] == "base"]
    assert base["month"].tolist() == ["2026-07", "2026-08"]
    assert base["capacity_usd"].tolist() == pytest.approx([50, 50])
    assert base["target_usd"].tolist() == pytest.approx([500, 500])
    # Hires in July add 0.5 + 1 = 1.5 months of 50: ceil(900 / 75) = 12.
    assert base["hires_needed"].tolist() == [12, 0]
    bad = CliRunner().invoke(app, [*args[:-2], "--ramp", "0.5,0.9"], terminal_width=200)
    assert bad.exit_code == 1 and "not 100%" in bad.output


def test_a_data_set_without_reps_has_no_current_reps():
    hire_dates, leaving = current_reps(pd.DataFrame().rename_axis("rep_id"), "2027-01")
    assert hire_dates.empty and leaving == {}
    inputs = three_reps(hire_dates=hire_dates, leave_months={}, planned_hires={"2027-01": 1})
    assert plan_capacity(inputs).by_month["ramped_equivalent"].tolist() == pytest.approx([0.25, 0.5, 1, 1])


def test_the_page_and_the_cli_show_the_numbers_of_plan_capacity_for(grid_dir, tmp_path, monkeypatch):
    """Page and CLI each make one call to plan_capacity_for and show its numbers, the same for one request."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    from typer.testing import CliRunner

    import planner.cli.forecast
    import planner.forecast.capacity
    from planner.cli.main import app
    from planner.data.dataset import load_dataset
    from planner.forecast.capacity import CapacityPlan, CapacityRequest, plan_capacity_for
    from planner.money import format_usd

    calls: list[tuple[CapacityRequest, CapacityPlan]] = []

    def spy(dataset, request, **kwargs) -> CapacityPlan:
        result = plan_capacity_for(dataset, request, **kwargs)
        calls.append((request, result))
        return result

    # The page imports plan_capacity_for on every run; the CLI module imported it once.
    monkeypatch.setattr(planner.forecast.capacity, "plan_capacity_for", spy)
    monkeypatch.setattr(planner.cli.forecast, "plan_capacity_for", spy)
    dataset = load_dataset(grid_dir)

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)
    at.session_state["terrain.dataset"] = dataset
    at.session_state["terrain.dataset_token"] = "upload-grid"
    at.session_state["terrain.dataset_label"] = "3x3 grid"
    at.run()
    at.switch_page("app_pages/capacity.py").run()
    at.number_input(key="cap_target_musd").set_value(1.0).run()
    at.number_input(key="cap_quota_musd").set_value(0.6).run()
    assert not at.exception, at.exception
    calls_by_page = len(calls)
    assert calls_by_page == 3  # one call per run of the page
    request, shown = calls[-1]
    assert request.target_usd == 1_000_000 and request.ramped_annual_usd == 600_000
    assert request.start_month == "2026-07" and request.n_months == 12  # bookings end in 2026-06
    # The page shows that call's numbers, and the call is repeatable.
    again = plan_capacity_for(dataset, request)
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["Target (sidebar assumption)"]
        == format_usd(usd=again.base.target_usd, decimals=1, scale=" M")
        == "$1.0 M"
    )
    assert metrics["Capacity (base)"] == format_usd(usd=again.base.capacity_usd, decimals=1, scale=" M")
    assert int(metrics["Extra hires needed (base)"]) == again.base.hires_needed > 0
    [scenario_frame] = [t.value for t in at.dataframe if t.value.index.tolist() == ["best", "base", "worst"]]
    pd.testing.assert_frame_equal(scenario_frame, again.summary(), check_names=False)
    pd.testing.assert_frame_equal(shown.summary(), again.summary())
    [by_month_frame] = [t.value for t in at.dataframe if "capacity_with_hires_usd" in t.value.columns]
    pd.testing.assert_frame_equal(by_month_frame, again.base.by_month, check_names=False)

    # The same request on the command line: one call, the same numbers in its CSV and its table.
    out = tmp_path / "capacity.csv"
    args = ["capacity", str(grid_dir), "--target-usd", repr(request.target_usd)]
    args += ["--ramped-annual-usd", repr(request.ramped_annual_usd), "--start", request.start_month]
    args += ["--months", str(request.n_months), "--ramp", ",".join(map(repr, request.ramp_frac))]
    args += ["--attainment", repr(request.attainment_frac)]
    args += ["--attrition", repr(request.attrition_monthly_frac)]
    args += ["--attainment-range", ":".join(map(repr, request.attainment_range_frac))]
    args += ["--attrition-range", ":".join(map(repr, request.attrition_range_frac))]
    args += ["--backfill-months", str(request.backfill_months), "--seasonal", "--out", str(out)]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert len(calls) == calls_by_page + 1
    cli_request, printed = calls[-1]
    assert cli_request == request
    written = pd.read_csv(out, dtype={"month": str})
    pd.testing.assert_frame_equal(written, again.by_month(), check_dtype=False, rtol=1e-12)
    pd.testing.assert_frame_equal(printed.by_month(), again.by_month())
    first_month = again.base.by_month.iloc[0]
    assert format_usd(usd=first_month["capacity_usd"], decimals=0) in result.output
    assert format_usd(usd=again.summary().loc["worst", "gap_after_hires_usd"], decimals=0) in result.output
