"""Charts of the Quotas page that need more than one line of Altair."""

from __future__ import annotations

import altair as alt
import pandas as pd

from planner.quota.attainment import AttainmentPlan


def attainment_chart(plan: AttainmentPlan) -> alt.LayerChart:
    """Expected share of territories at or above quota against the quota total, with the totals marked."""
    curve = plan.curve.assign(total_musd=lambda f: f["total_cents"] / 1e8)
    line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("total_musd:Q", title="Quota total ($M)", scale=alt.Scale(zero=False)),
            y=alt.Y("at_or_above_frac:Q", title="Expected at or above quota", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("total_musd:Q", title="total ($M)", format=",.1f"),
                alt.Tooltip("at_or_above_frac:Q", title="at or above", format=".1%"),
            ],
        )
    )
    goal = alt.Chart(pd.DataFrame({"y": [plan.goal_frac]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    marks = pd.DataFrame(
        {
            "total_musd": [
                plan.target_total_cents / 1e8,
                plan.implied_total_cents / 1e8,
                plan.chosen_total_cents / 1e8,
            ],
            "what": ["target total", f"{plan.goal_frac:.0%} goal", "quotas now"],
        }
    )
    rules = (
        alt.Chart(marks)
        .mark_rule()
        .encode(
            x="total_musd:Q",
            color=alt.Color("what:N", title=None),
            tooltip=["what:N", alt.Tooltip("total_musd:Q", title="$M", format=",.1f")],
        )
    )
    return (line + goal + rules).properties(title="Attainment finance chooses", height=300)
