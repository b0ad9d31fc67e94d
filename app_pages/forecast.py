"""Forecast: each territory's bookings history, forecast and interval; the backtest against seasonal naive."""

from __future__ import annotations

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.backtest import BASELINE, MODEL, backtest, default_forecasters
from planner.forecast.history import territory_history
from planner.forecast.model import forecast_territories
from planner.money import format_usd
from planner.plans.plan import Plan
from ui import state
from ui.columns import dollar_column
from ui.session import PERSIST, active_dataset, workspace

LOADED = "Loaded plan"
CURRENT = "Current workspace"
BACKTESTS = "terrain.forecast_backtests"  #: dict (token, plan key, horizon, coverage) -> table
PLAN_PICK = "fc_plan"
TERRITORY_PICK = "fc_territory"
HORIZON = "fc_horizon"
COVERAGE = "fc_coverage_pct"
RUN_BACKTEST = "fc_run_backtest"
ORIGINS = "fc_origins"


def plan_key(plan: Plan) -> str:
    """Content key of a plan's alignment (cache key: same units in the same territories)."""
    text = plan.assignment.sort_index().to_csv()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@st.cache_data(max_entries=8, show_spinner="Fitting the forecast model...")
def cached_forecast(
    token: str, key: str, horizon: int, coverage: float, _dataset: Dataset, _plan: Plan
) -> pd.DataFrame:
    """Territory forecast of a data set and plan (cached per token, plan content and settings)."""
    return forecast_territories(_dataset, _plan, horizon=horizon, coverage=coverage)


@st.cache_data(max_entries=8)
def cached_history(token: str, key: str, _dataset: Dataset, _plan: Plan) -> pd.DataFrame:
    """Monthly bookings per territory of the plan."""
    return territory_history(_dataset, _plan)


dataset, token, dataset_label = active_dataset()
plans = {
    LOADED: dataset.plan,
    CURRENT: workspace(dataset, token).plan,
    **st.session_state.get(state.SCENARIOS, {}),
}

st.title("Forecast")
st.caption(
    f"Data: {dataset_label}. Monthly bookings per territory of the chosen plan (re-aggregated by unit), "
    "forecast by one gradient-boosting model for all territories, with conformal prediction intervals."
)
left, middle, right = st.columns(3)
if st.session_state.get(PLAN_PICK) not in plans:
    st.session_state[PLAN_PICK] = LOADED
plan_name = left.selectbox("Plan", list(plans), key=PLAN_PICK, persist_state=PERSIST)
horizon = middle.slider("Months ahead", 1, 24, 12, key=HORIZON, persist_state=PERSIST)
coverage_pct = right.select_slider("Interval", [50, 80, 90, 95], 80, key=COVERAGE, persist_state=PERSIST)
plan = plans[plan_name]
key = plan_key(plan)
coverage = coverage_pct / 100

try:
    history = cached_history(token, key, dataset, plan)
    forecast = cached_forecast(token, key, horizon, coverage, dataset, plan)
except PlannerError as exc:
    st.error(str(exc))
    st.stop()

totals = forecast.groupby("territory_id")["forecast_usd"].sum()
last_year = history.iloc[-12:].sum()
cols = st.columns(3)
cols[0].metric("Territories", f"{history.shape[1]:,}")
cols[1].metric("Bookings, last 12 months", format_usd(usd=last_year.sum(), decimals=1, scale=" M"))
cols[2].metric(
    f"Forecast, next {horizon} months",
    format_usd(usd=totals.sum(), decimals=1, scale=" M"),
    help="What the model expects: not a target (targets are set on the Quotas and Capacity pages).",
    delta=f"{100 * (totals.sum() / last_year.sum() - 1):+.1f}% vs last 12 months" if horizon == 12 else None,
)

territories = list(history.columns)
if st.session_state.get(TERRITORY_PICK) not in territories:
    st.session_state[TERRITORY_PICK] = territories[0]
territory = st.selectbox("Territory", territories, key=TERRITORY_PICK)

