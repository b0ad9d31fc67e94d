"""Charts of the Quotas page that need more than one line of Altair."""

from __future__ import annotations

import altair as alt
import pandas as pd

from planner.plans.quota_lines import HUNDREDTHS, QuotaLine
from planner.quota.attainment import AttainmentPlan


def attainment_chart(plan: AttainmentPlan, line: QuotaLine | None = None) -> alt.LayerChart:
    """Expected share of territories at or above quota against the quota total, with the totals marked.

    Totals are in $M for a USD line, in whole units (deals) for a count line.
    """
    line = line or QuotaLine()
    scale, unit, shown = (1e8, "$M", ",.1f") if not line.counts else (HUNDREDTHS, line.unit, ",.0f")
    curve = plan.curve.assign(total=lambda f: f["total_cents"] / scale)
    drawn = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("total:Q", title=f"Quota total ({unit})", scale=alt.Scale(zero=False)),
            y=alt.Y("at_or_above_frac:Q", title="Expected at or above quota", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("total:Q", title=f"total ({unit})", format=shown),
                alt.Tooltip("at_or_above_frac:Q", title="at or above", format=".1%"),
            ],
        )
    )
    goal = alt.Chart(pd.DataFrame({"y": [plan.goal_frac]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    marks = pd.DataFrame(
        {
            "total": [
                plan.target_total_cents / scale,
                plan.implied_total_cents / scale,
                plan.chosen_total_cents / scale,
            ],
            "what": ["target total", f"{plan.goal_frac:.0%} goal", "quotas now"],
        }
    )
    rules = (
        alt.Chart(marks)
        .mark_rule()
        .encode(
            x="total:Q",
            color=alt.Color("what:N", title=None),
            tooltip=["what:N", alt.Tooltip("total:Q", title=unit, format=shown)],
        )
    )
    return (drawn + goal + rules).properties(title="Attainment finance chooses", height=300)
