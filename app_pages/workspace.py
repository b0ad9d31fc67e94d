"""Territory workspace: select units on the map, move and lock them, watch the balance, optimize, undo."""

from __future__ import annotations

import dataclasses
import html

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from planner.errors import PlanError, PlannerError
from planner.optimize.api import Outcome, optimize_dataset
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.files import alignment_csv, territory_reps_csv
from planner.plans.metrics import detached_units
from ui import state
from ui.data import (
    UPLOAD_TYPES,
    adjacency_edges,
    dataset_adjacency,
    dataset_points,
    editor_units,
    load_uploaded_files,
    unit_labels,
    upload_token,
)
from ui.maps import field_reps, territory_pairs, workspace_map
from ui.session import (
    PERSIST,
    active_dataset,
    balance_settings,
    measure_label,
    territory_colours,
    use_dataset,
    workspace,
)
from ui.workspace import (
    OptimizationSummary,
    balance_table,
    headline_metrics,
    selection_from_map,
    style_balance,
    summarize_selection,
    territory_choices,
    unique_name,
)

dataset, token, dataset_label = active_dataset()
units = dataset.units
tolerances = balance_settings(dataset)
measures = list(tolerances)
adjacency = dataset_adjacency(token, dataset)
ws = workspace(dataset, token)
session = st.session_state


# ---- callbacks: they change session state before the page draws ---------------------------------


def notify(kind: str, text: str) -> None:
    """Show ``text`` once, at the top of the next run."""
    session[state.NOTICE] = (kind, text)


def on_map_event() -> None:
    """A click toggles the clicked unit; a drawn shape selects the units whose centroid is inside."""
    selected = selection_from_map(
        session.get(state.MAP), dataset_points(token, dataset), session[state.SELECTION]
    )
    if selected is not None:
        session[state.SELECTION] = selected


def on_move() -> None:
    """Move the selection to the chosen (or new) territory."""
    target = session[state.NEW_TERRITORY].strip() or session.get(state.MOVE_TARGET) or ""
    selected = session[state.SELECTION]
    if not selected:
        notify(
            "warning", "Select units first (click them on the map, draw a shape or pick them in the list)."
        )
        return
    try:
        moved = session[state.WORKSPACE].move(selected, target)
    except PlanError as exc:
        notify("error", str(exc))
        return
    if moved is session[state.WORKSPACE]:
        notify("info", f"The selected units are already in {target}.")
        return
    session[state.WORKSPACE] = moved
    session[state.NEW_TERRITORY] = ""
    session[state.MOVE_TARGET] = target
    notify("success", f"{moved.current.label[0].upper()}{moved.current.label[1:]}.")


def on_lock(lock: bool) -> None:
    """Lock or unlock the selection."""
    selected = session[state.SELECTION]
    current = session[state.WORKSPACE]
    session[state.WORKSPACE] = current.lock(selected) if lock else current.unlock(selected)
    verb = "Locked" if lock else "Unlocked"
    notify("success", f"{verb} {len(selected)} unit(s).")


def on_undo() -> None:
    """Step back in the history."""
    session[state.WORKSPACE] = session[state.WORKSPACE].undo()


def on_redo() -> None:
    """Step forward in the history."""
    session[state.WORKSPACE] = session[state.WORKSPACE].redo()


def on_clear_selection() -> None:
    """Empty the selection."""
    session[state.SELECTION] = []


def on_save_scenario() -> None:
    """Save the current plan as a named scenario."""
    saved = dict(session.get(state.SCENARIOS, {}))
    name = unique_name(session[state.SCENARIO_NAME] or f"Scenario {len(saved) + 1}", saved)
    saved[name] = session[state.WORKSPACE].plan
    session[state.SCENARIOS] = saved
    session[state.SCENARIO_NAME] = ""
    notify(
        "success", f"Saved the current plan as scenario '{name}'. Compare scenarios on the Scenarios page."
    )


