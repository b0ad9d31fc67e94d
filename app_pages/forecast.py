"""Forecast: each territory's history, forecast and interval, the model it got and why; the backtest."""

from __future__ import annotations

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.backtest import BASELINE, CHOSEN, backtest, default_methods
from planner.forecast.choice import BookingsForecaster
from planner.forecast.frequency import FREQUENCIES, frequency_named
from planner.forecast.history import territory_history
from planner.forecast.territories import forecast_table
from planner.money import format_usd
from planner.plans.plan import Plan
from ui import state
from ui.columns import dollar_column
from ui.session import PERSIST, active_dataset, workspace

LOADED = "Loaded plan"
CURRENT = "Current workspace"
FORECASTS = "terrain.forecasts"  #: dict (token, plan key, frequency, horizon, coverage) -> fitted forecaster
BACKTESTS = "terrain.forecast_backtests"  #: dict (token, plan key, frequency, coverage, origins) -> result
PLAN_PICK = "fc_plan"
FREQUENCY_PICK = "fc_frequency"
TERRITORY_PICK = "fc_territory"
HORIZON = "fc_horizon"
COVERAGE = "fc_coverage_pct"
RUN_BACKTEST = "fc_run_backtest"
ORIGINS = "fc_origins"
KEPT = 4  #: fitted forecasts kept per session


def plan_key(plan: Plan) -> str:
    """Content key of a plan's alignment (cache key: same units in the same territories)."""
    text = plan.assignment.sort_index().to_csv()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@st.cache_data(max_entries=8)
def cached_history(token: str, key: str, frequency: str, _dataset: Dataset, _plan: Plan) -> pd.DataFrame:
    """Bookings per period and territory of the plan."""
    return territory_history(_dataset, _plan, frequency=frequency)


def fitted_forecaster(
    history: pd.DataFrame, cache_key: tuple, horizon: int, coverage: float
) -> BookingsForecaster:
    """The forecaster fitted on ``history``, kept per session; a progress bar while it fits."""
    fitted = st.session_state.setdefault(FORECASTS, {})
    if cache_key not in fitted:
        bar = st.progress(0.0, text="Fitting the candidate models...")
        model = BookingsForecaster(horizon=horizon, coverage=coverage)
        fitted[cache_key] = model.fit(
            history, progress=lambda done, message: bar.progress(min(done, 1.0), text=message)
        )
        bar.empty()
        for old in list(fitted)[:-KEPT]:
            del fitted[old]
    return fitted[cache_key]


dataset, token, dataset_label = active_dataset()
plans = {
    LOADED: dataset.plan,
    CURRENT: workspace(dataset, token).plan,
    **st.session_state.get(state.SCENARIOS, {}),
}

st.title("Forecast")
st.caption(
    f"Data: {dataset_label}. Bookings per territory of the chosen plan (re-aggregated by unit). Each "
    "territory gets the model that forecast its own held-out months best: seasonal naive, exponential "
    "smoothing (ETS), Theta, one gradient-boosting model for all territories, or their mean. Intervals "
    "are calibrated on those held-out errors."
)
left, second, third, right = st.columns(4)
if st.session_state.get(PLAN_PICK) not in plans:
    st.session_state[PLAN_PICK] = LOADED
plan_name = left.selectbox("Plan", list(plans), key=PLAN_PICK, persist_state=PERSIST)
frequency = frequency_named(
    second.selectbox(
        "Period", list(FREQUENCIES), key=FREQUENCY_PICK, persist_state=PERSIST, format_func=str.capitalize
    )
)
season = frequency.season_length
horizon = third.slider(
    f"{frequency.plural.capitalize()} ahead", 1, 2 * season, season, key=f"{HORIZON}_{frequency.name}"
)
coverage_pct = right.select_slider("Interval", [50, 80, 90, 95], 80, key=COVERAGE, persist_state=PERSIST)
plan = plans[plan_name]
key = plan_key(plan)
coverage = coverage_pct / 100

try:
    history = cached_history(token, key, frequency.name, dataset, plan)
    fitted = fitted_forecaster(history, (token, key, frequency.name, horizon, coverage), horizon, coverage)
except PlannerError as exc:
    st.error(str(exc))
    st.stop()
forecast = forecast_table(fitted)

totals = forecast.groupby("territory_id")["forecast_usd"].sum()
last_season = history.iloc[-season:].sum()
cols = st.columns(3)
cols[0].metric("Territories", f"{history.shape[1]:,}")
cols[1].metric(
    f"Bookings, last {season} {frequency.plural}", format_usd(usd=last_season.sum(), decimals=1, scale=" M")
)
cols[2].metric(
    f"Forecast, next {horizon} {frequency.plural}",
    format_usd(usd=totals.sum(), decimals=1, scale=" M"),
    help="What the forecaster expects: not a target (targets are set on the Quotas and Capacity pages).",
    delta=f"{100 * (totals.sum() / last_season.sum() - 1):+.1f}% vs the last year"
    if horizon == season
    else None,
)

territories = list(history.columns)
if st.session_state.get(TERRITORY_PICK) not in territories:
    st.session_state[TERRITORY_PICK] = territories[0]
territory = st.selectbox("Territory", territories, key=TERRITORY_PICK)

