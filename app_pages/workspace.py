"""Territory workspace: select units on the map, move and lock them, watch the balance, optimize, undo.

The map, the edit panel and the balance live in one fragment: an edit reruns only them,
and the map restyles in place (see :mod:`ui.territory_map`).
"""

from __future__ import annotations

import html

import streamlit as st

from planner.errors import PlanError
from planner.plans.files import alignment_csv, territory_reps_csv
from planner.plans.metrics import detached_units
from planner.plans.tally import TerritoryTally
from ui import optimize_panel, state
from ui.columns import dollar_column
from ui.data import (
    DEMO_GEOGRAPHIES,
    UPLOAD_TYPES,
    adjacency_edges,
    dataset_adjacency,
    load_uploaded_files,
    map_layer,
    unit_labels,
    upload_token,
)
from ui.maps import field_reps, territory_pairs
from ui.session import (
    PERSIST,
    active_dataset,
    balance_settings,
    measure_label,
    territory_colours,
    use_dataset,
    workspace,
)
from ui.territory_map.component import map_arguments, selection_from_map, territory_map
from ui.territory_view import (
    deviation_chart,
    measure_fills,
    territory_facts,
    territory_labels,
    worst_first,
)
from ui.workspace import balance_table, summarize_selection, territory_choices, unique_name

SHOWN_PROBLEMS = 20  #: upload problems listed on the page (the rest are counted)

dataset, token, dataset_label = active_dataset()
units = dataset.units
tolerances = balance_settings(dataset)
measures = list(tolerances)
adjacency = dataset_adjacency(token, dataset)
workspace(dataset, token)
session = st.session_state
session.setdefault(state.MAP_ECHO, ("", 0))
session.setdefault(state.FOCUS_TOKEN, 0)


# ---- callbacks: they change session state before the page draws ---------------------------------


def notify(kind: str, text: str) -> None:
    """Show ``text`` once, at the top of the next run."""
    session[state.NOTICE] = (kind, text)


def on_map_selection() -> None:
    """The map sent the user's selection: it becomes the session's selection."""
    value = session.get(state.MAP)
    if not value:
        return
    session[state.SELECTION], session[state.MAP_ECHO] = selection_from_map(value, unit_labels(token, dataset))


def on_find_territory() -> None:
    """Zoom the map to the chosen territory."""
    session[state.FOCUS_TOKEN] += 1


def on_move() -> None:
    """Move the selection to the chosen (or new) territory."""
    target = session[state.NEW_TERRITORY].strip() or session.get(state.MOVE_TARGET) or ""
    selected = session[state.SELECTION]
    if not selected:
        notify("warning", "Select units first (click them on the map, draw around them or find one by name).")
        return
    try:
        moved = session[state.WORKSPACE].move(selected, target)
    except PlanError as exc:
        notify("error", str(exc))
        return
    if moved is session[state.WORKSPACE]:
        notify("info", f"The selected units are already in {target}.")
        return
    before = set(session[state.WORKSPACE].plan.territories)
    session[state.WORKSPACE] = moved
    session[state.NEW_TERRITORY] = ""
    session[state.MOVE_TARGET] = target
    text = f"{moved.current.label[0].upper()}{moved.current.label[1:]}."
    emptied = sorted(before - set(moved.plan.territories))
    if emptied:
        # A territory never disappears silently: say so, and how to bring it back.
        notify(
            "warning", f"{text} {', '.join(emptied)} now has no units and leaves the plan (Undo restores it)."
        )
    else:
        notify("success", text)


def on_lock(lock: bool) -> None:
    """Lock or unlock the selection."""
    selected = session[state.SELECTION]
    current = session[state.WORKSPACE]
    session[state.WORKSPACE] = current.lock(selected) if lock else current.unlock(selected)
    notify("success", f"{'Locked' if lock else 'Unlocked'} {len(selected)} unit(s).")


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
pressed, floor = optimize_panel.sidebar(dataset, tolerances, session[state.WORKSPACE])

