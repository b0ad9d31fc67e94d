"""How much load must cross each border: flows over the territory graph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.optimize.instance import build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.transport import border_flows, crossing_share
from planner.plans.metrics import transport_floor, unit_points_km
from planner.plans.plan import Plan
from tests.conftest import grid


def line(labels: list[str]):
    """A 1 x n line of equal units in the given territories, TAM hard at 2%, and its reference plan."""
    units, adjacency = grid(1, len(labels), np.ones(len(labels)))
    reference = Plan(pd.Series(labels, index=units.index))
    opts = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.02, hard=True),))
    return (
        build_instance(units, adjacency, unit_points_km(units), opts, reference=reference),
        units,
        reference,
    )


def test_excess_passes_through_a_balanced_territory_and_crosses_two_borders():
    # A = 6 units, B = 4, C = 2 (fair share 4): A's 2 extra units must reach C through B.
    instance, units, reference = line(["A"] * 6 + ["B"] * 4 + ["C"] * 2)
    flows = border_flows(instance, instance.reference, instance.reps)
    assert [(a, b) for a, b, _ in flows] == [(0, 1), (1, 2)]
    assert [amount for *_, amount in flows] == pytest.approx([0.49, 0.49])  # to within half the tolerance
    # The excess is 2 of 12 units (the floor), but it crosses two borders: about twice that.
    floor = transport_floor(reference, units, "tam_usd", pd.Series({"A": 1, "B": 1, "C": 1}))
    assert floor == pytest.approx(2 / 12)
    assert crossing_share(instance, instance.reference, instance.reps) == pytest.approx(0.98 / 3)


def test_a_balanced_plan_needs_no_flow():
    instance, _, _ = line(["A"] * 4 + ["B"] * 4)
    assert border_flows(instance, instance.reference, instance.reps) == []
    assert crossing_share(instance, instance.reference, instance.reps) == 0.0
