"""Quota allocation: hand-computed guardrail, ramp and relief cases, exact sums, clear errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from planner.data.dataset import load_dataset
from planner.data.demo import load_demo
from planner.errors import InfeasibleError, InputError, PlannerError
from planner.money import round_to_total
from planner.plans.approved import check_quota_table
from planner.quota.allocation import QuotaOptions, allocate_quotas, water_fill
from planner.quota.fairness import fairness_report
from planner.quota.inputs import (
    prorated_relief_frac,
    quota_territories,
    rep_ramp_frac,
    territory_bookings_usd,
)
from planner.quota.phasing import phase_quotas, seasonality_from_history


def blend_options(*args, **kwargs) -> QuotaOptions:
    """Options that keep the user's blend as given: these tests check the allocation's arithmetic."""
    return QuotaOptions(*args, **{"fairness": None, **kwargs})


NO_GUARD = blend_options(guardrail_frac=None)


def territories(**columns) -> pd.DataFrame:
    ids = [chr(ord("A") + k) for k in range(len(next(iter(columns.values()))))]
    return pd.DataFrame(columns, index=pd.Index(ids, name="territory_id"))


def three_with_last_year(**extra) -> pd.DataFrame:
    """Shares 0.6 / 0.3 / 0.1, last year's quota 100 cents each."""
    return territories(
        potential_usd=[6.0, 3.0, 1.0], forecast_usd=[6.0, 3.0, 1.0], last_quota_cents=[100, 100, 100], **extra
    )


# --- hand-computed cases -------------------------------------------------------------------------


def test_blend_of_potential_and_forecast_shares():
    # potential shares 0.75 / 0.25, forecast shares 0.5 / 0.5; 50/50 blend = 0.625 / 0.375
    table = territories(potential_usd=[300.0, 100.0], forecast_usd=[100.0, 100.0])
    result = allocate_quotas(1_000_00, table, NO_GUARD)
    assert result.table["share_frac"].tolist() == [0.625, 0.375]
    assert result.quotas_cents.tolist() == [62_500, 37_500]
    weighted = allocate_quotas(1_000_00, table, blend_options(0.2, 0.8, guardrail_frac=None))
    # 0.2 * 0.75 + 0.8 * 0.5 = 0.55
    assert weighted.quotas_cents.tolist() == [55_000, 45_000]


def test_over_assignment_rounds_half_even_in_decimal():
    table = territories(potential_usd=[1.0], forecast_usd=[1.0])
    assert allocate_quotas(1000, table, blend_options(over_assignment_frac=0.10)).total_cents == 1100
    # 1005 * 1.1 = 1105.5 -> 1106 (even); 1015 * 1.1 = 1116.5 -> 1116 (even)
    assert allocate_quotas(1005, table, blend_options(over_assignment_frac=0.10)).total_cents == 1106
    assert allocate_quotas(1015, table, blend_options(over_assignment_frac=0.10)).total_cents == 1116


def test_largest_remainder_gives_leftover_cents_to_largest_fractions():
    table = territories(potential_usd=[1.0, 1.0, 1.0], forecast_usd=[1.0, 1.0, 1.0])
    assert allocate_quotas(100, table, NO_GUARD).quotas_cents.tolist() == [34, 33, 33]
    assert round_to_total(np.array([0.2, 0.7, 2.1]), 3).tolist() == [0, 1, 2]
    assert round_to_total(np.array([[0.5, 0.5], [1.9, 0.1]]), np.array([1, 2])).tolist() == [[1, 0], [2, 0]]


