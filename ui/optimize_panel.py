"""The workspace's optimizer: settings in the sidebar, runs, and the proposed plans to preview.

Defaults are what a sales lead would accept: the primary measure (the first balanced
one) is a hard limit and the others are soft; the disruption budget is 1.5 times the
transport floor (the least share of the primary measure that must move); reps' home
bases are kept. "Optimize" proposes one plan; "Frontier" proposes one per budget.
Nothing changes the plan until the user accepts a proposal, which becomes an undoable
step; a proposal that removes or adds territories says so.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from planner.data.adjacency import Adjacency
from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.exports.change_report import change_report
from planner.optimize.api import least_realignment_move, optimize_dataset, with_protected_locks
from planner.optimize.frontier import frontier
from planner.optimize.options import OptimizeOptions
from planner.plans.metrics import rep_counts, transport_floor
from planner.plans.plan import Plan
from ui import state
from ui.candidates import Candidate, Candidates, frontier_chart, panel_options
from ui.session import PERSIST, measure_label
from ui.workspace import Workspace

BUDGET_CHOICES = (1.1, 1.25, 1.5, 2.0, 3.0, "none")
DEFAULT_BUDGET = 1.5
#: Off by default: with every rep kept at home the demo needs about 3.3x the floor to balance
#: (docs/benchmarks.md#workspace); a re-formed territory is announced with its proposal.
DEFAULT_KEEP_HOMES = False
FRONTIER_MULTIPLES = (1.1, 1.25, 1.5, 2.0, None)


def budget_text(choice: float | str) -> str:
    """``1.5`` -> ``"1.5x floor"``; ``"none"`` -> ``"no budget"``."""
    return "no budget" if choice == "none" else f"{choice:g}x floor"


def init_defaults(measures: list[str]) -> None:
    """Widget defaults of the panel, set once per session (the hard list follows the measures)."""
    session = st.session_state
    session.setdefault(state.BUDGET_MULTIPLE, DEFAULT_BUDGET)
    session.setdefault(state.KEEP_HOMES, DEFAULT_KEEP_HOMES)
    hard = [m for m in session.get(state.HARD_MEASURES, measures[:1]) if m in measures]
    session[state.HARD_MEASURES] = hard


def floor_of(plan: Plan, dataset: Dataset, measure: str, tolerance: float) -> float:
    """Transport floor of ``plan`` on ``measure`` at ``tolerance``."""
    return transport_floor(plan, dataset.units, measure, rep_counts(plan), tolerance_frac=tolerance)


def options_from_widgets(tolerances: dict[str, float], ws: Workspace, floor: float) -> OptimizeOptions:
    """The optimizer options the sidebar widgets describe."""
    session = st.session_state
    return panel_options(
        tolerances,
        hard=session[state.HARD_MEASURES],
        budget=session[state.BUDGET_MULTIPLE],
        floor=floor,
        keep_homes=bool(session[state.KEEP_HOMES]),
        compactness=float(session[state.COMPACTNESS]),
        time_limit_s=float(session[state.TIME_LIMIT]),
        locked=ws.locked_units(),
    )


def sidebar(dataset: Dataset, tolerances: dict[str, float], ws: Workspace) -> tuple[str, float]:
    """Draw the optimizer's settings in the sidebar; returns the button pressed ("" if none) and the floor."""
    measures = list(tolerances)
    primary = measures[0]
    init_defaults(measures)
    floor = floor_of(ws.plan, dataset, primary, tolerances[primary])
    with st.sidebar:
        st.subheader("Optimize")
        st.multiselect(
            "Hard limits (must be met)",
            measures,
            format_func=measure_label,
            key=state.HARD_MEASURES,
            help="The other measures are balanced as far as the hard ones allow (soft).",
        )
        st.select_slider(
            "Disruption budget",
            BUDGET_CHOICES,
            format_func=budget_text,
            key=state.BUDGET_MULTIPLE,
            help="How much of the primary measure may change territory, as a multiple of the "
            "transport floor: the least share that must move to balance.",
        )
        choice = st.session_state[state.BUDGET_MULTIPLE]
        budget = "" if choice == "none" else f"; this budget lets {min(1.0, float(choice) * floor):.1%} move"
        st.caption(
            f"Transport floor: at least {floor:.1%} of {measure_label(primary)} must change territory "
            f"to bring every territory within ±{100 * tolerances[primary]:g}%{budget}."
        )
        st.checkbox(
            "Keep every territory around its rep's home",
            key=state.KEEP_HOMES,
            help="Off (the default): a territory far from where the potential is may be re-formed there, "
            "and its rep works from a new base; each proposal names such territories. On: nothing is "
            "re-formed, but balancing the demo then needs about 3x the transport floor moved.",
        )
        st.slider(
            "Time limit (s)",
            min_value=2,
            max_value=120,
            key=state.TIME_LIMIT,
            persist_state=PERSIST,
            help="Seconds of search work per plan (about wall seconds here). "
            "The same settings give the same plan.",
        )
        st.slider(
            "Compactness weight",
            min_value=0.0,
            max_value=5.0,
            step=0.25,
            key=state.COMPACTNESS,
            persist_state=PERSIST,
        )
        run_col, frontier_col = st.columns(2)
        pressed = ""
        if run_col.button("Optimize", type="primary", key="ws_optimize", icon=":material/auto_fix_high:"):
            pressed = "optimize"
        if frontier_col.button(
            "Frontier", key="ws_frontier", help="One plan per budget: 1.1x to 2x floor and none"
        ):
            pressed = "frontier"
        st.caption(
            f"{len(ws.locked)} locked unit(s) and the units of protected accounts stay put. "
            "Proposals are previewed on the map; nothing changes until you accept one."
        )
    return pressed, floor


