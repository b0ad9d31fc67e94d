"""Phasing: seasonality from history (hand-computed, with shrinkage) and exact monthly/quarterly splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError, PlannerError
from planner.plans.approved import check_quota_table
from planner.plans.plan import Plan
from planner.quota.phasing import fiscal_months, phase_quotas, seasonality_from_history

RISING = pd.Series(np.arange(1.0, 13.0), index=range(1, 13))  # month m has weight m (sum 78)


def monthly_bookings(amounts: dict[str, float], territory: str = "T1") -> pd.DataFrame:
    """One booking per month: {'YYYY-MM': amount}."""
    return pd.DataFrame(
        {
            "date": pd.to_datetime([f"{month}-15" for month in amounts]),
            "amount_usd": list(amounts.values()),
            "territory_id": territory,
        }
    )


def two_years_with_a_strong_december() -> pd.DataFrame:
    months = pd.period_range("2024-11", "2026-10", freq="M")
    amounts = {str(p): 2.0 if (p.month == 12 and p.year == 2025) else 1.0 for p in months}
    amounts["2024-10"] = 50.0  # 25 months back: a partial year, dropped
    return monthly_bookings(amounts)


# --- seasonality ---------------------------------------------------------------------------------


def test_seasonality_by_hand_with_shrinkage_toward_flat():
    weights = seasonality_from_history(two_years_with_a_strong_december(), shrinkage_years=1.0)
    # newest year (Nov 2025 - Oct 2026): December 2/13, others 1/13; older year flat 1/12.
    # two years observed, one year of flat prior: (2 * mean + 1 * 1/12) / 3
    december = (2 * (2 / 13 + 1 / 12) / 2 + 1 / 12) / 3
    other = (2 * (1 / 13 + 1 / 12) / 2 + 1 / 12) / 3
    assert weights[12] == pytest.approx(december)
    assert weights[[1, 6, 11]].tolist() == pytest.approx([other] * 3)
    assert weights.sum() == pytest.approx(1.0)
    raw = seasonality_from_history(two_years_with_a_strong_december(), shrinkage_years=0.0)
    assert raw[12] == pytest.approx((2 / 13 + 1 / 12) / 2)


def test_short_history_keeps_the_prior_and_groups_are_estimated_apart():
    long = two_years_with_a_strong_december()
    short = monthly_bookings({f"2026-{m:02d}": 1.0 + m for m in range(5, 11)}, territory="T2")
    unplaced = monthly_bookings({"2026-01": 5.0}, territory=None)
    bookings = pd.concat([long, short, unplaced], ignore_index=True)
    prior = RISING / RISING.sum()
    by_territory = seasonality_from_history(bookings, by="territory_id", prior=prior)
    assert by_territory.index.tolist() == ["T1", "T2"]
    # T2 has six months: no whole year, so its weights are the prior
    assert by_territory.loc["T2"].tolist() == pytest.approx(prior.tolist())
    # T1, estimated shrinkage: yearly shares (newest, older) per month, noise and spread by hand
    newest = np.array([1 / 13] * 11 + [2 / 13])
    older = np.full(12, 1 / 12)
    mean = (newest + older) / 2
    noise = np.mean((newest - older) ** 2 / 2) / 2  # var(ddof=1) of two values / n years
    spread = np.mean((mean - prior.to_numpy()) ** 2)
    trust = 1 - noise / spread
    assert by_territory.loc["T1"].tolist() == pytest.approx((trust * mean + (1 - trust) * prior).tolist())


def test_estimated_shrinkage_trusts_a_repeating_profile_and_drops_pure_noise():
    months = pd.period_range("2024-11", "2026-10", freq="M")
    repeating = monthly_bookings({str(p): 2.0 if p.month == 12 else 1.0 for p in months})
    weights = seasonality_from_history(repeating)
    assert weights[12] == pytest.approx(2 / 13) and weights[1] == pytest.approx(1 / 13)
    # December strong one year, weak the next: noise larger than the spread -> the flat prior
    flipping = monthly_bookings(
        {str(p): (3.0 if p.year == 2025 else 0.5) if p.month == 12 else 1.0 for p in months}
    )
    assert seasonality_from_history(flipping).tolist() == pytest.approx([1 / 12] * 12)
    # one whole year: half-way between observed and prior
    one_year = monthly_bookings({str(p): 2.0 if p.month == 12 else 1.0 for p in months[12:]})
    assert seasonality_from_history(one_year)[12] == pytest.approx((2 / 13 + 1 / 12) / 2)


def test_seasonality_errors():
    with pytest.raises(InputError, match="missing column"):
        seasonality_from_history(pd.DataFrame({"date": []}))
    with pytest.raises(PlannerError, match="shrinkage_years"):
        seasonality_from_history(two_years_with_a_strong_december(), shrinkage_years=-1)
    with pytest.raises(PlannerError, match="index it by months 1-12"):
        seasonality_from_history(two_years_with_a_strong_december(), prior=pd.Series([1.0, 2.0]))
    empty = seasonality_from_history(pd.DataFrame({"date": pd.to_datetime([]), "amount_usd": []}))
    assert empty.tolist() == pytest.approx([1 / 12] * 12)


# --- phasing -------------------------------------------------------------------------------------


def test_monthly_phasing_follows_the_fiscal_year():
    annual = pd.Series({"T1": 78, "T2": 1200})
    table = phase_quotas(annual, RISING, "month", "2026-07")
    t1 = table[table["territory_id"] == "T1"]
    assert t1["period"].tolist()[:2] == ["2026-07", "2026-08"] and t1["period"].iloc[-1] == "2027-06"
    assert t1["quota_cents"].tolist() == [7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6]
    flat = phase_quotas(annual, pd.Series(1.0, index=range(1, 13)), "month", "2027-01")
    assert flat.loc[flat["territory_id"] == "T2", "quota_cents"].tolist() == [100] * 12


def test_quarterly_phasing_sums_months_and_labels_calendar_quarters():
    table = phase_quotas(pd.Series({"T1": 78}), RISING, "quarter", "2026-07")
    assert table["period"].tolist() == ["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]
    assert table["quota_cents"].tolist() == [7 + 8 + 9, 10 + 11 + 12, 1 + 2 + 3, 4 + 5 + 6]


def test_leftover_cents_go_to_the_largest_remainders():
    # 10 cents over 12 equal months: every month is 0.833 -> ten months get 1, two get 0
    table = phase_quotas(pd.Series({"T1": 10}), pd.Series(1.0, index=range(1, 13)))
    assert table["quota_cents"].sum() == 10 and sorted(table["quota_cents"].unique()) == [0, 1]
    # 100 cents, weights 1:2 per half year -> 100/18 = 5.56 and 11.11 per month
    halves = pd.Series([1.0] * 6 + [2.0] * 6, index=range(1, 13))
    cents = phase_quotas(pd.Series({"T1": 100}), halves)["quota_cents"].tolist()
    assert sum(cents) == 100 and set(cents[:6]) <= {5, 6} and set(cents[6:]) <= {11, 12}


def test_per_territory_seasonality_and_the_approved_quota_contract():
    table = pd.DataFrame([RISING.to_numpy(), np.ones(12)], index=["A", "B"], columns=range(1, 13))
    phased = phase_quotas(pd.Series({"A": 78, "B": 24}), table, "month", "2027-01")
    assert phased.loc[phased["territory_id"] == "A", "quota_cents"].tolist() == list(range(1, 13))
    assert phased.loc[phased["territory_id"] == "B", "quota_cents"].tolist() == [2] * 12
    plan = Plan(pd.Series(["A", "B"], index=["u1", "u2"]))
    checked = check_quota_table(phased, plan)
    assert checked["quota_cents"].dtype == np.int64 and len(checked) == 24


def test_phasing_errors_name_the_fix():
    annual = pd.Series({"T1": 100})
    with pytest.raises(PlannerError, match="start the fiscal year on a calendar quarter"):
        phase_quotas(annual, RISING, "quarter", "2027-02")
    with pytest.raises(PlannerError, match="'YYYY-MM'"):
        phase_quotas(annual, RISING, "month", "2027-13")
    with pytest.raises(PlannerError, match="'month' or 'quarter'"):
        phase_quotas(annual, RISING, "week", "2027-01")
    with pytest.raises(PlannerError, match="whole cents >= 0"):
        phase_quotas(pd.Series({"T1": -5}), RISING)
    with pytest.raises(PlannerError, match="whole cents >= 0"):
        phase_quotas(pd.Series({"T1": 10.5}), RISING)
    with pytest.raises(PlannerError, match="no seasonality for territories"):
        phase_quotas(annual, pd.DataFrame([np.ones(12)], index=["T9"], columns=range(1, 13)))
    with pytest.raises(PlannerError, match="not all 0"):
        phase_quotas(annual, pd.Series(0.0, index=range(1, 13)))
    with pytest.raises(PlannerError, match="index it by months 1-12"):
        phase_quotas(annual, pd.Series(1.0, index=range(12)))
    assert str(fiscal_months("2027-10")[-1]) == "2028-09"


@settings(max_examples=60, deadline=None)
@given(
    annual=st.lists(st.integers(0, 10**12), min_size=1, max_size=6),
    weights=st.lists(st.floats(0.0, 1e3), min_size=12, max_size=12).filter(lambda w: sum(w) > 1e-6),
    quarterly=st.booleans(),
)
def test_periods_sum_exactly_to_each_annual_quota(annual, weights, quarterly):
    series = pd.Series(annual, index=[f"T{k}" for k in range(len(annual))])
    seasonality = pd.Series(weights, index=range(1, 13))
    table = phase_quotas(series, seasonality, "quarter" if quarterly else "month", "2027-01")
    sums = table.groupby("territory_id", sort=False)["quota_cents"].sum()
    assert sums.tolist() == annual
    assert (table["quota_cents"] >= 0).all()
    share = seasonality.to_numpy() / seasonality.sum()
    if quarterly:
        share = share.reshape(4, 3).sum(axis=1)
    exact = np.outer(annual, share).ravel()
    cents = table["quota_cents"].to_numpy()
    assert (np.abs(cents - exact) <= 1 + 1e-6 * exact).all()
