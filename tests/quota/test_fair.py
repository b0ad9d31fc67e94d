"""Fair by construction: the fitted blend and size tilt meet the targets, or the binding one is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from planner.quota.allocation import QuotaOptions, allocate_quotas
from planner.quota.attainment import attainment_plan
from planner.quota.fair import ranks
from planner.quota.fairness import fairness_report


def book(n: int = 80, seed: int = 0, penetration_slope: float = 0.15) -> pd.DataFrame:
    """Territories whose forecast / potential rises with size (big ones are better penetrated)."""
    rng = np.random.default_rng(seed)
    potential = rng.lognormal(15, 0.8, n)
    size = np.log(potential / np.median(potential))
    forecast = 0.1 * potential * np.exp(penetration_slope * size) * rng.lognormal(0, 0.15, n)
    return pd.DataFrame(
        {"potential_usd": potential, "forecast_usd": forecast},
        index=pd.Index([f"T{k:03d}" for k in range(n)], name="territory_id"),
    )


def figures(allocation, table) -> dict:
    report = fairness_report(allocation.quotas_cents, table["potential_usd"], table["forecast_usd"])
    return report.summary()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_ranks_match_scipy_with_ties(values):
    np.testing.assert_allclose(ranks(np.asarray(values, dtype=float)), stats.rankdata(values))


def test_default_allocation_meets_every_target_where_the_plain_blend_does_not():
    table = book()
    target = int(table["forecast_usd"].sum() * 100)
    plain = figures(allocate_quotas(target, table, QuotaOptions(fairness=None)), table)
    assert abs(plain["attainment_size_spearman"]) > 0.2  # big territories get easy quotas
    allocation = allocate_quotas(target, table, QuotaOptions())
    fair = figures(allocation, table)
    assert fair["quota_potential_spearman"] >= 0.8
    assert fair["quota_per_potential_gini"] <= 0.10
    assert abs(fair["attainment_size_spearman"]) <= 0.2
    assert allocation.fit.met and allocation.fit.size_tilt > 0  # big territories asked a little more
    assert allocation.quotas_cents.sum() == target
    assert allocation.notes[0].startswith("fair by construction: potential weight")


def test_guardrails_that_rule_out_fair_quotas_are_named():
    table = book(n=30, seed=3)
    target = int(table["forecast_usd"].sum() * 100)
    # Last year's quotas were uneven (potential share times noise): within +/-2% of them the Gini
    # of quota per potential cannot come down to 0.10.
    noisy = table["potential_usd"] * np.random.default_rng(1).lognormal(0, 0.6, len(table))
    table["last_quota_cents"] = (noisy / noisy.sum() * target).round()
    allocation = allocate_quotas(target, table, QuotaOptions(guardrail_frac=0.02))
    fit = allocation.fit
    assert not fit.met and fit.guardrails_bind
    assert "Gini(quota/potential) <= 0.1" in fit.missed
    assert allocation.notes[0].startswith("the guardrails allow no fair quotas")
    free = allocate_quotas(target, table.drop(columns="last_quota_cents"), QuotaOptions())
    assert free.fit.met


@pytest.mark.parametrize("goal", [0.55, 0.65, 0.8])
def test_choosing_the_distribution_puts_the_goal_share_at_or_above_quota(goal):
    table = book(n=120, seed=5)
    target = int(table["forecast_usd"].sum() * 100)
    allocation = allocate_quotas(target, table, QuotaOptions())
    shape = allocation.quotas_cents.to_numpy(dtype=float)
    bounds = (np.zeros(len(shape)), np.full(len(shape), np.inf))
    plan = attainment_plan(
        shape, *bounds, table["forecast_usd"].to_numpy(), target, goal_frac=goal, basis_frac=1
    )
    assert plan.share_at_chosen_frac == pytest.approx(goal, abs=0.005)
    assert plan.chosen_total_cents == plan.implied_total_cents
    assert (plan.gap_cents < 0) == (goal > plan.share_at_target_frac)  # more at or above: less quota
    halfway = attainment_plan(
        shape, *bounds, table["forecast_usd"].to_numpy(), target, goal_frac=goal, basis_frac=0.5
    )
    assert halfway.chosen_total_cents == round((target + plan.implied_total_cents) / 2)
    assert plan.curve["at_or_above_frac"].is_monotonic_decreasing