period_axis = alt.Axis(format="%b %Y")
ahead = forecast[forecast["territory_id"] == territory].assign(period=fitted.periods_)
past = history[territory].rename("usd").rename_axis("period").reset_index().assign(series="history")
lines = pd.concat(
    [
        past,
        ahead[["period", "forecast_usd"]].rename(columns={"forecast_usd": "usd"}).assign(series="forecast"),
    ]
)
band = (
    alt.Chart(ahead)
    .mark_area(opacity=0.25)
    .encode(
        x=alt.X("period:T", title=None, axis=period_axis),
        y="lower_usd:Q",
        y2="upper_usd:Q",
        tooltip=[
            alt.Tooltip("period:T", format="%d %b %Y"),
            alt.Tooltip("lower_usd:Q", title="lower (USD)", format="$,.0f"),
            alt.Tooltip("upper_usd:Q", title="upper (USD)", format="$,.0f"),
        ],
    )
)
chart = band + alt.Chart(lines).mark_line(point=frequency.name != "week").encode(
    x=alt.X("period:T", title=None, axis=period_axis),
    y=alt.Y("usd:Q", title=f"USD per {frequency.name}", axis=alt.Axis(format="$,.0f")),
    color=alt.Color("series:N", title=None),
    tooltip=[alt.Tooltip("period:T", format="%d %b %Y"), "series:N", alt.Tooltip("usd:Q", format="$,.0f")],
)
st.altair_chart(chart.properties(height=360), width="stretch")
validation = fitted.validation_.loc[territory]
chosen = fitted.choice_[territory]
st.caption(
    f"Shaded: {coverage_pct}% prediction interval. Model: **{chosen}**, held-out WAPE "
    f"{validation[chosen]:.1%} (seasonal naive {validation[BASELINE]:.1%}) over the last "
    f"{len(fitted.validation_origins_)} validation origins."
)

st.subheader("Model per territory")
st.caption(
    "Held-out WAPE: each model fitted on the history up to a validation origin, judged on the "
    f"{frequency.plural} after it that were already known (each horizon weighted alike). The lowest wins, "
    "weighed half by the territory's own record and half by all territories'."
)
by_territory = pd.concat(
    [
        pd.DataFrame(
            {
                "model": fitted.choice_,
                f"last_{season}_usd": last_season,
                f"next_{horizon}_usd": totals,
            }
        ),
        (100 * fitted.validation_).add_prefix("wape "),
    ],
    axis=1,
)
st.dataframe(
    by_territory,
    column_config={
        f"last_{season}_usd": dollar_column(f"Last {season} {frequency.plural} (USD)"),
        f"next_{horizon}_usd": dollar_column(f"Next {horizon} {frequency.plural} (USD)"),
        **{
            f"wape {name}": st.column_config.NumberColumn(f"WAPE {name}", format="%.1f%%")
            for name in fitted.validation_.columns
        },
    },
)
st.download_button(
    "Download forecast (CSV)", forecast.to_csv(index=False), file_name="forecast.csv", key="fc_download"
)

st.subheader("Backtest: the chosen models against seasonal naive and each model alone")
st.caption(
    f"Rolling origins: at each origin every method sees only the {frequency.plural} before it (the model "
    f"choice included) and forecasts the next {season}; WAPE (lower is better), MASE (below 1 beats "
    "in-sample seasonal naive) and the share of outcomes inside the interval."
)
step = max(1, season // 6)
n_origins = st.number_input(
    f"Forecast origins, {step} {frequency.plural if step > 1 else frequency.name} apart "
    "(more: a surer verdict, slower)",
    1,
    12,
    4,
    key=ORIGINS,
)
results = st.session_state.setdefault(BACKTESTS, {})
result_key = (token, key, frequency.name, coverage, int(n_origins))
if st.button("Run backtest", key=RUN_BACKTEST, type="primary", disabled=result_key in results):
    bar = st.progress(0.0, text="Backtesting...")
    try:
        outcome = backtest(
            history,
            default_methods(coverage),
            coverage=coverage,
            n_origins=int(n_origins),
            progress=lambda done, message: bar.progress(min(done, 1.0), text=message),
        )
        results[result_key] = (outcome.table("band"), outcome.origins, outcome.choices().loc[CHOSEN])
    except PlannerError as exc:
        st.error(str(exc))
    bar.empty()
if result_key in results:
    table, origins, choices = results[result_key]
    methods = [
        c.removeprefix("wape_") for c in table.columns if c.startswith("wape_") and c != "wape_change_pct"
    ]
    bars = (
        table[[f"wape_{m}" for m in methods]]
        .set_axis(methods, axis=1)
        .rename_axis("band")
        .reset_index()
        .melt("band", var_name="method", value_name="wape")
    )
    st.altair_chart(
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("method:N", title=None, sort=methods, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("wape:Q", title="WAPE", axis=alt.Axis(format="%")),
            color=alt.Color("method:N", sort=methods, title=None),
            column=alt.Column(
                "band:N", title=f"{frequency.plural.capitalize()} ahead", sort=list(table.index)
            ),
            tooltip=["band:N", "method:N", alt.Tooltip("wape:Q", format=".1%")],
        )
        .properties(width=90, height=220),
    )
    st.dataframe(
        table,
        column_config={
            **{
                f"{metric}_{m}": st.column_config.NumberColumn(
                    f"{label} {m}", format="percent" if metric == "coverage" else "%.3f"
                )
                for m in methods
                for metric, label in (("wape", "WAPE"), ("mase", "MASE"), ("coverage", "Coverage"))
            },
            "wape_change_pct": st.column_config.NumberColumn("WAPE chosen vs naive", format="%+.1f%%"),
        },
    )
    overall = table.loc["all"]
    picked = ", ".join(f"{name} {count}" for name, count in choices.items() if count)
    st.caption(
        f"Origins (last {frequency.name} seen): {', '.join(origins)}. Overall the chosen models' WAPE is "
        f"{overall['wape_change_pct']:+.1f}% vs seasonal naive; their {coverage_pct}% intervals held "
        f"{overall[f'coverage_{CHOSEN}']:.0%} of outcomes. Chosen (territory x origin): {picked}."
    )
else:
    st.info("Run the backtest to see how the forecasts did on periods they never saw.")
