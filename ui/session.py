"""Per-session state of the workspace pages: which data set, its workspace, widget defaults.

Everything lives in ``st.session_state`` under the keys of :mod:`ui.state`; the heavy,
shareable derivatives of a data set (adjacency, display polygons, centroids) are cached
per data-set token in :mod:`ui.data`.
"""

from __future__ import annotations

import streamlit as st

from planner.data.dataset import Dataset
from planner.data.schema import UNIT_MEASURES
from ui import state
from ui.data import DEMO_GEOGRAPHIES, DEMO_TOKEN, demo_dataset, demo_zip_dataset
from ui.maps import colour_territories
from ui.workspace import Workspace

DEFAULT_TOLERANCE_PCT = 5.0
DEFAULT_TIME_LIMIT_S = 20
#: Widgets keep their value when the user visits another page and comes back.
PERSIST = "session"
MEASURE_LABELS = {
    "tam_usd": "TAM (USD/yr)",
    "bookings_usd": "Bookings, last 12 months (USD)",
    "accounts": "Accounts",
    "workload_hours": "Workload (hours/yr)",
    "labor_force": "Labor force, 2009 (BLS)",
    "unemployment_pct": "Unemployment rate, 2009 (%)",
    "land_area_km2": "Land area (km²)",
}


def measure_label(measure: str) -> str:
    """Human label of a measure column."""
    return MEASURE_LABELS.get(measure, measure)


def active_dataset() -> tuple[Dataset, str, str]:
    """The session's data set, its token and label (the demo unless the user loaded files)."""
    dataset = st.session_state.get(state.DATASET)
    if dataset is None:
        token = st.session_state.get(state.DEMO_GEOGRAPHY, DEMO_TOKEN)
        loaded = demo_dataset() if token == DEMO_TOKEN else demo_zip_dataset(token)
        return loaded, token, DEMO_GEOGRAPHIES[token]
    return (
        dataset,
        st.session_state[state.DATASET_TOKEN],
        st.session_state.get(state.DATASET_LABEL, "your data"),
    )


def use_dataset(dataset: Dataset | None, token: str = DEMO_TOKEN, label: str = "") -> None:
    """Switch the session to ``dataset`` (None: the demo) and start a fresh workspace.

    Clears the history, the selection, saved scenarios, colours and the last optimization.
    """
    if dataset is None:
        st.session_state.pop(state.DATASET, None)
        st.session_state.pop(state.DATASET_TOKEN, None)
        st.session_state.pop(state.DATASET_LABEL, None)
    else:
        st.session_state[state.DATASET] = dataset
        st.session_state[state.DATASET_TOKEN] = token
        st.session_state[state.DATASET_LABEL] = label
    for key in (state.WORKSPACE, state.SCENARIOS, state.COLOURS, state.CANDIDATES, state.BALANCE_MEASURES):
        st.session_state.pop(key, None)
    st.session_state[state.SELECTION] = []
    st.session_state.pop(state.MOVE_TARGET, None)


def workspace(dataset: Dataset, token: str) -> Workspace:
    """The session's workspace for ``dataset``, started from its plan when missing or stale."""
    current = st.session_state.get(state.WORKSPACE)
    if current is None or current.token != token:
        current = Workspace.start(token, dataset.plan, dataset.units, dataset.measures)
        st.session_state[state.WORKSPACE] = current
    return current


def balanceable_measures(dataset: Dataset) -> list[str]:
    """Measures with a positive total (a measure that is zero everywhere has no per-rep mean)."""
    totals = dataset.units[dataset.measures].sum()
    return [m for m in dataset.measures if totals[m] > 0]


def default_measures(dataset: Dataset) -> list[str]:
    """Measures balanced by default: the named ones the data set has (TAM, accounts, ...)."""
    usable = balanceable_measures(dataset)
    named = [m for m in UNIT_MEASURES if m in usable]
    return named or usable[:1] or dataset.measures[:1]


def init_widget_defaults(dataset: Dataset) -> None:
    """Set widget defaults through session state (so widgets never get both a default and a state)."""
    defaults = {
        state.SELECTION: [],
        state.COLOUR_BY: "territory",
        state.BALANCE_MEASURES: default_measures(dataset),
        state.TIME_LIMIT: DEFAULT_TIME_LIMIT_S,
        state.COMPACTNESS: 1.0,
        state.NEW_TERRITORY: "",
        state.SCENARIO_NAME: "",
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    valid = [m for m in st.session_state[state.BALANCE_MEASURES] if m in balanceable_measures(dataset)]
    st.session_state[state.BALANCE_MEASURES] = valid or default_measures(dataset)
    if st.session_state[state.COLOUR_BY] not in ("territory", *dataset.measures):
        st.session_state[state.COLOUR_BY] = "territory"
    for measure in dataset.measures:
        st.session_state.setdefault(state.TOLERANCE_PREFIX + measure, DEFAULT_TOLERANCE_PCT)


def balance_settings(dataset: Dataset) -> dict[str, float]:
    """Sidebar widgets: which measures to balance and their tolerances; returns measure -> fraction."""
    init_widget_defaults(dataset)
    with st.sidebar:
        st.subheader("Balance targets")
        measures = st.multiselect(
            "Measures to balance",
            balanceable_measures(dataset) or dataset.measures,
            format_func=measure_label,
            key=state.BALANCE_MEASURES,
            persist_state=PERSIST,
        )
        tolerances = {}
        for measure in measures or default_measures(dataset):
            percent = st.number_input(
                f"Tolerance, {measure_label(measure)} (± % of the per-rep mean)",
                min_value=0.1,
                max_value=99.0,
                step=0.5,
                format="%.1f",
                key=state.TOLERANCE_PREFIX + measure,
                persist_state=PERSIST,
            )
            tolerances[measure] = float(percent) / 100.0
    return tolerances


def territory_colours(territories, pairs, *, remember: bool = True) -> dict[str, str]:
    """Colours of the territories, stable across edits (previous colours kept where possible)."""
    colours = colour_territories(territories, pairs, previous=st.session_state.get(state.COLOURS))
    if remember:
        st.session_state[state.COLOURS] = {**st.session_state.get(state.COLOURS, {}), **colours}
    return colours