with st.expander(
    "Data set: demo geography, or your own files", expanded=bool(session.get(state.UPLOAD_PROBLEMS))
):
    st.radio(
        "Demo geography",
        list(DEMO_GEOGRAPHIES),
        format_func=lambda token: DEMO_GEOGRAPHIES[token].removeprefix("demo data (").removesuffix(")"),
        key=state.DEMO_GEOGRAPHY,
        on_change=on_use_demo,
        persist_state=PERSIST,
        disabled=state.DATASET in session,
        help="ZIP cells are Voronoi cells of real ZIP points clipped to their county, with the county's "
        "measures split by population (see data/README.md). Each ZIP starts in its county's territory.",
    )
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
    found = session.get(state.UPLOAD_PROBLEMS, [])
    for severity, text in found[:SHOWN_PROBLEMS]:
        (st.error if severity == "error" else st.warning)(text)
    if len(found) > SHOWN_PROBLEMS:
        st.error(
            f"...and {len(found) - SHOWN_PROBLEMS:,} more problems ({len(found):,} in all; the first "
            f"{SHOWN_PROBLEMS} are shown). `planner validate` on the files lists every one."
        )

if pressed:
    optimize_panel.run(pressed, dataset, adjacency, tolerances, session[state.WORKSPACE], floor)


def plan_view(plan, tally):
    """Balance table, labels, cut-off units and neighbouring territory pairs of ``plan``.

    Kept for the last plan drawn, so a rerun that only changes the selection recomputes nothing.
    """
    key = (plan, tuple(tolerances.items()))
    cached = session.get(state.PLAN_VIEW)
    if cached is not None and cached[0][0] is plan and cached[0][1] == key[1]:
        return cached[1]
    tally = tally or TerritoryTally.from_plan(plan, units, dataset.measures)
    view = (
        balance_table(tally, plan, tolerances, adjacency),
        territory_labels(plan, dataset.reps),
        detached_units(plan, adjacency),
        territory_pairs(adjacency_edges(token, dataset), plan.assignment),
    )
    session[state.PLAN_VIEW] = (key, view)
    return view


