"""Quotas rolled up: manager, region and company quotas are their children's sums (plus over-assignment)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlannerError
from planner.quota.hierarchy import NO_MANAGER, quota_hierarchy, territory_regions

TERRITORIES = pd.Index(["T1", "T2", "T3", "T4", "T5"], name="territory_id")
QUOTAS = pd.Series([100, 200, 300, 400, 50], index=TERRITORIES)
POTENTIAL = pd.Series([1000.0, 2000.0, 3000.0, 4000.0, 500.0], index=TERRITORIES)
FORECAST = pd.Series([1.0, 2.0, 3.0, 4.0, 0.5], index=TERRITORIES)
MANAGERS = pd.Series({"T1": "M1", "T2": "M1", "T3": "M2", "T4": "M2"})  # T5 is vacant
REGIONS = pd.Series({"T1": "West", "T2": "West", "T3": "East", "T4": "West", "T5": "East"})


def test_each_level_carries_its_childrens_quota_and_nodes_follow_their_parents():
    tree = quota_hierarchy(QUOTAS, POTENTIAL, FORECAST, MANAGERS, REGIONS)
    by_id = tree.set_index("node_id")
    assert tree["level"].tolist()[0] == "company" and by_id.loc["company", "quota_cents"] == 1050
    # M2's potential is 4000 in West and 3000 in East: M2 rolls up to West, with M1.
    assert by_id.loc["M1", "parent_id"] == "West" and by_id.loc["M2", "parent_id"] == "West"
    assert by_id.loc[NO_MANAGER, "parent_id"] == "East"  # the vacant territory's own region
    assert by_id.loc["West", "quota_cents"] == 1000 and by_id.loc["East", "quota_cents"] == 50
    assert by_id.loc["M2", "territories"] == 2 and by_id.loc["M2", "quota_cents"] == 700
    order = tree["node_id"].tolist()
    assert order.index("M1") < order.index("T1") < order.index("M2")  # depth first
    # Quota per potential is 0.1 everywhere: even (Gini 0) at every node with territories.
    assert np.allclose(tree["quota_per_potential_gini"], 0.0)


def test_over_assignment_per_level_raises_each_roll_up():
    tree = quota_hierarchy(
        QUOTAS, POTENTIAL, FORECAST, MANAGERS, REGIONS, over_assignment_frac={"manager": 0.10, "region": 0.05}
    )
    by_id = tree.set_index("node_id")
    assert by_id.loc["M1", "quota_cents"] == 330 and by_id.loc["M2", "quota_cents"] == 770
    assert by_id.loc["West", "quota_cents"] == round(1100 * 1.05)
    assert by_id.loc["company", "quota_cents"] == round(1100 * 1.05) + round(55 * 1.05)
    with pytest.raises(PlannerError, match="must name 'manager', 'region' or 'company'"):
        quota_hierarchy(QUOTAS, POTENTIAL, FORECAST, MANAGERS, over_assignment_frac={"team": 0.1})


def test_without_regions_every_manager_sits_in_one():
    tree = quota_hierarchy(QUOTAS, POTENTIAL, FORECAST, MANAGERS)
    assert tree.loc[tree["level"] == "region", "node_id"].tolist() == ["(all)"]


def test_territory_regions_follow_most_of_the_potential():
    units = pd.DataFrame(
        {"region": ["West", "East", "East"], "tam_usd": [10.0, 3.0, 4.0]}, index=["u1", "u2", "u3"]
    )
    assignment = pd.Series({"u1": "T1", "u2": "T1", "u3": "T2"})
    assert territory_regions(units, assignment).to_dict() == {"T1": "West", "T2": "East"}
    assert territory_regions(units.drop(columns="region"), assignment) is None


@settings(max_examples=30, deadline=None)
@given(
    quotas=st.lists(st.integers(0, 10**9), min_size=1, max_size=12),
    managers=st.lists(st.sampled_from(["M1", "M2", "M3", None]), min_size=12, max_size=12),
)
def test_roll_ups_are_exact_sums_without_over_assignment(quotas, managers):
    index = pd.Index([f"T{k}" for k in range(len(quotas))])
    tree = quota_hierarchy(
        pd.Series(quotas, index=index),
        pd.Series(1.0, index=index),
        pd.Series(1.0, index=index),
        pd.Series(managers[: len(quotas)], index=index).dropna(),
    )
    for _, node in tree[tree["level"] != "territory"].iterrows():
        children = tree[tree["parent_id"] == node["node_id"]]
        assert node["quota_cents"] == children["quota_cents"].sum()
    assert tree.loc[tree["level"] == "territory", "quota_cents"].sum() == sum(quotas)
