"""Data overview: the loaded units on a map, and the reps, accounts and bookings behind them."""

import altair as alt
import pandas as pd
import streamlit as st

from planner.money import format_usd
from ui.columns import dollar_column, readable_columns
from ui.data import DEMO_TOKEN, demo_dataset, map_layer
from ui.maps import field_reps
from ui.session import MEASURE_LABELS
from ui.territory_map.component import map_arguments, territory_map
from ui.territory_view import measure_fills, territory_labels

dataset = demo_dataset()
units = dataset.units
st.title("Data overview")
st.caption(
    "Demo data: 3,108 real US counties (Census 2016 boundaries, BLS 2009 labor force) with "
    "synthetic accounts, reps and bookings. See the README for sources and licences."
)

last12 = units["bookings_usd"].sum()
cols = st.columns(6)
cols[0].metric("Units", f"{len(units):,}")
cols[1].metric("Territories", f"{len(dataset.plan.territories):,}")
cols[2].metric("Reps", f"{(dataset.reps['role'] != 'manager').sum():,}")
cols[3].metric("Accounts", f"{len(dataset.accounts):,}")
cols[4].metric("TAM", format_usd(usd=units["tam_usd"].sum(), decimals=2, scale=" B"))
cols[5].metric("Bookings, last 12 months", format_usd(usd=last12, decimals=1, scale=" M"))

for warning in dataset.warnings:
    st.warning(str(warning))

measures = [m for m in dataset.measures if m in MEASURE_LABELS] + [
    m for m in dataset.measures if m not in MEASURE_LABELS
]
measure = st.selectbox(
    "Colour units by", measures, format_func=lambda m: MEASURE_LABELS.get(m, m), key="overview_measure"
)

plan = dataset.plan
fills, legend = measure_fills(units[measure])
labels = territory_labels(plan, dataset.reps)
arguments = map_arguments(
    map_layer(DEMO_TOKEN, dataset),
    plan.assignment,
    fills,
    labels=labels,
    homes=field_reps(dataset.reps),
    height_px=560,
    selectable=False,
)
map_col, legend_col = st.columns([5, 1])
with map_col:
    territory_map(arguments, key="overview_map")
with legend_col:
    st.markdown(f"**{MEASURE_LABELS.get(measure, measure)}**")
    st.markdown(
        "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;'
            f'background:{colour};border:1px solid #888;margin-right:6px"></span>{label}</div>'
            for colour, label in legend
        ),
        unsafe_allow_html=True,
    )
    st.markdown("Labels and dark lines: current territories and their reps. Red dots: rep home bases.")

st.subheader("Current territories")
by_territory = (
    units.groupby(dataset.plan.assignment)[["tam_usd", "bookings_usd", "accounts", "workload_hours"]]
    .sum()
    .assign(units=dataset.plan.assignment.value_counts())
)
by_territory["reps"] = dataset.plan.rep_count()
by_territory["tam_vs_mean_pct"] = 100 * (by_territory["tam_usd"] / by_territory["tam_usd"].mean() - 1)
st.dataframe(
    by_territory.sort_values("tam_usd", ascending=False),
    column_config={
        "territory_id": "Territory",
        "tam_usd": dollar_column("TAM (USD)"),
        "bookings_usd": dollar_column("Bookings 12m (USD)"),
        "accounts": st.column_config.NumberColumn("Accounts", format="localized"),
        "workload_hours": st.column_config.NumberColumn("Workload (hours/yr)", format="localized"),
        "units": st.column_config.NumberColumn("Units", format="localized"),
        "reps": st.column_config.NumberColumn("Reps", format="%d"),
        "tam_vs_mean_pct": st.column_config.ProgressColumn(
            "TAM vs mean (%)", min_value=-100, max_value=300, format="%+.0f%%"
        ),
    },
)

st.subheader("Bookings history")
monthly = dataset.bookings.set_index("date")["amount_usd"].resample("MS").sum().rename("bookings_usd")
st.altair_chart(
    alt.Chart(monthly.rename_axis("month").reset_index())
    .mark_line(point=True)
    .encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
        y=alt.Y("bookings_usd:Q", title="Bookings, USD per month", axis=alt.Axis(format="$,.0f")),
        tooltip=[alt.Tooltip("month:T", format="%b %Y"), alt.Tooltip("bookings_usd:Q", format="$,.0f")],
    )
    .properties(height=280),
    width="stretch",
)

tab_reps, tab_accounts, tab_bookings = st.tabs(["Reps", "Accounts", "Bookings"])
with tab_reps:
    reps = dataset.reps.join(dataset.plan.territory_reps.rename("territory"))
    st.dataframe(reps, column_config=readable_columns(reps))
with tab_accounts:
    search = st.text_input("Find accounts by name or id", key="overview_account_search")
    accounts = dataset.accounts
    if search:
        hit = accounts["name"].str.contains(search, case=False, regex=False) | accounts.index.str.contains(
            search, case=False, regex=False
        )
        accounts = accounts[hit.fillna(False)]
    st.dataframe(accounts.head(1000), column_config=readable_columns(accounts))
    st.caption(f"{len(accounts):,} accounts match; the first 1,000 are shown.")
with tab_bookings:
    bookings = pd.DataFrame(dataset.bookings.tail(1000))
    st.dataframe(bookings, column_config=readable_columns(bookings))