past = history[territory].rename("usd").rename_axis("month").reset_index().assign(series="history")
ahead = forecast[forecast["territory_id"] == territory].assign(month=lambda f: pd.to_datetime(f["month"]))
lines = pd.concat(
    [past, ahead[["month", "forecast_usd"]].rename(columns={"forecast_usd": "usd"}).assign(series="forecast")]
)
band = (
    alt.Chart(ahead)
    .mark_area(opacity=0.25)
    .encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
        y="lower_usd:Q",
        y2="upper_usd:Q",
        tooltip=[
            alt.Tooltip("month:T", format="%b %Y"),
            alt.Tooltip("lower_usd:Q", title="lower (USD)", format="$,.0f"),
            alt.Tooltip("upper_usd:Q", title="upper (USD)", format="$,.0f"),
        ],
    )
)
chart = band + alt.Chart(lines).mark_line(point=True).encode(
    x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
    y=alt.Y("usd:Q", title="USD per month", axis=alt.Axis(format="$,.0f")),
    color=alt.Color("series:N", title=None),
    tooltip=[alt.Tooltip("month:T", format="%b %Y"), "series:N", alt.Tooltip("usd:Q", format="$,.0f")],
)
st.altair_chart(chart.properties(height=360), width="stretch")
st.caption(f"Shaded: {coverage_pct}% prediction interval.")

st.subheader("Forecast by territory")
by_territory = pd.DataFrame({"last_12_months_usd": last_year, f"next_{horizon}_months_usd": totals})
st.dataframe(
    by_territory,
    column_config={
        "last_12_months_usd": dollar_column("Last 12 months (USD)"),
        f"next_{horizon}_months_usd": dollar_column(f"Next {horizon} months (USD)"),
    },
)
st.download_button(
    "Download forecast (CSV)", forecast.to_csv(index=False), file_name="forecast.csv", key="fc_download"
)

st.subheader("Backtest: model vs seasonal naive")
st.caption(
    "Rolling origins: at each origin the model and the baseline see only the months before it and "
    "forecast the next months; WAPE (lower is better), MASE (below 1 beats in-sample seasonal naive) "
    "and the share of outcomes inside the interval."
)
n_origins = st.number_input(
    "Forecast origins, 2 months apart (more: a surer verdict, slower)", 1, 8, 4, key=ORIGINS
)
results = st.session_state.setdefault(BACKTESTS, {})
result_key = (token, key, horizon, coverage, int(n_origins))
if st.button("Run backtest", key=RUN_BACKTEST, type="primary", disabled=result_key in results):
    bar = st.progress(0.0, text="Backtesting...")
    try:
        outcome = backtest(
            history,
            default_forecasters(horizon, coverage),
            horizon=horizon,
            coverage=coverage,
            n_origins=int(n_origins),
            progress=lambda done, message: bar.progress(min(done, 1.0), text=message),
        )
        results[result_key] = (outcome.table(), outcome.origins)
    except PlannerError as exc:
        st.error(str(exc))
    bar.empty()
if result_key in results:
    table, origins = results[result_key]
    st.dataframe(
        table,
        column_config={
            f"wape_{MODEL}": st.column_config.NumberColumn("WAPE model", format="%.3f"),
            f"wape_{BASELINE}": st.column_config.NumberColumn("WAPE naive", format="%.3f"),
            f"mase_{MODEL}": st.column_config.NumberColumn("MASE model", format="%.3f"),
            f"mase_{BASELINE}": st.column_config.NumberColumn("MASE naive", format="%.3f"),
            f"coverage_{MODEL}": st.column_config.NumberColumn("Coverage model", format="percent"),
            f"coverage_{BASELINE}": st.column_config.NumberColumn("Coverage naive", format="percent"),
            "wape_change_pct": st.column_config.NumberColumn("WAPE change", format="%+.1f%%"),
        },
    )
    overall = table.loc["all"]
    st.caption(
        f"Origins (last month seen): {', '.join(origins)}. Overall the model's WAPE is "
        f"{overall['wape_change_pct']:+.1f}% vs seasonal naive; its {coverage_pct}% intervals held "
        f"{overall[f'coverage_{MODEL}']:.0%} of outcomes."
    )
else:
    st.info("Run the backtest to see how the model did against seasonal naive on months it never saw.")
