"""Capacity: ramped headcount, bookings capacity against the target and the hires needed, in 3 scenarios."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.capacity import CapacityRequest, current_reps, first_plan_month, plan_capacity_for
from planner.forecast.history import territory_history
from planner.money import format_usd
from ui.columns import dollar_column
from ui.session import PERSIST, active_dataset

TARGET = "cap_target_musd"
START = "cap_start"
MONTHS = "cap_months"
RAMP = "cap_ramp"
QUOTA = "cap_quota_musd"
ATTAINMENT = "cap_attainment_pct"
ATTAINMENT_RANGE = "cap_attainment_range_pct"
ATTRITION = "cap_attrition_pct"
ATTRITION_RANGE = "cap_attrition_range_pct"
BACKFILL = "cap_backfill_months"
MAX_HIRES = "cap_max_hires"
SEASONAL = "cap_seasonal"
HIRES = "cap_planned_hires"
DEFAULT_RAMP = "0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1"


@st.cache_data(max_entries=4)
def cached_history(token: str, _dataset: Dataset) -> pd.DataFrame:
    """Monthly bookings per territory of the data set's plan (cached per data-set token)."""
    return territory_history(_dataset)


dataset, token, dataset_label = active_dataset()
st.title("Capacity")
try:
    history = cached_history(token, dataset)
except PlannerError as exc:
    st.error(f"Capacity planning starts from the bookings history: {exc}")
    st.stop()
hire_dates, _ = current_reps(dataset.reps, history.index[-1].strftime("%Y-%m"))
last_year_usd = float(history.iloc[-12:].to_numpy().sum())
sellers = max(len(hire_dates), 1)

st.caption(
    f"Data: {dataset_label}: {len(hire_dates)} quota-carrying reps with their hire dates (reps marked "
    "'leaving' leave after the first month; every leaver is backfilled). Expected values month by month."
)

with st.sidebar:
    st.header("Assumptions")
    target_musd = st.number_input(
        "Target over the plan (USD M)",
        min_value=0.0,
        value=float(round(1.1 * last_year_usd / 1e6)),
        key=TARGET,
        help="Default: the last 12 months' bookings + 10%. Set it to the company target of your quota plan "
        "to see the reps that target needs.",
    )
    start = st.text_input("First month (YYYY-MM)", first_plan_month(history), key=START)
    n_months = st.number_input("Months", min_value=0, max_value=36, value=12, key=MONTHS)
    seasonal = st.toggle("Spread the target like past bookings", value=True, key=SEASONAL)
    ramp_text = st.text_input("Ramp: share of full productivity by month of tenure", DEFAULT_RAMP, key=RAMP)
    quota_musd = st.number_input(
        "Yearly quota of a ramped rep (USD M)",
        min_value=0.0,
        value=float(round(last_year_usd / sellers / 0.9 / 1e6, 1)),
        step=0.1,
        key=QUOTA,
    )
    attainment_pct = st.slider("Expected attainment (%)", 0, 100, 90, key=ATTAINMENT, persist_state=PERSIST)
    attainment_range = st.slider(
        "Attainment, worst to best (%)", 0, 100, (80, 95), key=ATTAINMENT_RANGE, persist_state=PERSIST
    )
    attrition_pct = st.number_input("Monthly attrition (%)", 0.0, 100.0, 1.5, step=0.1, key=ATTRITION)
    attrition_range = st.slider(
        "Monthly attrition, best to worst (%)", 0.0, 10.0, (1.0, 2.5), step=0.1, key=ATTRITION_RANGE
    )
    backfill = st.number_input("Months to backfill a leaver", 0, 24, 2, key=BACKFILL)
    max_hires = st.number_input("Most extra hires per month (0: no limit)", 0, 500, 0, key=MAX_HIRES)

st.subheader("Planned hires")
planned = st.data_editor(
    pd.DataFrame({"month": pd.Series(dtype=str), "hires": pd.Series(dtype=int)}),
    num_rows="dynamic",
    key=HIRES,
    column_config={
        "month": st.column_config.TextColumn("Month (YYYY-MM)"),
        "hires": st.column_config.NumberColumn("Hires", min_value=0, step=1),
    },
)

try:
    ramp = tuple(float(x) for x in ramp_text.split(","))