@st.fragment
def editor() -> None:
    """Map, edit panel and balance: an edit reruns only this part of the page."""
    ws = session[state.WORKSPACE]
    preview = optimize_panel.previewed()
    plan = preview.plan if preview is not None else ws.plan
    labels = unit_labels(token, dataset)
    selection = [u for u in session[state.SELECTION] if u in labels]
    caption = (
        f"Data: {dataset_label}. {len(units):,} units in {len(ws.plan.territories)} territories. "
        f"Step {ws.position + 1} of {len(ws.steps)}: {ws.current.label}."
    )
    st.caption(caption)
    # The notice slot exists on every run, so a notice never shifts the elements below it.
    notice_slot = st.empty()
    notice = session.pop(state.NOTICE, None)
    if notice is not None:
        getattr(notice_slot, notice[0])(notice[1])
    if preview is not None:
        st.info(
            f"Previewing the proposed plan **{preview.label}** ({preview.units_moved:,} units moved, "
            "in magenta). "
            "Accept or discard it under *Proposed plans* below; edits are paused meanwhile."
        )

    table, names, detached, pairs = plan_view(plan, ws.tally if preview is None else None)

    map_col, side_col = st.columns([3, 1], gap="medium")
    # The balance is drawn below the map but sent first: the browser lays out its table and
    # chart while the map's arguments are computed.
    with st.container():
        balance(table, names, detached, labels)
    with map_col:
        colour_col, find_col = st.columns(2)
        colour_by = colour_col.selectbox(
            "Colour units by",
            ["territory", *dataset.measures],
            format_func=lambda m: "Territory" if m == "territory" else measure_label(m),
            key=state.COLOUR_BY,
            persist_state=PERSIST,
        )
        find_col.selectbox(
            "Find a territory",
            sorted(names),
            index=None,
            format_func=names.__getitem__,
            placeholder="Type an id or a rep's name",
            key=state.FIND_TERRITORY,
            on_change=on_find_territory,
        )
        legend = []
        if colour_by == "territory":
            colours = territory_colours(plan.territories, pairs)
            fills = plan.assignment.map(colours)
        else:
            fills, legend = measure_fills(units[colour_by])
        arguments = map_arguments(
            map_layer(token, dataset),
            plan.assignment,
            fills,
            labels=names,
            info=territory_facts(table, tolerances, names),
            selected=selection,
            locked=ws.locked,
            detached=detached.index,
            moved=() if preview is None else preview.moved,
            homes=field_reps(dataset.reps),
            focus=session.get(state.FIND_TERRITORY),
            focus_token=session[state.FOCUS_TOKEN],
            selection_echo=session[state.MAP_ECHO],
        )
        territory_map(arguments, key=state.MAP, on_change=on_map_selection)
        if legend:
            swatches = "".join(
                f'<span style="display:inline-block;margin:0 10px 4px 0;white-space:nowrap">'
                f'<span style="display:inline-block;width:12px;height:12px;background:{colour};'
                f'border:1px solid #888;margin-right:4px;vertical-align:middle"></span>'
                f"{html.escape(text)}</span>"
                for colour, text in legend
            )
            st.markdown(f"**{measure_label(colour_by)}**<br>{swatches}", unsafe_allow_html=True)
        st.caption(
            "Labels: territory and rep. Dark lines: territory borders; red dots: rep homes. "
            "Selected units are "
            "white with a yellow dot; locked ones dashed blue; units cut off from their territory red. "
            "Click selects a unit (click again to drop it); Rectangle, Lasso and Polygon select the "
            "units whose "
            "centre is inside (hold Shift to add). Hover a unit to see its territory's balance."
        )

    with side_col:
        editing = preview is None
        st.subheader("Selection")
        shown = ", ".join(labels[u] for u in selection[:8]) + (
            f" and {len(selection) - 8:,} more" if len(selection) > 8 else ""
        )
        st.caption(
            shown
            or "Nothing selected: click units on the map, draw around them, or find one by name "
            "above the map."
        )
        summary_measures = [m for m in ("tam_usd", "accounts") if m in units.columns]
        picked = summarize_selection(units, selection, summary_measures)
        totals = "".join(
            f"; {measure_label(m)}: {('$' if m.endswith('_usd') else '')}{picked[m]:,.0f}"
            for m in summary_measures
        )
        st.caption(f"{len(selection)} unit(s) selected{totals}; {len(ws.locked & set(selection))} locked.")
        st.button("Clear selection", on_click=on_clear_selection, disabled=not selection, key="ws_clear")
        choices = territory_choices(ws.plan)
        if session.get(state.MOVE_TARGET) not in choices:
            session[state.MOVE_TARGET] = choices[0]
        st.selectbox("Move to territory", choices, key=state.MOVE_TARGET, persist_state=PERSIST)
        st.text_input("…or to a new territory id", key=state.NEW_TERRITORY, placeholder="e.g. T51")
        st.button(
            "Move selection",
            on_click=on_move,
            type="primary",
            disabled=not (selection and editing),
            key="ws_move",
        )
        lock_col, unlock_col = st.columns(2)
        lock_col.button(
            "Lock", on_click=on_lock, args=(True,), disabled=not (selection and editing), key="ws_lock"
        )
        unlock_col.button(
            "Unlock", on_click=on_lock, args=(False,), disabled=not (selection and editing), key="ws_unlock"
        )
        st.caption(f"{len(ws.locked)} unit(s) locked: the optimizer keeps them in their territory.")

        st.subheader("History")
        undo_col, redo_col = st.columns(2)
        undo_col.button(
            "Undo",
            on_click=on_undo,
            disabled=not (ws.can_undo and editing),
            key="ws_undo",
            icon=":material/undo:",
        )
        redo_col.button(
            "Redo",
            on_click=on_redo,
            disabled=not (ws.can_redo and editing),
            key="ws_redo",
            icon=":material/redo:",
        )

        st.subheader("Scenarios")
        st.text_input("Scenario name", key=state.SCENARIO_NAME, placeholder="e.g. West split")
        st.button("Save as scenario", on_click=on_save_scenario, key="ws_save")
        saved = session.get(state.SCENARIOS, {})
        if saved:
            st.caption("Saved: " + ", ".join(saved))
        st.download_button(
            "Download alignment.csv",
            alignment_csv(ws.plan),
            file_name="alignment.csv",
            mime="text/csv",
            on_click="ignore",
        )
        st.download_button(
            "Download territory_reps.csv",
            territory_reps_csv(ws.plan),
            file_name="territory_reps.csv",
            mime="text/csv",
            on_click="ignore",
        )


