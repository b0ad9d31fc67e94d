"""Quotas: a plan version's quotas per territory, inline proposals, fairness charts, workflow."""

from __future__ import annotations

from dataclasses import replace

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from planner.errors import PlannerError
from planner.money import format_usd
from planner.plans.quota_lines import QuotaLine
from planner.quota.allocation import QuotaOptions
from planner.quota.attainment import DEFAULT_CV_FRAC, DEFAULT_GOAL_FRAC, attainment_plan
from planner.quota.hierarchy import territory_regions
from planner.quota.versions import QuotaRequest
from planner.store import Role, Status
from planner.store.drafts import save_draft, version_fairness, version_hierarchy
from planner.store.roles import PERMISSIONS
from planner.store.workflow import TRANSITIONS
from ui import state
from ui.columns import amount_column, unit_label
from ui.identity import acting_user
from ui.quota_charts import attainment_chart
from ui.session import active_dataset, workspace
from ui.store import plan_store

REASON = "Reason"

store = plan_store()
user = acting_user(store)
st.title("Quotas")
versions = store.versions()
if not versions:
    st.info("No plan versions yet: an admin creates a draft below.")
labels = {v.version_id: f"v{v.version_id} {v.name} ({v.status.value})" for v in versions}
editable = [v.version_id for v in versions if v.status in (Status.DRAFT, Status.PROPOSED)]
default = editable[0] if editable else (versions[0].version_id if versions else None)


def act(action, *args, success: str, **kwargs) -> None:
    """Run a store action; show its error instead of failing the page."""
    try:
        action(*args, **kwargs)
    except PlannerError as exc:
        st.error(str(exc))
    else:
        st.toast(success)
        st.rerun()