def on_load_files() -> None:
    """Check the uploaded files; switch to them when they load without errors."""
    uploaded = session.get(state.UPLOADER) or []
    files = [(f.name, f.getvalue()) for f in uploaded]
    loaded, problems = load_uploaded_files(files)
    session[state.UPLOAD_PROBLEMS] = [(p.severity, str(p)) for p in problems]
    if loaded is not None:
        use_dataset(loaded, upload_token(files), f"your files ({', '.join(sorted(n for n, _ in files))})")
        notify(
            "success", f"Loaded {len(loaded.units):,} units and {len(loaded.plan.territories)} territories."
        )


def on_use_demo() -> None:
    """Go back to the demo data set."""
    use_dataset(None)
    session[state.UPLOAD_PROBLEMS] = []


# ---- page ------------------------------------------------------------------------------------------

st.title("Territory workspace")
plan = ws.plan
st.caption(
    f"Data: {dataset_label}. {len(units):,} units in {len(plan.territories)} territories. "
    f"Step {ws.position + 1} of {len(ws.steps)}: {ws.current.label}."
)
# The notice slot exists on every run, so a notice never shifts the elements below it: a
# shifted map would be remounted by the browser, lose its view and rerun the page.
notice_slot = st.empty()
notice = session.pop(state.NOTICE, None)
if notice is not None:
    getattr(notice_slot, notice[0])(notice[1])

with st.expander("Data set: load your own files", expanded=bool(session.get(state.UPLOAD_PROBLEMS))):
    st.markdown(
        "Upload the files of a data set, named after their tables: `units` (.geojson, .gpkg or "
        ".parquet), `alignment.csv`, and optionally `accounts.csv`, `reps.csv`, `bookings.csv`, "
        "`territory_reps.csv`. Every problem is listed with its file, row, column and fix."
    )
    st.file_uploader(
        "Data set files", type=list(UPLOAD_TYPES), accept_multiple_files=True, key=state.UPLOADER
    )
    load_col, demo_col = st.columns(2)
    load_col.button("Check and load the files", on_click=on_load_files, type="primary", key="ws_load_files")
    demo_col.button(
        "Use the demo data", on_click=on_use_demo, disabled=state.DATASET not in session, key="ws_use_demo"
    )
    for severity, text in session.get(state.UPLOAD_PROBLEMS, []):
        (st.error if severity == "error" else st.warning)(text)

colour_options = ["territory", *dataset.measures]
selection = [u for u in session[state.SELECTION] if u in units.index]
assignment = plan.assignment
detached = detached_units(plan, adjacency)
shown = editor_units(token, dataset)
colours = territory_colours(plan.territories, territory_pairs(adjacency_edges(token, dataset), assignment))

map_col, side_col = st.columns([3, 1], gap="medium")
with map_col:
    colour_by = st.selectbox(
        "Colour units by",
        colour_options,
        format_func=lambda m: "Territory" if m == "territory" else measure_label(m),
        key=state.COLOUR_BY,
        persist_state=PERSIST,
    )
    fmap, layers, legend = workspace_map(
        shown,
        assignment,
        colours,
        colour_by="territory" if colour_by == "territory" else units[colour_by],
        homes=field_reps(dataset.reps),
        selected=selection,
        locked=ws.locked,
        detached=detached.index,
    )
    st_folium(
        fmap,
        key=state.MAP,
        feature_group_to_add=layers,
        returned_objects=["last_active_drawing", "last_object_clicked_count"],
        on_change=on_map_event,
        height=600,
        use_container_width=True,
    )
    swatches = "".join(
        f'<span style="display:inline-block;margin:0 10px 4px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:12px;height:12px;background:{colour};'
        f'border:1px solid #888;margin-right:4px;vertical-align:middle"></span>{html.escape(label)}</span>'
        for colour, label in legend
    )
    title = "Territories" if colour_by == "territory" else measure_label(colour_by)
    st.markdown(f"**{title}**<br>{swatches}", unsafe_allow_html=True)
    st.caption(
        "Thick lines: territory borders. Red dots: rep home bases. White with black border: selected. "
        "Dashed blue: locked. Red: cut off from the rest of its territory. "
        "Click a unit to (de)select it; draw a rectangle or polygon to select the units inside."
    )

