"""Scenarios: compare two plans side by side (maps, balance and contiguity, what moved)."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.data import adjacency_edges, dataset_adjacency, map_layer
from ui.maps import territory_pairs
from ui.session import PERSIST, active_dataset, balance_settings, measure_label, territory_colours, workspace
from ui.territory_map.component import map_arguments, territory_map
from ui.territory_view import territory_labels
from ui.workspace import change_report, compare_metrics

LOADED = "Loaded plan"
CURRENT = "Current workspace"

dataset, token, dataset_label = active_dataset()
units = dataset.units
tolerances = balance_settings(dataset)
adjacency = dataset_adjacency(token, dataset)
ws = workspace(dataset, token)
saved = st.session_state.get(state.SCENARIOS, {})
plans = {LOADED: dataset.plan, CURRENT: ws.plan, **saved}

st.title("Scenarios")
st.caption(
    f"Data: {dataset_label}. Save scenarios on the Territory workspace page; the loaded plan and "
    "the workspace's current plan can always be compared."
)
hint = st.empty()  # always present, so the maps below keep their place (and are not remounted)
if not saved:
    hint.info("No saved scenarios yet: save the current plan on the Territory workspace page.")

names = list(plans)
default_left, default_right = (names[2], names[-1]) if len(saved) >= 2 else (LOADED, CURRENT)
for key, default in ((state.SCENARIO_LEFT, default_left), (state.SCENARIO_RIGHT, default_right)):
    if st.session_state.get(key) not in names:
        st.session_state[key] = default
pick_left, pick_right = st.columns(2)
left = pick_left.selectbox("Scenario A", names, key=state.SCENARIO_LEFT, persist_state=PERSIST)
right = pick_right.selectbox("Scenario B", names, key=state.SCENARIO_RIGHT, persist_state=PERSIST)
before, after = plans[left], plans[right]

measures = [m for m in ("tam_usd", "accounts") if m in units.columns] or list(tolerances)[:1]
moved, by_territory = change_report(before, after, units, list(dict.fromkeys([*measures, *tolerances])))

st.subheader("Maps")
layer = map_layer(token, dataset)
edges = adjacency_edges(token, dataset)
diff_ids = before.assignment.index[before.assignment != after.assignment.reindex(before.assignment.index)]
map_cols = st.columns(2)
for column, name, plan, key in (
    (map_cols[0], left, before, "sc_map_a"),
    (map_cols[1], right, after, "sc_map_b"),
):
    with column:
        st.markdown(f"**{name}**: {len(plan.territories)} territories")
        colours = territory_colours(
            plan.territories, territory_pairs(edges, plan.assignment), remember=plan is ws.plan
        )
        arguments = map_arguments(
            layer,
            plan.assignment,
            plan.assignment.map(colours),
            labels=territory_labels(plan, dataset.reps),
            moved=diff_ids,
            height_px=420,
            selectable=False,
        )
        territory_map(arguments, key=key)
st.caption("Units that differ between A and B are drawn in magenta.")

st.subheader("Metrics")
table = compare_metrics({"A": before, "B": after}, units, adjacency, tolerances)
table["B - A"] = table["B"] - table["A"]
st.dataframe(table.style.format("{:,.2f}"), column_config={"A": f"A: {left}", "B": f"B: {right}"})
st.caption(
    "Worst deviation: largest |territory total / its per-rep target - 1|. Contiguity violations: extra "
    "pieces summed over territories. Dispersion: mean distance (km) of a territory's units to its centre."
)

st.subheader("Change report (A to B)")
total_moved = {m: float(units[m].sum()) for m in measures}
change_cols = st.columns(1 + len(measures))
change_cols[0].metric(
    "Units moved", f"{moved['units']:,}", f"{moved['units'] / max(len(units), 1):.1%} of units"
)
for column, measure in zip(change_cols[1:], measures, strict=True):
    share = moved[measure] / total_moved[measure] if total_moved[measure] else 0.0
    column.metric(f"{measure_label(measure)} moved", f"{moved[measure]:,.0f}", f"{share:.1%} of the total")
if moved["units"]:
    shown_columns = ["units_out", "units_in"] + [f"{m}_{d}" for m in measures for d in ("out", "in")]
    st.dataframe(
        by_territory[shown_columns].style.format("{:,.0f}"),
        column_config={
            "units_out": "Units out",
            "units_in": "Units in",
            **{f"{m}_out": f"{measure_label(m)} out" for m in measures},
            **{f"{m}_in": f"{measure_label(m)} in" for m in measures},
        },
    )
else:
    st.success("The two scenarios assign every unit to the same territory.")