if versions:
    version_id = st.selectbox(
        "Plan version",
        list(labels),
        index=list(labels).index(default),
        format_func=labels.get,
        key=state.QUOTA_VERSION,
    )
    version = store.version(version_id)
    info = version.info
    names = list(version.lines)
    if st.session_state.get(state.QUOTA_LINE) not in names:
        st.session_state[state.QUOTA_LINE] = names[0]
    chosen = version.line(
        st.segmented_control("Quota line", names, key=state.QUOTA_LINE) if len(names) > 1 else names[0]
    )
    line = chosen.line
    unit = unit_label(line)
    proposed_column = f"Proposed quota ({unit})"
    fairness = version_fairness(version, line.name)
    territories = chosen.territories
    total = chosen.total_cents

    def short(hundredths: float) -> str:
        """A line total as a metric shows it: $731.0M or 2,900 deals."""
        return (
            format_usd(round(hundredths), decimals=1, scale="M")
            if not line.counts
            else line.format(hundredths)
        )

    cols = st.columns(5)
    cols[0].metric("Status", info.status.value, help=f"revision {info.revision}")
    cols[1].metric(
        "Line target" if len(names) > 1 else "Company target",
        short(chosen.target_cents),
        help=f"Target of the {line.name} line ({line.unit}, potential {line.potential}, bookings "
        f"{line.source_of()}), set when this plan version was drafted (not the Capacity page's "
        "assumption, nor the Forecast page's forecast).",
    )
    cols[2].metric(
        "Sum of quotas",
        short(total),
        delta=f"{(total / chosen.target_cents - 1):+.1%} vs target",
    )
    cols[3].metric(
        "Expected at or above quota", f"{fairness.at_or_above_quota_frac:.0%}", help="healthy: 60-70%"
    )
    cols[4].metric(
        "Quota per potential (Gini)",
        f"{fairness.quota_per_potential_gini:.4f}",
        help="lower is fairer; healthy at most 0.10",
    )

    actions = [a for (s, a) in TRANSITIONS if s is info.status and user.role in PERMISSIONS[a]]
    workflow_comment = (
        st.text_input(
            "Comment for the workflow step",
            key="q_workflow_comment",
            help="Kept in the audit log; needed to approve or publish quotas more than 10% off their target.",
        )
        if actions
        else ""
    )
    buttons = st.columns(len(actions) + 1)
    for column, action in zip(buttons, actions, strict=False):
        if column.button(action.capitalize(), key=f"q_action_{action}"):
            act(
                store.transition,
                user.user_id,
                version_id,
                action,
                comment=workflow_comment,
                expected_revision=info.revision,
                success=f"v{version_id}: {action} done",
            )
    copyable = user.role is Role.ADMIN and info.status in (Status.APPROVED, Status.PUBLISHED)
    if copyable and buttons[-1].button("Copy to a new draft", key="q_copy"):
        act(
            store.copy_version,
            user.user_id,
            version_id,
            name=f"{info.name} (copy)",
            success="draft created",
        )

    team = version.team_of(user.rep_id)
    table = pd.DataFrame(
        {
            "Territory": territories.index,
            "Reps": [", ".join(version.plan.reps_of(t)) or "vacant" for t in territories.index],
            f"Potential ({line.potential})": territories["potential_cents"].to_numpy() / 100,
            f"Forecast ({unit})": territories["forecast_cents"].to_numpy() / 100,
            f"Last quota ({unit})": territories["last_quota_cents"].astype("Float64").to_numpy() / 100,
            f"Quota ({unit})": territories["annual_quota_cents"].to_numpy() / 100,
            "Expected attainment": fairness.table["attainment_frac"].reindex(territories.index).to_numpy(),
            proposed_column: float("nan"),
            REASON: "",
        }
    )
    tab_quotas, tab_fairness, tab_tree, tab_phasing, tab_log = st.tabs(
        ["Territories", "Fairness", "Hierarchy", "Phasing", "Audit log"]
    )
    with tab_quotas:
        if user.role is Role.MANAGER:
            mine = st.toggle("My team only", value=True, key="q_my_team")
            if mine:
                table = table[table["Territory"].isin(team)]
        can_propose = user.role in PERMISSIONS["propose"] and info.status in (
            Status.DRAFT,
            Status.PROPOSED,
        )
        edited = st.data_editor(
            table,
            hide_index=True,
            disabled=[c for c in table.columns if c not in (proposed_column, REASON)]
            if can_propose
            else True,
            column_config={
                f"Potential ({line.potential})": st.column_config.NumberColumn(format="localized", step=1),
                f"Forecast ({unit})": amount_column(line),
                f"Last quota ({unit})": amount_column(line),
                f"Quota ({unit})": amount_column(line),
                "Expected attainment": st.column_config.NumberColumn(format="percent"),
                proposed_column: amount_column(line, min_value=0.0),
            },
            key=f"q_editor_{version_id}_{line.name}_{info.revision}",
            width="stretch",
        )
        if can_propose:
            st.caption("Type a new annual quota and a reason in a row, then submit; an approver decides.")
            confirm_proposals = st.checkbox(
                "Confirm unusual amounts (zero, over 3x the current quota or the potential; audited)",
                key="q_confirm_proposals",
            )
            if st.button("Submit proposals", type="primary", key="q_submit_proposals"):
                rows = edited[edited[proposed_column].notna()]
                if rows.empty:
                    st.warning(f"No proposed quota entered: type one in the '{proposed_column}' column.")
                made, errors = [], []
                for _, row in rows.iterrows():
                    try:
                        made.append(
                            store.propose(
                                user.user_id,
                                version_id,
                                row["Territory"],
                                line.parse(row[proposed_column]),
                                line=line.name,
                                reason=str(row[REASON] or ""),
                                confirm=confirm_proposals,
                            )
                        )
                    except PlannerError as exc:
                        errors.append(f"{row['Territory']}: {exc}")
                for error in errors:
                    st.error(error)
                if made and not errors:
                    st.toast(f"{len(made)} proposal(s) submitted")
                    st.rerun()
        if user.role is Role.ADMIN and info.status in (Status.DRAFT, Status.PROPOSED):
            with st.form("q_direct_edit"):
                st.markdown(f"**Set a {line.name} quota directly** (admins; audited)")
                left, middle, right = st.columns(3)
                territory = left.selectbox("Territory", list(territories.index), key="q_edit_territory")
                amount = middle.number_input(
                    f"Annual quota ({unit})",
                    min_value=0.0,
                    step=1.0 if line.counts else 1000.0,
                    format="%.0f" if line.counts else "%.2f",
                    key="q_edit_amount",
                )
                reason = right.text_input("Reason", key="q_edit_reason")
                confirm_edit = st.checkbox("Confirm an unusual amount (audited)", key="q_confirm_edit")
                if st.form_submit_button("Set quota"):
                    act(
                        store.set_quota,
                        user.user_id,
                        version_id,
                        territory,
                        line.parse(amount),
                        line=line.name,
                        reason=reason,
                        confirm=confirm_edit,
                        expected_revision=info.revision,
                        success=f"{territory} updated",
                    )
    with tab_fairness:
        checks = pd.DataFrame(
            [(c.name, c.value, c.healthy, "yes" if c.met else "no") for c in fairness.verdict],
            columns=["Check", "Value", "Healthy range", "Met"],
        )
        st.dataframe(checks, hide_index=True, width="stretch")
        basis = chosen.allocation_basis or {}
        quota_now = territories["annual_quota_cents"].to_numpy(dtype=float)
        attainment = attainment_plan(
            quota_now,
            np.zeros(len(quota_now)),
            np.full(len(quota_now), np.inf),
            territories["forecast_cents"].to_numpy() / 100,
            int(basis.get("target_total_cents", quota_now.sum())),
            goal_frac=basis.get("goal_frac", DEFAULT_GOAL_FRAC),
            forecast_cv_frac=basis.get("forecast_cv_frac", DEFAULT_CV_FRAC),
        )
        st.altair_chart(
            attainment_chart(replace(attainment, chosen_total_cents=int(quota_now.sum())), line),
            width="stretch",
        )
        st.caption(
            attainment.describe(line.format)
            + (
                f". Chosen with the version: basis {basis['basis_frac']:g} (0 = the target, 1 = the goal)."
                if basis
                else "."
            )
        )
        points = fairness.table.reset_index()
        points["quota_usd"] = points["quota_cents"] / 100
        scatter = (
            alt.Chart(points)
            .mark_circle(size=70)
            .encode(
                x=alt.X(
                    "potential_usd:Q", title=f"Potential ({line.potential})", scale=alt.Scale(type="log")
                ),
                y=alt.Y("quota_usd:Q", title=f"Annual quota ({unit})", scale=alt.Scale(type="log")),
                color=alt.Color(
                    "attainment_frac:Q", title="Expected attainment", scale=alt.Scale(scheme="redblue")
                ),
                tooltip=["territory_id", "quota_usd", "potential_usd", "attainment_frac"],
            )
            .properties(title="Quota rises with potential", height=320)
        )
        bars = (
            alt.Chart(points)
            .mark_bar()
            .encode(
                x=alt.X("territory_id:N", sort="-y", title="Territory"),
                y=alt.Y("attainment_frac:Q", title="Expected attainment", axis=alt.Axis(format="%")),
                tooltip=["territory_id", "attainment_frac"],
            )
        )
        rule = (
            alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="black", strokeDash=[4, 4]).encode(y="y:Q")
        )
        left, right = st.columns(2)
        left.altair_chart(scatter, width="stretch")
        right.altair_chart(
            (bars + rule).properties(title="Expected attainment (100% dashed)", height=320),
            width="stretch",
        )
        for note in fairness.notes:
            st.caption(note)
    with tab_tree:
        units = active_dataset()[0].units
        same_units = set(version.plan.assignment.index) <= set(units.index)  # the data set of this version
        regions = territory_regions(units, version.plan.assignment) if same_units else None
        rolled = version_hierarchy(version, regions, line=line.name)
        if user.role is Role.MANAGER and user.rep_id is not None:
            mine = rolled[rolled["node_id"].eq(user.rep_id) | rolled["parent_id"].eq(user.rep_id)]
            above = rolled[rolled["level"].isin(["company", "region"])]
            rolled = pd.concat([above, mine])
            st.caption(f"Your team ({user.rep_id}) with the regions and the company for context.")
        indent = {
            "company": "",
            "region": "\u2003",
            "manager": "\u2003\u2003",
            "territory": "\u2003\u2003\u2003",
        }
        shown = pd.DataFrame(
            {
                "Node": [
                    indent[level] + node
                    for level, node in zip(rolled["level"], rolled["node_id"], strict=True)
                ],
                "Level": rolled["level"].to_numpy(),
                "Territories": rolled["territories"].to_numpy(),
                f"Quota ({unit})": rolled["quota_cents"].to_numpy() / 100,
                f"Potential ({line.potential})": rolled["potential_usd"].to_numpy(),
                "Gini(quota/potential)": rolled["quota_per_potential_gini"]
                .where(rolled["territories"] > 1)
                .to_numpy(),
                "Spearman(attainment, potential)": rolled["attainment_size_spearman"]
                .where(rolled["territories"] > 2)
                .to_numpy(),
                "At or above quota": rolled["at_or_above_quota_frac"].to_numpy(),
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                f"Quota ({unit})": amount_column(line),
                f"Potential ({line.potential})": st.column_config.NumberColumn(format="localized", step=1),
                "Gini(quota/potential)": st.column_config.NumberColumn(format="%.4f"),
                "Spearman(attainment, potential)": st.column_config.NumberColumn(format="%+.3f"),
                "At or above quota": st.column_config.NumberColumn(format="percent"),
            },
        )
        managers = rolled[rolled["level"] == "manager"].assign(quota_usd=lambda f: f["quota_cents"] / 100)
        st.altair_chart(
            alt.Chart(managers)
            .mark_bar()
            .encode(
                x=alt.X("node_id:N", title="Manager", sort="-y"),
                y=alt.Y("quota_usd:Q", title=f"Team quota ({unit})"),
                color=alt.Color("parent_id:N", title="Region"),
                tooltip=[
                    "node_id",
                    "parent_id",
                    "territories",
                    alt.Tooltip("quota_usd:Q", format="$,.0f" if not line.counts else ",.0f"),
                ],
            )
            .properties(title="Team quotas by manager", height=260),
            width="stretch",
        )
    with tab_phasing:
        by_period = chosen.quotas.groupby("period")["quota_cents"].sum().div(100).rename(f"Quota ({unit})")
        st.bar_chart(by_period, y_label=f"Company {line.name} quota ({unit})")
        pick = st.multiselect("Territories", list(territories.index), default=list(territories.index[:3]))
        wide = chosen.quotas[chosen.quotas["territory_id"].isin(pick)].pivot_table(
            index="period", columns="territory_id", values="quota_cents", aggfunc="sum"
        )
        st.line_chart(wide / 100, y_label=f"Quota ({unit})")
    with tab_log:
        st.dataframe(store.audit_log(version_id), width="stretch")