def test_guardrail_caps_and_floors_and_the_rest_carry_the_difference():
    # raw 180 / 90 / 30; bounds [75, 125]: A capped at 125, C floored at 75, B takes 300 - 200 = 100
    result = allocate_quotas(300, three_with_last_year(), blend_options(guardrail_frac=0.25))
    table = result.table
    assert table["raw_cents"].tolist() == [180, 90, 30]
    assert table["guardrail_cents"].tolist() == [125, 100, 75]
    assert table["quota_cents"].tolist() == [125, 100, 75]
    assert table.loc["A", "reason"] == "guardrail: capped at +25% of last year's $1.00"
    assert table.loc["C", "reason"] == "guardrail: floored at -25% of last year's $1.00"
    assert table.loc["B", "reason"].startswith("blend share (potential 50%, forecast 50%)")
    assert "capped 1 and floored 1" in result.notes[0]


def test_guardrail_redistribution_is_proportional_to_share():
    # A capped at 125 (raw 150); 75 more over B and C in proportion 3:1 -> 150 + ... exact:
    # shares 0.6 / 0.3 / 0.1 of 250; A capped at 125, B and C share 125 as 3:1 -> 93.75 / 31.25
    table = three_with_last_year()
    table["last_quota_cents"] = [100.0, None, None]
    result = allocate_quotas(250, table, blend_options(guardrail_frac=0.25))
    assert result.quotas_cents.tolist() == [125, 94, 31]
    assert "no last-year quota, so no guardrail" in result.table.loc["B", "reason"]


def test_ramp_is_redistributed_within_guardrails():
    # After guardrails 125 / 100 / 75. B ramps at 50%: bounds on B become [38, 62] and its
    # share weight halves. A stays capped (125), B is capped at 62, C carries 300 - 187 = 113.
    result = allocate_quotas(300, three_with_last_year(ramp_frac=[1.0, 0.5, 1.0]), blend_options())
    table = result.table
    assert table["guardrail_cents"].tolist() == [125, 100, 75]
    assert table["ramp_cents"].tolist() == [125, 50, 75]
    assert table["quota_cents"].tolist() == [125, 62, 113]
    assert result.total_cents == 300
    assert "ramp: 50% of full productivity" in table.loc["B", "reason"]
    assert any("ramp and relief take $0.50 off" in note for note in result.notes)


def test_ramp_absorbed_by_the_company_shrinks_the_total_and_says_what_covers_it():
    options = blend_options(relief_policy="absorb")
    result = allocate_quotas(300, three_with_last_year(ramp_frac=[1.0, 0.5, 1.0]), options)
    assert result.quotas_cents.tolist() == [125, 50, 75]
    assert result.total_cents == 250
    # 300 / 250 - 1 = 0.2 more over-assignment covers the 50 cents
    assert any("quotas total $2.50" in n and "over_assignment_frac 0.2000" in n for n in result.notes)


def test_relief_is_pro_rated_and_redistributed():
    # equal shares; B uncovered a quarter of the year: weights 0.5 and 0.375 -> 400 / 300 of 700
    table = territories(potential_usd=[1.0, 1.0], forecast_usd=[1.0, 1.0], relief_frac=[0.0, 0.25])
    result = allocate_quotas(700, table, NO_GUARD)
    assert result.quotas_cents.tolist() == [400, 300]
    assert result.table.loc["B", "reason"].endswith("relief: uncovered 25% of the year")


def test_territory_with_no_potential_and_no_forecast_gets_nothing():
    table = territories(potential_usd=[1.0, 0.0], forecast_usd=[1.0, 0.0])
    result = allocate_quotas(500, table, blend_options())
    assert result.quotas_cents.tolist() == [500, 0]
    assert result.table.loc["B", "reason"] == "no potential and no forecast"


# --- infeasible guardrails and bad input ---------------------------------------------------------


