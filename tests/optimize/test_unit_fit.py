"""Proof that a unit fits no territory within tolerance (every connected group holding it is off band)."""

from __future__ import annotations

import pytest

from planner.optimize import unit_fit
from planner.optimize.instance import build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.unit_fit import fits_within, reachable
from planner.plans.metrics import unit_points_km
from tests.conftest import grid


def line_instance(tam: list[float], k: int, tolerance: float = 0.02):
    units, adjacency = grid(1, len(tam), tam)
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", tolerance, hard=True),))
    return build_instance(units, adjacency, unit_points_km(units), options, n_reps=k)


def test_a_unit_at_the_end_of_a_line_whose_groups_all_miss_the_band_is_proven_unfit():
    # Fair share 6: the groups holding the first unit weigh 5, 10, 12, ... never 6 +/- 2%.
    instance = line_instance([5, 5, 2, 2, 4, 6], k=4)
    assert fits_within(instance, 0) is False
    assert fits_within(instance, 3) is True  # with its neighbour of 4
    assert fits_within(instance, 5) is True  # alone it is exactly one share


def test_the_region_searched_is_the_units_within_one_band_of_path_weight():
    instance = line_instance([5, 5, 4, 4, 6], k=4)
    assert reachable(instance, 0, 6.12 / 6, instance.share[:, 0]).tolist() == [0]
    assert reachable(instance, 3, 10.2 / 6, instance.share[:, 0]).tolist() == [2, 3, 4]


def test_no_answer_when_the_region_is_too_big(monkeypatch):
    instance = line_instance([1] * 12, k=2)
    monkeypatch.setattr(unit_fit, "MAX_REGION_UNITS", 3)
    assert fits_within(instance, 0) is None


@pytest.mark.parametrize("tolerance, fits", [(0.02, False), (0.25, True)])
def test_a_wider_band_admits_a_group(tolerance, fits):
    instance = line_instance([5, 5, 4, 4, 6], k=4, tolerance=tolerance)
    assert fits_within(instance, 0) is fits


def test_the_optimizer_names_the_unit_that_no_plan_can_fit():
    from planner.optimize.api import optimize

    units, adjacency = grid(1, 6, [5, 5, 2, 2, 4, 6])
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.02, hard=True),), time_limit_s=1.0)
    result = optimize(units, adjacency, n_reps=4, options=options)
    assert str(result.status) == "infeasible"
    assert any(
        m.startswith("unit r0c0 cannot be in any territory within +/-2.0% on tam_usd")
        for m in result.messages
    )
