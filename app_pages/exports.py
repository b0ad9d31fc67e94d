"""Exports: the approved plan as files (CSV, Excel, GeoJSON, GeoPackage, CRM), its map, the change report."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from planner.data.dataset import Dataset
from planner.exports.change_report import change_report
from planner.exports.formats import EXPORT_FORMATS, FORMAT_FILES, export_plan, territory_table
from planner.exports.inputs import demo_approved_plan
from planner.money import format_usd
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from planner.store import Status
from ui import state
from ui.columns import dollar_column
from ui.data import adjacency_edges, map_layer
from ui.maps import colour_territories, territory_pairs
from ui.session import active_dataset, workspace
from ui.store import plan_store
from ui.territory_map.component import map_arguments, territory_map
from ui.territory_view import territory_labels

FORMATS_KEY = "ex_formats"
PLAN_KEY = "ex_plan"
COMPARE_KEY = "ex_compare"
CHANGED_ONLY_KEY = "ex_changed_only"
SIMPLIFY_KEY = "ex_simplify_deg"
FILES_KEY = "terrain.export_files"  #: (what was built, {file name: bytes}) of the last build
FORMAT_LABELS = {
    "csv": "CSV: territories and quotas",
    "xlsx": "Excel workbook",
    "geojson": "GeoJSON territories",
    "gpkg": "GeoPackage (territories, units)",
    "crm": "CRM account assignment",
}
MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".geojson": "application/geo+json",
    ".gpkg": "application/geopackage+sqlite3",
    ".md": "text/markdown",
}
LOADED = "Loaded plan"
CURRENT = "Current workspace"


def plans_for_export(dataset: Dataset, token: str) -> dict[str, ApprovedPlan]:
    """The plans offered for export, by label: approved versions first, then working plans.

    Approved and published versions come from the plan store (when their units are the
    data set's). The loaded plan, the workspace's current plan and saved scenarios follow,
    each with DEMO quotas (last 12 months' bookings + 10%, split by TAM, phased evenly)
    for next year, labelled as such.
    """
    store = plan_store()
    units = set(dataset.units.index)
    approved = {}
    for info in store.versions():
        if info.status in (Status.APPROVED, Status.PUBLISHED):
            plan = store.approved_plan(info.version_id)
            if set(plan.plan.units) == units:
                approved[f"v{info.version_id} {info.name} ({info.status.value})"] = plan
    plans = {LOADED: dataset.plan, CURRENT: workspace(dataset, token).plan}
    plans |= st.session_state.get(state.SCENARIOS, {})
    year = date.today().year + 1
    working = {
        f"{label} (demo quotas)": demo_approved_plan(dataset, plan, year, name=label)
        for label, plan in plans.items()
    }
    return approved | working


def plan_fingerprint(plan: Plan) -> int:
    """A hash of the plan's alignment and reps: files built for another plan state are flagged stale."""
    hashed = pd.util.hash_pandas_object
    return int(hashed(plan.assignment).sum() ^ hashed(plan.territory_reps).sum())


def build_files(
    approved: ApprovedPlan, dataset: Dataset, formats: list[str], changed_only: bool, simplify_deg: float
) -> dict[str, bytes]:
    """Write the exports to a temporary directory with a progress bar; return their bytes by file name."""
    bar = st.progress(0.0, text="Preparing exports...")
    with tempfile.TemporaryDirectory(prefix="terrain-export-") as tmp:
        written = export_plan(
            approved,
            dataset,
            tmp,
            formats,
            changed_only=changed_only,
            simplify_tolerance_deg=simplify_deg or None,
            progress=lambda fraction, message: bar.progress(min(fraction, 1.0), text=message),
        )
        files = {path.name: path.read_bytes() for path in written}
    bar.empty()
    return files


dataset, token, dataset_label = active_dataset()
plans = plans_for_export(dataset, token)
st.title("Exports")
st.caption(
    f"Data: {dataset_label}. Approved and published versions come from the plan store (Quotas and "
    "Approvals pages) with their approved quotas; working plans (loaded, workspace, scenarios) carry "
    "DEMO quotas (last 12 months' bookings + 10%, split by TAM, phased evenly over next year)."
)

if st.session_state.get(PLAN_KEY) not in plans:
    st.session_state[PLAN_KEY] = next(iter(plans))
label = st.selectbox("Plan to export", list(plans), key=PLAN_KEY)
approved = plans[label]
table = territory_table(approved, dataset)
annual_cents = approved.annual_quota_cents().reindex(table.index, fill_value=0)

cols = st.columns(4)
cols[0].metric("Territories", f"{len(table):,}")
cols[1].metric("Reps", f"{len(approved.plan.territory_reps):,}")
cols[2].metric("Annual quota", format_usd(annual_cents.sum(), decimals=0))
cols[3].metric("Effective from", approved.effective_from.isoformat())

st.subheader("Files")
st.session_state.setdefault(FORMATS_KEY, list(EXPORT_FORMATS))
formats = st.multiselect("Formats", EXPORT_FORMATS, key=FORMATS_KEY, format_func=FORMAT_LABELS.get)
option_cols = st.columns(2)
changed_only = option_cols[0].checkbox(
    "CRM file: only accounts that change owner", key=CHANGED_ONLY_KEY, value=False
)
simplify = option_cols[1].number_input(
    "Simplify map polygons (degrees; 0 keeps full detail)",
    min_value=0.0,
    max_value=0.1,
    value=0.0,
    step=0.005,
    format="%.3f",
    key=SIMPLIFY_KEY,
)
request = (token, label, plan_fingerprint(approved.plan), tuple(formats), changed_only, simplify)
if st.button("Build files", type="primary", disabled=not formats, key="ex_build"):
    st.session_state[FILES_KEY] = (request, build_files(approved, dataset, formats, changed_only, simplify))
built = st.session_state.get(FILES_KEY)
if built is None:
    st.info("Choose the formats and build the files; download buttons appear here.")
else:
    built_request, files = built
    if built_request != request:
        st.warning("These files were built with other choices; build again to match the current ones.")
    names = [n for f in EXPORT_FORMATS for n in FORMAT_FILES[f] if n in files]
    download_cols = st.columns(3)
    for position, name in enumerate(names):
        download_cols[position % 3].download_button(
            f"{name} ({len(files[name]) / 1e6:.2f} MB)",
            data=files[name],
            file_name=name,
            mime=MIME[Path(name).suffix],
            on_click="ignore",
            key=f"ex_download_{name}",
        )

st.subheader("Territories")
colours = colour_territories(
    table.index, territory_pairs(adjacency_edges(token, dataset), approved.plan.assignment)
)
quota_text = annual_cents.map(lambda c: format_usd(c, decimals=0))
facts = {
    territory: f"reps: {row['rep_names']}; annual quota {quota_text.get(territory, '')}"
    for territory, row in table.iterrows()
}
arguments = map_arguments(
    map_layer(token, dataset),
    approved.plan.assignment,
    approved.plan.assignment.map(colours),
    labels=territory_labels(approved.plan, dataset.reps),
    info=facts,
    height_px=480,
    selectable=False,
)
territory_map(arguments, key="ex_map")
st.caption("The approved plan's territories; hover a unit to see its territory's reps and annual quota.")
st.dataframe(
    table.drop(columns=[c for c in table.columns if "quota" in c]).assign(
        annual_quota_usd=annual_cents / 100
    ),
    column_config={
        "tam_usd": dollar_column("TAM (USD)"),
        "bookings_usd": dollar_column("Bookings 12m (USD)"),
        "annual_quota_usd": dollar_column("Annual quota (USD, demo)"),
    },
)

st.subheader("Change report")
others = [name for name in plans if name != label]
if st.session_state.get(COMPARE_KEY) not in others:
    st.session_state[COMPARE_KEY] = others[0] if others else None
before_label = st.selectbox("Changes from", others, key=COMPARE_KEY)
if before_label is None:
    st.info("Save a scenario on the Territory workspace page to compare plans.")
else:
    report = change_report(plans[before_label], approved, dataset)
    summary = report.summary
    metric_cols = st.columns(3)
    metric_cols[0].metric(
        "Units moved",
        f"{summary.loc['units', 'moved']:,.0f}",
        f"{summary.loc['units', 'moved_pct']:.1f}% of units",
    )
    if "tam_usd" in summary.index:
        metric_cols[1].metric(
            "TAM moved",
            format_usd(usd=summary.loc["tam_usd", "moved"], decimals=0),
            f"{summary.loc['tam_usd', 'moved_pct']:.1f}%",
        )
    owners = summary.loc["accounts_owner_changed"]
    metric_cols[2].metric("Accounts changing owner", f"{owners['moved']:,.0f}", f"{owners['moved_pct']:.1f}%")
    markdown = report.to_markdown()
    if len(report.flows):
        st.markdown("**Flows between territories** (largest first)")
        st.dataframe(report.flows, hide_index=True)
        st.markdown("**Accounts changing owner**")
        st.dataframe(report.accounts, hide_index=True)
    else:
        st.success("No unit changes territory between these plans.")
    with st.expander("Summary to send with the realignment (markdown)"):
        st.markdown(markdown)
    report_cols = st.columns(4)
    report_cols[0].download_button(
        "change_report.md", markdown, file_name="change_report.md", mime=MIME[".md"], on_click="ignore"
    )
    report_cols[3].download_button(
        "change_report.html",
        report.to_html(),
        file_name="change_report.html",
        mime="text/html",
        on_click="ignore",
    )
    report_cols[1].download_button(
        "change_accounts.csv",
        report.accounts.to_csv(index=False),
        file_name="change_accounts.csv",
        mime=MIME[".csv"],
        on_click="ignore",
    )
    report_cols[2].download_button(
        "change_flows.csv",
        report.flows.to_csv(index=False),
        file_name="change_flows.csv",
        mime=MIME[".csv"],
        on_click="ignore",
    )