def test_infeasible_guardrails_say_by_how_much_and_what_to_relax():
    with pytest.raises(InfeasibleError) as raised:
        allocate_quotas(400, three_with_last_year(), blend_options(guardrail_frac=0.25))
    error = raised.value
    assert error.constraint == "guardrail_frac"
    assert "$4.00 is $0.25 above" in str(error) and "($2.25 to $3.75)" in str(error)
    # (400 + 2 cents of rounding slack per territory) / 300 - 1 = 0.35333: the suggestion works
    assert "raise guardrail_frac to at least 0.3534" in error.suggestion
    assert "at most $3.75" in error.suggestion
    assert (
        allocate_quotas(400, three_with_last_year(), blend_options(guardrail_frac=0.3534)).total_cents == 400
    )
    with pytest.raises(InfeasibleError, match=r"\$0.25 below") as raised:
        allocate_quotas(200, three_with_last_year(), blend_options(guardrail_frac=0.25))
    assert "at least $2.25" in raised.value.suggestion


def test_infeasible_after_ramp_suggests_absorbing():
    # fully relieved B: the others can take at most 125 + 125 = 250 < 300
    table = three_with_last_year(relief_frac=[0.0, 1.0, 0.0])
    with pytest.raises(InfeasibleError, match="ramp-adjusted quota total") as raised:
        allocate_quotas(300, table, blend_options(guardrail_frac=0.25))
    assert "relief_policy='absorb'" in raised.value.suggestion
    assert allocate_quotas(300, table, blend_options(relief_policy="absorb")).quotas_cents.tolist() == [
        125,
        0,
        75,
    ]


def test_nobody_with_capacity_is_infeasible():
    table = territories(potential_usd=[1.0], forecast_usd=[1.0], ramp_frac=[0.0])
    with pytest.raises(InfeasibleError, match="no one can carry") as raised:
        allocate_quotas(100, table, NO_GUARD)
    assert raised.value.constraint == "relief_policy"


def test_bad_territory_tables_list_every_problem_by_row_and_column():
    table = territories(
        potential_usd=[1.0, -2.0, 3.0],
        forecast_usd=[1.0, float("nan"), 3.0],
        ramp_frac=[1.0, 1.0, 1.5],
        last_quota_cents=[None, -5, 10],
    )
    with pytest.raises(InputError) as raised:
        allocate_quotas(100, table, blend_options())
    found = {(p.row, p.column) for p in raised.value.problems}
    assert found == {(2, "potential_usd"), (2, "forecast_usd"), (3, "ramp_frac"), (2, "last_quota_cents")}
    assert "territory 'B': potential_usd is -2.0" in str(raised.value)
    with pytest.raises(InputError, match=r"missing column\(s\) \['forecast_usd'\]"):
        allocate_quotas(100, pd.DataFrame({"potential_usd": [1.0]}, index=["A"]), blend_options())
    with pytest.raises(InputError, match="appears twice"):
        allocate_quotas(
            100, pd.DataFrame({"potential_usd": [1.0, 1.0], "forecast_usd": 1.0}, index=["A", "A"]), NO_GUARD
        )
    with pytest.raises(InputError, match="forecast_usd is 0 for every territory"):
        allocate_quotas(100, territories(potential_usd=[1.0], forecast_usd=[0.0]), NO_GUARD)


def test_bad_options_and_targets_are_refused():
    with pytest.raises(PlannerError, match="make them sum to 1"):
        blend_options(0.5, 0.6)
    with pytest.raises(PlannerError, match="over_assignment_frac"):
        blend_options(over_assignment_frac=-0.9)
    with pytest.raises(PlannerError, match="guardrail_frac"):
        blend_options(guardrail_frac=-0.1)
    with pytest.raises(PlannerError, match="relief_policy"):
        blend_options(relief_policy="ignore")
    table = territories(potential_usd=[1.0], forecast_usd=[1.0])
    with pytest.raises(PlannerError, match="whole cents"):
        allocate_quotas(100.5, table, NO_GUARD)
    with pytest.raises(PlannerError, match="whole cents"):
        allocate_quotas(-1, table, NO_GUARD)


# --- properties ----------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=12)


