"""Fairness report: every metric against hand-computed values, the verdict, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlannerError
from planner.quota.fairness import HealthyRanges, fairness_report, gini, spearman

IDS = pd.Index(["A", "B", "C", "D"], name="territory_id")
QUOTAS = pd.Series([100_00, 200_00, 300_00, 400_00], index=IDS)  # $100 .. $400
POTENTIAL = pd.Series([1000.0, 1000.0, 2000.0, 4000.0], index=IDS)
EXPECTED = pd.Series([120.0, 150.0, 330.0, 380.0], index=IDS)


def test_gini_and_spearman_by_hand():
    assert gini(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.25)
    assert gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)
    assert gini(np.array([5.0, 5.0])) == 0.0
    assert gini(np.array([])) == 0.0
    # 1 - 6 * sum(d^2) / (n (n^2 - 1)) with d = (0, 1, 1, 0)
    assert spearman(np.array([1, 2, 3, 4]), np.array([1, 3, 2, 4])) == pytest.approx(0.8)
    assert spearman(np.array([1, 2, 3]), np.array([7, 7, 7])) == 0.0
    assert spearman(np.array([1.0]), np.array([2.0])) == 0.0


def test_report_metrics_by_hand():
    report = fairness_report(QUOTAS, POTENTIAL, EXPECTED)
    table = report.table
    assert table["quota_per_potential"].tolist() == pytest.approx([0.1, 0.2, 0.15, 0.1])
    assert table["attainment_frac"].tolist() == pytest.approx([1.2, 0.75, 1.1, 0.95])
    assert table["reach_quota_frac"].tolist() == [1.0, 0.0, 1.0, 0.0]
    # ranks of quota 1..4 vs potential (1.5, 1.5, 3, 4): r = 4.5 / sqrt(5 * 4.5) = sqrt(0.9)
    assert report.quota_potential_spearman == pytest.approx(math.sqrt(0.9))
    # Gini of (0.1, 0.2, 0.15, 0.1): sum |xi - xj| = 0.7 over 2 * 16 * 0.1375 = 7/44
    assert report.quota_per_potential_gini == pytest.approx(7 / 44)
    assert report.at_or_above_quota_frac == 0.5
    assert report.above_threshold_frac == 1.0
    # attainment ranks (4, 1, 3, 2) vs (1.5, 1.5, 3, 4): -0.5 / sqrt(5 * 4.5) = -1 / sqrt(90)
    assert report.attainment_size_spearman == pytest.approx(-1 / math.sqrt(90))
    assert [check.met for check in report.verdict] == [True, False, False, True, True]
    assert not report.healthy
    assert report.summary()["quota_per_potential_gini"] == pytest.approx(7 / 44)
    assert str(report.verdict[2]) == "NO  territories expected at or above quota: 0.500 (healthy: 60% to 70%)"


def test_threshold_and_healthy_ranges_are_settable():
    report = fairness_report(
        QUOTAS,
        POTENTIAL,
        EXPECTED,
        threshold_frac=0.8,
        ranges=HealthyRanges(quota_per_potential_gini_max=0.2, at_or_above_quota_frac=(0.4, 0.6)),
    )
    assert report.above_threshold_frac == 0.75  # B at 75% misses 80%
    assert report.verdict[3].name == "territories expected above 80% of quota"
    assert [check.met for check in report.verdict] == [True, True, True, False, True]


def test_uncertain_forecast_gives_lognormal_probabilities():
    ids = pd.Index(["A"], name="territory_id")
    report = fairness_report(
        pd.Series([100_00], index=ids),
        pd.Series([1.0], index=ids),
        pd.Series([100.0], index=ids),
        forecast_cv_frac=0.2,
    )
    sigma = math.sqrt(math.log(1 + 0.2**2))
    tail = lambda z: 0.5 * math.erfc(z / math.sqrt(2))  # noqa: E731
    # mean = quota: z = (ln q - (ln q - sigma^2 / 2)) / sigma = sigma / 2
    assert report.at_or_above_quota_frac == pytest.approx(tail(sigma / 2))
    assert report.at_or_above_quota_frac == pytest.approx(0.46056, abs=1e-5)
    assert report.above_threshold_frac == pytest.approx(tail((math.log(0.5) + sigma**2 / 2) / sigma))


def test_zero_quota_and_zero_potential_are_left_out_with_a_note():
    quotas = QUOTAS.copy()
    quotas["D"] = 0
    potential = POTENTIAL.copy()
    potential["A"] = 0.0
    report = fairness_report(quotas, potential, EXPECTED)
    assert np.isnan(report.table.loc["D", "attainment_frac"])
    assert np.isnan(report.table.loc["A", "quota_per_potential"])
    assert report.at_or_above_quota_frac == pytest.approx(2 / 3)  # A, C of A, B, C
    assert report.notes == (
        "1 territories with a zero quota are left out of attainment",
        "1 territories with zero potential are left out of quota per potential",
    )


def test_same_attainment_everywhere_shows_no_size_effect():
    report = fairness_report(QUOTAS, POTENTIAL, QUOTAS / 100 * 0.9)
    assert report.attainment_size_spearman == 0.0
    assert report.at_or_above_quota_frac == 0.0 and report.above_threshold_frac == 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(PlannerError, match=r"expected_bookings_usd lacks territories \['D'\]"):
        fairness_report(QUOTAS, POTENTIAL, EXPECTED.drop("D"))
    with pytest.raises(PlannerError, match="potential_usd must be finite and >= 0"):
        fairness_report(QUOTAS, POTENTIAL * -1, EXPECTED)
    with pytest.raises(PlannerError, match="threshold_frac"):
        fairness_report(QUOTAS, POTENTIAL, EXPECTED, threshold_frac=1.5)
    with pytest.raises(PlannerError, match="forecast_cv_frac"):
        fairness_report(QUOTAS, POTENTIAL, EXPECTED, forecast_cv_frac=0.0)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=30), scale=st.floats(0.01, 100.0))
def test_gini_matches_the_pairwise_definition_and_is_scale_free(values, scale):
    x = np.array(values)
    if x.sum() == 0:
        assert gini(x) == 0.0
        return
    pairwise = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(pairwise, abs=1e-9)
    assert 0.0 <= gini(x) < 1.0
    assert gini(x * scale) == pytest.approx(gini(x), abs=1e-9)
    assert gini(x[::-1]) == pytest.approx(gini(x), abs=1e-12)


def test_no_expected_bookings_never_reach_a_positive_quota_even_with_uncertainty():
    ids = pd.Index(["A", "B"], name="territory_id")
    report = fairness_report(
        pd.Series([0, 100_00], index=ids),
        pd.Series([1.0, 1.0], index=ids),
        pd.Series([0.0, 0.0], index=ids),
        forecast_cv_frac=0.3,
    )
    assert report.table["reach_quota_frac"].tolist() == [1.0, 0.0]
    assert report.at_or_above_quota_frac == 0.0  # A has no quota and is left out