except ValueError:
    st.error(f"Ramp '{ramp_text}': give shares separated by commas, e.g. {DEFAULT_RAMP}.")
    st.stop()
hires = planned.dropna()
request = CapacityRequest(
    target_usd=target_musd * 1e6,
    ramped_annual_usd=quota_musd * 1e6,
    ramp_frac=ramp,
    attainment_frac=attainment_pct / 100,
    attainment_range_frac=(attainment_range[0] / 100, attainment_range[1] / 100),
    attrition_monthly_frac=attrition_pct / 100,
    attrition_range_frac=(attrition_range[0] / 100, attrition_range[1] / 100),
    backfill_months=int(backfill),
    start_month=start,
    n_months=int(n_months),
    planned_hires=hires.groupby(hires["month"].astype(str))["hires"].sum().astype(int).to_dict(),
    max_hires_per_month=int(max_hires) or None,
    seasonal=seasonal,
)
try:
    capacity = plan_capacity_for(dataset, request, history=history)
except PlannerError as exc:
    st.error(str(exc))
    st.stop()

scenarios = capacity.scenarios
base = capacity.base
cols = st.columns(4)
cols[0].metric(
    "Target (sidebar assumption)",
    format_usd(usd=base.target_usd, decimals=1, scale=" M"),
    help="Three numbers are easy to confuse: this page's target is the assumption in the sidebar "
    "(default: last 12 months' bookings + 10%); the Quotas page allocates the company target stored "
    "with a quota plan version; the Forecast page shows what the model expects, which is not a target.",
)
cols[1].metric("Capacity (base)", format_usd(usd=base.capacity_usd, decimals=1, scale=" M"))
cols[2].metric("Coverage (base)", f"{base.coverage_frac:.0%}")
cols[3].metric("Extra hires needed (base)", f"{base.hires_needed}")
for name, result in scenarios.items():
    if not result.reachable:
        st.warning(
            f"{name}: the target is out of reach within the plan even with these hires "
            f"({format_usd(usd=result.gap_usd, decimals=1, scale=' M')} short): start hiring earlier or "
            "allow more hires per month."
        )

chart_data = pd.concat(
    [base.by_month["target_usd"].rename("target")]
    + [result.by_month["capacity_usd"].rename(f"capacity, {name}") for name, result in scenarios.items()]
    + [base.by_month["capacity_with_hires_usd"].rename("capacity, base + hires needed")],
    axis=1,
)
long = chart_data.rename_axis("month").reset_index().melt("month", var_name="series", value_name="usd")
st.altair_chart(
    alt.Chart(long)
    .mark_line(point=True)
    .encode(
        x=alt.X("month:O", title=None),
        y=alt.Y("usd:Q", title="USD per month"),
        color=alt.Color("series:N", title=None),
        tooltip=["month", "series", alt.Tooltip("usd:Q", format=",.0f")],
    )
    .properties(height=360),
    width="stretch",
)

st.subheader("Scenarios")
st.dataframe(
    capacity.summary(),
    column_config={
        "target_usd": dollar_column("Target"),
        "capacity_usd": dollar_column("Capacity"),
        "coverage_frac": st.column_config.NumberColumn("Coverage", format="percent"),
        "hires_needed": st.column_config.NumberColumn("Extra hires", format="%d"),
        "gap_after_hires_usd": dollar_column("Gap after hires"),
    },
)
st.subheader("Base case by month")
st.dataframe(
    base.by_month,
    column_config={
        "target_usd": dollar_column("Target"),
        "capacity_usd": dollar_column("Capacity"),
        "capacity_with_hires_usd": dollar_column("Capacity with hires"),
        "coverage_frac": st.column_config.NumberColumn("Coverage", format="percent"),
        "cumulative_coverage_frac": st.column_config.NumberColumn("Cumulative coverage", format="percent"),
        "headcount": st.column_config.NumberColumn("Headcount", format="%.1f"),
        "ramped_equivalent": st.column_config.NumberColumn("Ramped equivalent", format="%.1f"),
        "departures": st.column_config.NumberColumn("Leavers", format="%.2f"),
        "backfills_starting": st.column_config.NumberColumn("Backfills starting", format="%.2f"),
        "planned_hires": st.column_config.NumberColumn("Planned hires", format="%d"),
        "hires_needed": st.column_config.NumberColumn("Extra hires needed", format="%d"),
    },
)