@st.composite
def random_territories(draw, *, with_last: bool):
    n = draw(sizes)
    values = st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e7))
    potential = draw(st.lists(values, min_size=n, max_size=n))
    forecast = draw(st.lists(values, min_size=n, max_size=n))
    assume(sum(potential) > 0 and sum(forecast) > 0)
    table = territories(
        potential_usd=potential,
        forecast_usd=forecast,
        # with guardrails, capacity >= 0.72 keeps +25% of it above -25% of last year (feasible)
        ramp_frac=draw(st.lists(st.floats(0.8 if with_last else 0.05, 1.0), min_size=n, max_size=n)),
        relief_frac=draw(st.lists(st.floats(0.0, 0.1 if with_last else 0.9), min_size=n, max_size=n)),
    )
    if with_last:
        table["last_quota_cents"] = draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n))
    weight = draw(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.01, 0.99)))
    return table, blend_options(weight, 1 - weight, guardrail_frac=0.25 if with_last else None)


@settings(max_examples=60, deadline=None)
@given(data=random_territories(with_last=False), target=st.integers(0, 10**12))
def test_quotas_sum_exactly_to_the_target(data, target):
    table, options = data
    result = allocate_quotas(target, table, options)
    assert result.total_cents == target == int(result.quotas_cents.sum())
    assert result.quotas_cents.dtype == np.int64 and (result.quotas_cents >= 0).all()
    assert int(result.table["raw_cents"].sum()) == target == int(result.table["guardrail_cents"].sum())


@settings(max_examples=40, deadline=None)
@given(data=random_territories(with_last=False), target=st.integers(0, 10**12))
def test_absorbed_relief_only_ever_lowers_quotas(data, target):
    table, options = data
    absorbed = allocate_quotas(
        target, table, blend_options(**{**options.__dict__, "relief_policy": "absorb"})
    )
    quota, full_year = absorbed.quotas_cents.to_numpy(), absorbed.table["guardrail_cents"].to_numpy()
    capacity = (table["ramp_frac"] * (1 - table["relief_frac"])).to_numpy()
    assert absorbed.total_cents == int(quota.sum()) <= target
    assert (quota <= full_year + 1).all()
    assert np.abs(quota - capacity * full_year).max() <= 2