with side_col:
    st.subheader("Selection")
    labels = unit_labels(token, dataset)
    st.multiselect(
        "Selected units (type to search)",
        list(labels),
        format_func=labels.__getitem__,
        key=state.SELECTION,
        placeholder="Search units by name or id",
        persist_state=PERSIST,
    )
    summary_measures = [m for m in ("tam_usd", "accounts") if m in units.columns]
    picked = summarize_selection(units, selection, summary_measures)
    st.caption(
        f"{len(selection)} unit(s) selected"
        + "".join(f"; {measure_label(m)}: {picked[m]:,.0f}" for m in summary_measures)
        + f"; {len(ws.locked & set(selection))} locked."
    )
    st.button("Clear selection", on_click=on_clear_selection, disabled=not selection, key="ws_clear")
    choices = territory_choices(plan)
    if session.get(state.MOVE_TARGET) not in choices:
        session[state.MOVE_TARGET] = choices[0]
    st.selectbox("Move to territory", choices, key=state.MOVE_TARGET, persist_state=PERSIST)
    st.text_input("…or to a new territory id", key=state.NEW_TERRITORY, placeholder="e.g. T51")
    st.button("Move selection", on_click=on_move, type="primary", disabled=not selection, key="ws_move")
    lock_col, unlock_col = st.columns(2)
    lock_col.button("Lock", on_click=on_lock, args=(True,), disabled=not selection, key="ws_lock")
    unlock_col.button("Unlock", on_click=on_lock, args=(False,), disabled=not selection, key="ws_unlock")
    st.caption(f"{len(ws.locked)} unit(s) locked: the optimizer keeps them in their territory.")

    st.subheader("History")
    undo_col, redo_col = st.columns(2)
    undo_col.button("Undo", on_click=on_undo, disabled=not ws.can_undo, key="ws_undo", icon=":material/undo:")
    redo_col.button("Redo", on_click=on_redo, disabled=not ws.can_redo, key="ws_redo", icon=":material/redo:")

    st.subheader("Scenarios")
    st.text_input("Scenario name", key=state.SCENARIO_NAME, placeholder="e.g. West split")
    st.button("Save as scenario", on_click=on_save_scenario, key="ws_save")
    saved = session.get(state.SCENARIOS, {})
    if saved:
        st.caption("Saved: " + ", ".join(saved))
    st.download_button(
        "Download alignment.csv",
        alignment_csv(plan),
        file_name="alignment.csv",
        mime="text/csv",
        on_click="ignore",
    )
    st.download_button(
        "Download territory_reps.csv",
        territory_reps_csv(plan),
        file_name="territory_reps.csv",
        mime="text/csv",
        on_click="ignore",
    )

st.subheader("Balance")
table = balance_table(ws.tally, plan, tolerances, adjacency)
out = table["out_of_tolerance"] != ""
pieces = table["pieces"]
metric_cols = st.columns(4)
metric_cols[0].metric("Territories", f"{len(table)}")
metric_cols[1].metric("Out of tolerance", f"{int(out.sum())}")
metric_cols[2].metric("Not contiguous", f"{int((pieces > 1).sum())}")
metric_cols[3].metric("Locked units", f"{len(ws.locked)}")
table_col, chart_col = st.columns([3, 2], gap="medium")
with table_col:
    st.dataframe(
        style_balance(table, tolerances),
        column_config={
            "units": st.column_config.NumberColumn("Units"),
            "reps": st.column_config.NumberColumn("Reps"),
            "pieces": st.column_config.NumberColumn("Pieces"),
            "out_of_tolerance": st.column_config.TextColumn("Out of tolerance"),
        }
        | {m: st.column_config.NumberColumn(measure_label(m)) for m in measures}
        | {
            f"{m}_dev_pct": st.column_config.NumberColumn(f"{measure_label(m)} vs mean (%)") for m in measures
        },
        height=420,
    )
    st.caption(
        "Deviation from the per-rep mean (a territory with r reps targets r shares): green within "
        "the tolerance set in the sidebar, red outside."
    )
