"""Realignment by transport: flows over the territory graph, carried by border units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.optimize.instance import adjacency_lists, build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.transport import border_flows, carry_flows
from planner.plans.metrics import unit_points_km
from planner.plans.plan import Plan
from tests.conftest import grid


def line_instance(labels: list[str], **options):
    """A 1 x n line of equal units in the given territories, TAM hard at 2%."""
    units, adjacency = grid(1, len(labels), np.ones(len(labels)))
    reference = Plan(pd.Series(labels, index=units.index))
    opts = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.02, hard=True),), **options)
    return build_instance(units, adjacency, unit_points_km(units), opts, reference=reference)


def test_excess_passes_through_a_balanced_territory_along_the_least_costly_route():
    # A = 6 units, B = 4, C = 2 (fair share 4): A's 2 extra units must reach C through B.
    instance = line_instance(["A"] * 6 + ["B"] * 4 + ["C"] * 2)
    flows = border_flows(instance, instance.reference, instance.reps)
    assert [(a, b) for a, b, _ in flows] == [(0, 1), (1, 2)]
    assert [amount for *_, amount in flows] == pytest.approx([0.49, 0.49])  # to within half the tolerance
    labels = carry_flows(instance, instance.reference, adjacency_lists(instance), flows)
    assert np.bincount(labels).tolist() == [4, 4, 4]
    # Two units crossed each border: 4 of 12 changed territory, twice the floor of 2, the
    # least any plan keeping these territories can move (the excess has to cross B).
    assert (labels != instance.reference).sum() == 4


def test_carrying_stops_at_the_budget_and_keeps_territories_connected():
    instance = line_instance(["A"] * 6 + ["B"] * 4 + ["C"] * 2)
    flows = border_flows(instance, instance.reference, instance.reps)
    labels = carry_flows(
        instance, instance.reference, adjacency_lists(instance), flows, max_disruption=2 / 12
    )
    assert (labels != instance.reference).sum() == 2
    for t in range(3):  # each territory is still one run of the line
        where = np.flatnonzero(labels == t)
        assert (np.diff(where) == 1).all()


def test_a_balanced_plan_needs_no_flow():
    instance = line_instance(["A"] * 4 + ["B"] * 4)
    assert border_flows(instance, instance.reference, instance.reps) == []