def reachable(weights: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """Totals reachable by clip(level * weights, low, high): zero-weight entries stay at low."""
    return low.sum(), np.where(weights > 0, high, low).sum()


@settings(max_examples=60, deadline=None)
@given(data=random_territories(with_last=True), position=st.floats(0.0, 1.0))
def test_within_guardrails_whenever_feasible(data, position):
    table, options = data
    capacity = (table["ramp_frac"] * (1 - table["relief_frac"])).to_numpy()
    last = table["last_quota_cents"].to_numpy(dtype=float)
    share = options.potential_weight_frac * (table["potential_usd"] / table["potential_usd"].sum()).to_numpy()
    share += options.forecast_weight_frac * (table["forecast_usd"] / table["forecast_usd"].sum()).to_numpy()
    low1, high1 = np.ceil(last * 0.75 - 1e-9), np.floor(last * 1.25 + 1e-9)
    high2 = np.floor(capacity * high1)
    low2 = np.minimum(np.ceil(capacity * low1), high2)  # a range holding no whole cent rounds down
    (a1, b1), (a2, b2) = reachable(share, low1, high1), reachable(capacity * share, low2, high2)
    low, high = max(a1, a2), min(b1, b2)
    assume(low <= high)
    target = min(int(np.ceil(low + position * (high - low))), int(high))
    result = allocate_quotas(target, table, options)
    quota = result.quotas_cents.to_numpy()
    assert int(quota.sum()) == target
    assert (quota >= low2).all() and (quota <= high2).all()
    guard = result.table["guardrail_cents"].to_numpy()
    assert (guard >= low1).all() and (guard <= high1).all()
    with pytest.raises(InfeasibleError):
        allocate_quotas(int(max(b1, b2)) + 1, table, options)


@settings(max_examples=60, deadline=None)
@given(
    shares=st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e6)), min_size=2, max_size=12
    ),
    last=st.one_of(st.none(), st.integers(1, 10**8)),
    target=st.integers(0, 10**10),
)
def test_quota_is_monotone_in_share(shares, last, target):
    assume(sum(shares) > 0)
    table = territories(potential_usd=shares, forecast_usd=shares)
    options = NO_GUARD
    if last is not None:
        table["last_quota_cents"] = last
        options = blend_options(guardrail_frac=0.25)
        low, high = int(np.ceil(last * 0.75 - 1e-9)), int(np.floor(last * 1.25 + 1e-9))
        movable = sum(x > 0 for x in shares)
        target = min(max(target, low * len(shares)), high * movable + low * (len(shares) - movable))
    quota = allocate_quotas(target, table, options).quotas_cents.to_numpy()
    share = np.array(shares)
    larger = share[:, None] > share[None, :]
    assert (quota[:, None] >= quota[None, :])[larger].all()
    tied = share[:, None] == share[None, :]
    assert (np.abs(quota[:, None] - quota[None, :]) <= 1)[tied].all()


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=100.0)), min_size=1, max_size=15
    ),
    data=st.data(),
)
def test_water_fill_matches_bisection_on_the_level(weights, data):
    w = np.array(weights)
    n = len(w)
    lower = np.array(data.draw(st.lists(st.floats(0.0, 50.0), min_size=n, max_size=n)))
    upper = lower + np.array(data.draw(st.lists(st.floats(0.0, 50.0), min_size=n, max_size=n)))
    reach = np.where(w > 0, upper, lower).sum()
    total = lower.sum() + data.draw(st.floats(0.0, 1.0)) * (reach - lower.sum())
    got = water_fill(w, lower, upper, total)
    low_level, high_level = 0.0, 1e12
    for _ in range(200):
        middle = (low_level + high_level) / 2
        if np.clip(middle * w, lower, upper).sum() < total:
            low_level = middle
        else:
            high_level = middle
    expected = np.clip(high_level * w, lower, upper)
    assert got.sum() == pytest.approx(total, abs=1e-6)
    np.testing.assert_allclose(got, expected, atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.floats(0.0, 1e9), min_size=1, max_size=20))
def test_round_to_total_is_floor_or_ceiling_and_exact(values):
    array = np.array(values)
    total = round(array.sum())
    rounded = round_to_total(array, total)
    assert int(rounded.sum()) == total
    assert ((rounded == np.floor(array)) | (rounded == np.ceil(array))).all()


# --- inputs from a data set ----------------------------------------------------------------------


def test_rep_ramp_and_prorated_relief_by_hand():
    hired = pd.Series(pd.to_datetime(["2026-09-01", "2027-03-15", "2019-01-01"]), index=["R2", "R9", "R1"])
    ramp = rep_ramp_frac(hired, "2027-01", ramp_months=6)
    # R2: tenure 4, 5 in Jan, Feb -> 4.5/6, 5.5/6, then 10 full months
    assert ramp["R2"] == pytest.approx((4.5 / 6 + 5.5 / 6 + 10) / 12)
    # R9: nothing Jan-Feb; Mar..Aug tenure 0..5 -> (0.5+1.5+...+5.5)/6 = 3; Sep..Dec full: 7/12
    assert ramp["R9"] == pytest.approx(7 / 12)
    assert ramp["R1"] == 1.0
    assert prorated_relief_frac("2027-04-01", "2027-06-30", "2027-01") == pytest.approx(91 / 365)
    assert prorated_relief_frac(date(2026, 12, 1), date(2027, 1, 31), "2027-01") == pytest.approx(31 / 365)
    assert prorated_relief_frac("2025-01-01", "2025-02-01", "2027-01") == 0.0
    with pytest.raises(PlannerError, match="before it starts"):
        prorated_relief_frac("2027-02-01", "2027-01-01", "2027-01")