with chart_col:
    deviation_chart = table[[f"{m}_dev_pct" for m in measures]].rename(
        columns={f"{m}_dev_pct": measure_label(m) for m in measures}
    )
    st.bar_chart(deviation_chart, stack=False, y_label="Deviation from per-rep mean (%)", height=420)

problems = table.loc[pieces > 1, "pieces"]
if len(problems):
    lines = []
    for territory, count in problems.items():
        cut = detached.index[detached == territory].tolist()
        names = ", ".join(labels[u] for u in cut[:5]) + (" ..." if len(cut) > 5 else "")
        lines.append(f"- **{territory}**: {count} pieces; cut off: {names}")
    st.warning("Territories in more than one piece (outlined red on the map):\n" + "\n".join(lines))
else:
    st.success("Every territory is contiguous.")

st.subheader("Optimize from the current plan")
primary = measures[0]
opt_cols = st.columns(4)
opt_cols[0].slider(
    f"Disruption budget (% of {measure_label(primary)} that may move; 100 = no budget)",
    min_value=1,
    max_value=100,
    key=state.DISRUPTION_BUDGET,
    persist_state=PERSIST,
)
opt_cols[1].slider(
    "Time limit (s)",
    min_value=2,
    max_value=120,
    key=state.TIME_LIMIT,
    persist_state=PERSIST,
    help="Seconds of search work (about wall seconds here). The same settings give the same plan.",
)
opt_cols[2].slider(
    "Compactness weight",
    min_value=0.0,
    max_value=5.0,
    step=0.25,
    key=state.COMPACTNESS,
    persist_state=PERSIST,
)
opt_cols[3].checkbox("Tolerances are hard limits", key=state.HARD_TOLERANCES, persist_state=PERSIST)
st.caption(
    f"Balances {', '.join(measure_label(m) for m in measures)} within the sidebar tolerances. "
    f"{len(ws.locked)} locked unit(s) and the units of protected accounts stay where they are. "
    "The result becomes a new step: Undo goes back."
)
if st.button("Optimize", type="primary", key="ws_optimize", icon=":material/auto_fix_high:"):
    budget = session[state.DISRUPTION_BUDGET]
    options = OptimizeOptions(
        targets=tuple(
            BalanceTarget(m, t, hard=session[state.HARD_TOLERANCES]) for m, t in tolerances.items()
        ),
        compactness_weight=float(session[state.COMPACTNESS]),
        max_disruption=None if budget >= 100 else budget / 100.0,
        locked_units=ws.locked_units(),
        time_limit_s=float(session[state.TIME_LIMIT]),
        seed=0,
    )
    bar = st.progress(0.0, text="Starting the optimizer...")

    def report_progress(fraction: float, message: str) -> None:
        """Feed the optimizer's progress to the bar."""
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    try:
        result = optimize_dataset(
            dataclasses.replace(dataset, plan=plan),
            options=options,
            progress=report_progress,
            adjacency=adjacency,
        )
    except PlannerError as exc:
        bar.empty()
        st.error(f"The optimizer could not run: {exc}")
    else:
        before = headline_metrics(plan, units, adjacency, tolerances)
        after = headline_metrics(result.plan, units, adjacency, tolerances)
        moved = int((result.plan.assignment.reindex(plan.units) != plan.assignment).sum())
        session[state.OPTIMIZATION] = OptimizationSummary(
            status=result.status,
            messages=result.messages,
            metrics=pd.DataFrame({"before": before, "after": after, "change": after - before}),
            seconds=result.seconds,
            units_moved=moved,
        )
        session[state.WORKSPACE] = ws.adopt(result.plan, units, f"optimized ({result.status})")
        st.rerun()

summary = session.get(state.OPTIMIZATION)
if summary is not None:
    status_text = (
        f"Last optimization: {summary.status.replace('_', ' ')} in {summary.seconds:.1f} s; "
        f"{summary.units_moved:,} units changed territory."
    )
    (st.success if summary.status == Outcome.BALANCED else st.warning)(status_text)
    for message in summary.messages:
        st.info(message)
    st.dataframe(summary.metrics.style.format("{:,.2f}"))