def run(
    pressed: str,
    dataset: Dataset,
    adjacency: Adjacency,
    tolerances: dict[str, float],
    ws: Workspace,
    floor: float,
) -> None:
    """Run the optimizer (one budget) or the frontier from the current plan, with a progress bar."""
    primary = next(iter(tolerances))
    options = options_from_widgets(tolerances, ws, floor)
    current = dataclasses.replace(dataset, plan=ws.plan)
    bar = st.progress(0.0, text="Starting the optimizer...")

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    try:
        if pressed == "frontier":
            result = frontier(
                current, options=options, multiples=FRONTIER_MULTIPLES, adjacency=adjacency, progress=report
            )
            labels = [budget_text("none" if m is None else m) for m in FRONTIER_MULTIPLES]
            items = [
                Candidate.from_result(lb, r, ws.plan, primary, dataset.units[primary])
                for lb, r in zip(labels, result.results, strict=True)
            ]
            least = result.least_move
        else:
            result = optimize_dataset(current, options=options, progress=report, adjacency=adjacency)
            choice = st.session_state[state.BUDGET_MULTIPLE]
            items = [
                Candidate.from_result(budget_text(choice), result, ws.plan, primary, dataset.units[primary])
            ]
            least = least_realignment_move(
                dataset.units, adjacency, ws.plan, with_protected_locks(current, options), dataset.reps
            )
    except PlannerError as exc:
        bar.empty()
        st.error(f"The optimizer could not run: {exc}")
        return
    bar.empty()
    st.session_state[state.CANDIDATES] = Candidates(
        base_position=ws.position,
        base_plan=ws.plan,
        measure=primary,
        tolerance_frac=tolerances[primary],
        floor_frac=floor,
        least_move_frac=least,
        items=tuple(items),
    )
    st.session_state[state.PREVIEW] = items[-1].label if pressed == "optimize" else ""
    st.rerun()


def previewed() -> Candidate | None:
    """The candidate the user chose to preview, if any."""
    candidates = st.session_state.get(state.CANDIDATES)
    picked = st.session_state.get(state.PREVIEW, "")
    if candidates is None or not picked:
        return None
    return next((c for c in candidates.items if c.label == picked), None)