def balance(table, names, detached, labels) -> None:
    """Headline counts, the one-measure deviation chart and the full balance table, worst first."""
    st.subheader("Balance")
    out = table["out_of_tolerance"] != ""
    pieces = table["pieces"]
    metric_cols = st.columns(4)
    metric_cols[0].metric("Territories", f"{len(table)}")
    metric_cols[1].metric("Out of tolerance", f"{int(out.sum())}")
    metric_cols[2].metric("Not contiguous", f"{int((pieces > 1).sum())}")
    metric_cols[3].metric("Locked units", f"{len(session[state.WORKSPACE].locked)}")
    session.setdefault(state.CHART_MEASURE, measures[0])
    if session[state.CHART_MEASURE] not in measures:
        session[state.CHART_MEASURE] = measures[0]
    chart_measure = st.selectbox("Chart", measures, format_func=measure_label, key=state.CHART_MEASURE)
    st.vega_lite_chart(
        deviation_chart(table, chart_measure, tolerances[chart_measure], measure_label(chart_measure)),
        width="stretch",
    )
    ordered = worst_first(table, tolerances)
    rows = ordered.assign(
        rep=[names.get(t, t).partition(" · ")[2] for t in ordered.index],
        out_of_tolerance=ordered["out_of_tolerance"].map(
            lambda text: ", ".join(measure_label(m) for m in text.split(", ")) if text else ""
        ),
    )
    money = {
        m: dollar_column(measure_label(m))
        if m.endswith("_usd")
        else st.column_config.NumberColumn(measure_label(m), format="localized")
        for m in measures
    }
    deviation_columns = {
        f"{m}_dev_pct": st.column_config.NumberColumn(
            f"{measure_label(m).split(' (')[0]} vs mean (%)", format="%+.1f"
        )
        for m in measures
    }
    st.dataframe(
        rows[
            [
                "rep",
                "units",
                "reps",
                *[c for m in measures for c in (m, f"{m}_dev_pct")],
                "pieces",
                "out_of_tolerance",
            ]
        ],
        column_config={
            "territory_id": "Territory",
            "rep": "Rep",
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "reps": st.column_config.NumberColumn("Reps", format="%d"),
            "pieces": st.column_config.NumberColumn("Pieces", format="%d"),
            "out_of_tolerance": "Out of tolerance",
        }
        | money
        | deviation_columns,
        height=35 * (min(len(rows), 60) + 1) + 3,
        width="stretch",
    )
    st.caption(
        "Worst first. Deviation from the per-rep mean, signed (+: more than the mean); a territory "
        "with r reps "
        "targets r shares. Tolerances are set in the sidebar."
    )
    problems = table.loc[pieces > 1, "pieces"]
    if len(problems):
        lines = []
        for territory, count in problems.items():
            cut = detached.index[detached == territory].tolist()
            cut_names = ", ".join(labels[u] for u in cut[:5]) + (" ..." if len(cut) > 5 else "")
            lines.append(f"- **{names.get(territory, territory)}**: {count} pieces; cut off: {cut_names}")
        st.warning("Territories in more than one piece (outlined red on the map):\n" + "\n".join(lines))
    else:
        st.success("Every territory is contiguous.")


editor()
optimize_panel.results(dataset)