if user.role is Role.ADMIN:
    with st.expander("New draft: allocate a target to the current plan", expanded=not versions):
        dataset, token, dataset_label = active_dataset()
        plan = workspace(dataset, token).plan
        published = store.published_plans()
        last_lines = {line.name for line in published[-1].lines} if published else set()
        with st.form("q_new_draft"):
            st.caption(
                f"Data: {dataset_label}; plan: the Territory workspace's current plan ({plan.name}). "
                "Last year's quotas (for the guardrail): "
                + (published[-1].name if published else "none published, so no guardrail")
            )
            left, right = st.columns(2)
            name = left.text_input("Name", value="FY2027 draft")
            start = right.text_input("Fiscal year starts (YYYY-MM)", value="2027-01")
            st.caption(
                "Quota lines: one row per line, with its target for the year (dollars, or whole units "
                "for a count such as deals), the unit measure its potential comes from, and the "
                "bookings line it learns from (* = every booking). Add rows for more lines."
            )
            line_rows = st.data_editor(
                pd.DataFrame(
                    {
                        "line": ["bookings"],
                        "unit": ["usd"],
                        "target": [700_000_000.0],
                        "potential": ["tam_usd"],
                        "source": ["*"],
                    }
                ),
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                column_config={
                    "line": st.column_config.TextColumn("Line", required=True),
                    "unit": st.column_config.TextColumn("Unit (usd or a count noun)", required=True),
                    "target": st.column_config.NumberColumn("Target", min_value=0.0, format="localized"),
                    "potential": st.column_config.SelectboxColumn(
                        "Potential measure", options=dataset.measures, required=True
                    ),
                    "source": st.column_config.TextColumn("Bookings line"),
                },
                key="q_new_lines",
            )
            left, middle, right = st.columns(3)
            weight = left.slider("Weight of potential (TAM) vs forecast", 0.0, 1.0, 0.5, 0.05)
            guardrail = middle.slider("Guardrail vs last quota (%)", 0, 100, 25)
            over = right.slider("Over-assignment (%)", 0, 30, 0)
            goal = left.slider("Attainment goal: share at or above quota (%)", 50, 90, 65, key="q_goal")
            basis = middle.select_slider(
                "Quota total",
                options=[0.0, 0.25, 0.5, 0.75, 1.0],
                value=0.0,
                format_func=lambda f: {0.0: "meet the target", 1.0: "meet the goal"}.get(
                    f, f"{f:.0%} toward the goal"
                ),
                key="q_basis",
            )
            frequency = right.radio("Phasing", ["month", "quarter"], horizontal=True)
            method = middle.radio(
                "Forecast",
                ["model", "growth"],
                horizontal=True,
                format_func={"model": "bookings forecaster", "growth": "last 12 months + 10%"}.get,
            )
            forecast_frequency = right.radio(
                "Forecaster learns by",
                ["month", "quarter", "week"],
                horizontal=True,
                key="q_forecast_frequency",
            )
            if st.form_submit_button("Allocate and save draft", type="primary"):
                progress = st.progress(0.0, text="Allocating...")
                try:
                    requests = []
                    for row in line_rows.dropna(subset=["line"]).itertuples(index=False):
                        source = row.source.strip() if isinstance(row.source, str) else ""
                        line = QuotaLine(
                            str(row.line).strip(), str(row.unit).strip(), row.potential, source or None
                        )
                        requests.append(
                            QuotaRequest(
                                target_cents=line.parse(row.target),
                                fiscal_year_start=start,
                                options=QuotaOptions(
                                    potential_weight_frac=weight,
                                    forecast_weight_frac=1 - weight,
                                    over_assignment_frac=over / 100,
                                    guardrail_frac=guardrail / 100,
                                ),
                                frequency=frequency,
                                forecast_method=method,
                                forecast_frequency=forecast_frequency,
                                attainment_goal_frac=goal / 100,
                                basis_frac=basis,
                                last_quota_cents=(
                                    published[-1].annual_quota_cents(line.name)
                                    if line.name in last_lines
                                    else None
                                ),
                                line=line,
                            )
                        )
                    progress.progress(0.2, text="Forecasting, allocating and phasing...")
                    created, _ = save_draft(store, user.user_id, dataset, plan, requests, name=name)
                except PlannerError as exc:
                    progress.empty()
                    st.error(str(exc))
                else:
                    progress.progress(1.0, text="Saved")
                    st.session_state.pop(state.QUOTA_VERSION, None)  # show the new draft
                    st.rerun()