def accept(units) -> None:
    """Adopt the previewed plan as a new step of the workspace."""
    chosen = previewed()
    if chosen is None:
        return
    ws = st.session_state[state.WORKSPACE]
    st.session_state[state.WORKSPACE] = ws.adopt(chosen.plan, units, f"optimized ({chosen.label})")
    st.session_state[state.NOTICE] = (
        "success",
        f"Accepted the {chosen.label} plan as a new step (Undo goes back).",
    )
    discard()


def discard() -> None:
    """Forget the proposals."""
    st.session_state.pop(state.CANDIDATES, None)
    st.session_state[state.PREVIEW] = ""


def results(dataset: Dataset) -> None:
    """The proposals: frontier chart, which to preview, its change report, accept or discard."""
    candidates: Candidates | None = st.session_state.get(state.CANDIDATES)
    if candidates is None:
        return
    ws: Workspace = st.session_state[state.WORKSPACE]
    st.subheader("Proposed plans")
    if ws.position != candidates.base_position or ws.plan is not candidates.base_plan:
        st.info("The plan changed since these proposals were made; they start from an earlier step.")
    label = measure_label(candidates.measure)
    anchors = f"Transport floor {candidates.floor_frac:.1%} of {label}"
    if candidates.least_move_frac is not None:
        least = candidates.least_move_frac
        anchors += f"; least move to balance by the territory model about {least:.1%} (an estimate)"
    chart_col, table_col = st.columns([3, 2], gap="medium")
    with chart_col:
        st.altair_chart(
            frontier_chart(candidates, label, st.session_state.get(state.PREVIEW)), width="stretch"
        )
        st.caption(anchors + ".")
    with table_col:
        st.dataframe(
            candidates.table(),
            hide_index=True,
            column_config={
                "plan": "Plan",
                "moved_pct": st.column_config.NumberColumn(f"{label} moved (%)", format="%.1f"),
                "moved_over_floor": st.column_config.NumberColumn("× floor", format="%.2f"),
                "worst_dev_pct": st.column_config.NumberColumn("Worst territory (%)", format="%.1f"),
                "within_pct": st.column_config.NumberColumn("Within tolerance (%)", format="%.0f"),
                "units_moved": st.column_config.NumberColumn("Units moved", format="%d"),
                "territories": st.column_config.NumberColumn("Territories", format="%d"),
                "status": "Status",
            },
        )
        st.radio(
            "Preview on the map",
            ["", *[c.label for c in candidates.items]],
            format_func=lambda v: "none (show the current plan)" if v == "" else v,
            key=state.PREVIEW,
            horizontal=True,
        )
    chosen = previewed()
    if chosen is None:
        st.caption("Pick a plan to preview it on the map: moved units are drawn in magenta.")
        st.button("Discard the proposals", on_click=discard, key="ws_discard")
        return
    change = chosen.territory_change()
    if change:
        st.warning(change)
    for message in chosen.messages:
        st.info(message)
    report = change_report(ws.plan, chosen.plan, dataset)
    owners = report.territories
    st.markdown(
        f"**{chosen.label}**: {chosen.units_moved:,} units and "
        f"{int(report.summary.loc['accounts_owner_changed', 'moved']):,} accounts change territory; "
        f"{100 * chosen.moved_frac:.1f}% of {label} moves; "
        f"worst territory {100 * chosen.worst_dev_frac:.1f}%, "
        f"{100 * chosen.within_frac:.0f}% within ±{100 * candidates.tolerance_frac:g}%."
    )
    if len(owners):
        st.dataframe(
            owners[["units_out", "units_in", "accounts_lost", "accounts_gained"]],
            column_config={
                "units_out": "Units out",
                "units_in": "Units in",
                "accounts_lost": "Accounts losing this owner",
                "accounts_gained": "Accounts gaining this owner",
            },
            height=min(400, 35 * (len(owners) + 1) + 3),
        )
    accept_col, discard_col = st.columns(2)
    accept_col.button(
        "Accept this plan as a step", type="primary", on_click=accept, args=(dataset.units,), key="ws_accept"
    )
    discard_col.button("Discard the proposals", on_click=discard, key="ws_discard")