def test_territory_inputs_from_the_grid_by_hand(grid_dir):
    data = load_dataset(grid_dir)
    table = quota_territories(data, fiscal_year_start="2027-01", growth_frac=0.2)
    # West holds columns 0-1 (cells 0, 1, 3, 4, 6, 7), East column 2 (cells 2, 5, 8)
    assert table.loc["West", "potential_usd"] == 100 * (1 + 2 + 4 + 5 + 7 + 8)
    assert table.loc["East", "potential_usd"] == 100 * (3 + 6 + 9)
    assert table.loc["West", "history_usd"] == pytest.approx(10 * (1 + 2 + 4 + 5 + 7 + 8))
    assert table.loc["East", "forecast_usd"] == pytest.approx(1.2 * 10 * (3 + 6 + 9))
    # R2 (East) was hired 2026-09-01 and is ramping: see the hand computation above
    assert table.loc["East", "ramp_frac"] == pytest.approx((4.5 / 6 + 5.5 / 6 + 10) / 12)
    assert table.loc["West", "ramp_frac"] == 1.0
    assert table["relief_frac"].tolist() == [0.0, 0.0]
    relieved = quota_territories(
        data,
        fiscal_year_start="2027-01",
        relief_frac=pd.Series({"West": 0.5}),
        last_quota_cents=pd.Series({"East": 10}),
    )
    assert relieved["relief_frac"].to_dict() == {"East": 0.0, "West": 0.5}
    assert relieved.loc["East", "last_quota_cents"] == 10 and np.isnan(
        relieved.loc["West", "last_quota_cents"]
    )
    with pytest.raises(InputError, match="no forecast_usd for territory 'West'"):
        quota_territories(data, fiscal_year_start="2027-01", forecast_usd=pd.Series({"East": 1.0}))
    with pytest.raises(InputError, match="territory 'North' is not in the plan"):
        quota_territories(data, fiscal_year_start="2027-01", last_quota_cents=pd.Series({"North": 1}))


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_demo_end_to_end_allocate_phase_and_report(demo):
    table = quota_territories(demo, fiscal_year_start="2027-01")
    assert table["potential_usd"].sum() == pytest.approx(demo.units["tam_usd"].sum())
    # trailing 12 months per territory add up to the units' aggregated bookings (same window)
    assert table["history_usd"].sum() == pytest.approx(demo.units["bookings_usd"].sum())
    leaving = demo.reps.index[demo.reps["status"] == "leaving"]
    relieved = set(demo.plan.territory_reps[leaving])
    assert set(table.index[table["relief_frac"] > 0]) == relieved
    assert (table.loc[sorted(relieved), "relief_frac"] == 0.25).all()

    last_year = (territory_bookings_usd(demo, skip_months=12) * 110).round()
    table = quota_territories(demo, fiscal_year_start="2027-01", last_quota_cents=last_year)
    target = round(table["forecast_usd"].sum() * 100)
    allocation = allocate_quotas(target, table, blend_options(over_assignment_frac=0.05, guardrail_frac=0.3))
    assert allocation.total_cents == int(allocation.quotas_cents.sum())
    seasonality = seasonality_from_history(demo.bookings)
    phased = phase_quotas(allocation.quotas_cents, seasonality, "quarter", "2027-01")
    checked = check_quota_table(phased, demo.plan)
    assert (
        checked.groupby("territory_id")["quota_cents"]
        .sum()
        .equals(allocation.quotas_cents.rename(None).rename_axis("territory_id"))
    )
    report = fairness_report(allocation.quotas_cents, table["potential_usd"], table["forecast_usd"])
    assert len(report.table) == 50 and len(report.verdict) == 5


def test_reps_without_hire_date_are_reported(grid_dir):
    (grid_dir / "reps.csv").unlink()
    data = load_dataset(grid_dir)
    with pytest.raises(InputError) as raised:
        quota_territories(data, fiscal_year_start="2027-01")
    assert [p.column for p in raised.value.problems] == ["hire_date", "hire_date"]
    assert "rep 'R1' covers territory 'West' but has no hire_date or status" in str(raised.value)
