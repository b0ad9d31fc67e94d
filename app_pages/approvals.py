"""Approvals: the queue of quota proposals (before/after, effect on fairness), decisions, versions."""

from __future__ import annotations

import altair as alt
import streamlit as st

from planner.errors import PlannerError
from planner.quota.fairness import fairness_report
from planner.quota.hierarchy import territory_regions
from planner.store import Role, Status, VersionLine
from planner.store.drafts import version_hierarchy
from planner.store.roles import PERMISSIONS
from ui import state
from ui.columns import unit_label
from ui.identity import acting_user
from ui.session import active_dataset
from ui.store import plan_store

store = plan_store()
user = acting_user(store)
st.title("Approvals")
can_decide = user.role in PERMISSIONS["decide"]
if not can_decide:
    st.info(f"You act as {user.name} ({user.role.value}): you can follow the queue; approvers decide.")

open_versions = [v for v in store.versions() if v.status in (Status.DRAFT, Status.PROPOSED)]
if not open_versions:
    st.success("No version is open for proposals.")
    st.stop()
labels = {v.version_id: f"v{v.version_id} {v.name} ({v.status.value})" for v in open_versions}
version_id = st.selectbox("Plan version", list(labels), format_func=labels.get, key=state.APPROVAL_VERSION)
version = store.version(version_id)
info = version.info
pending = store.proposals(version_id, status="pending")
units = active_dataset()[0].units
same_units = set(version.plan.assignment.index) <= set(units.index)
regions = territory_regions(units, version.plan.assignment) if same_units else None


def decide_buttons(proposal_id: int, proposed_by: str) -> None:
    """Comment box and accept / reject buttons of one proposal (approvers)."""
    comment = st.text_input("Comment (required)", key=f"ap_comment_{proposal_id}")
    accept_col, reject_col, _ = st.columns([1, 1, 4])
    own = proposed_by == user.user_id
    for column, accept, label in ((accept_col, True, "Accept"), (reject_col, False, "Reject")):
        if column.button(label, key=f"ap_{label.lower()}_{proposal_id}", disabled=own):
            try:
                store.decide(
                    user.user_id,
                    int(proposal_id),
                    accept=accept,
                    comment=comment,
                    expected_revision=info.revision,
                )
            except PlannerError as exc:
                st.error(str(exc))
            else:
                st.toast(f"#{proposal_id} {'accepted' if accept else 'rejected'}")
                st.rerun()


def show_line(stored: VersionLine, waiting) -> None:
    """The pending proposals of one quota line: chart, fairness and roll-up effects, decisions."""
    line = stored.line
    amount = line.format
    territories = stored.territories
    rolled = version_hierarchy(version, regions, line=line.name)
    parent = dict(zip(rolled["node_id"], rolled["parent_id"], strict=True))
    rolled_quota = dict(zip(rolled["node_id"], rolled["quota_cents"], strict=True))

    def roll_up_text(territory_id: str, change_cents: int) -> str:
        """Where a change to one territory's quota lands up the hierarchy, in words."""
        manager = parent.get(territory_id)
        region = parent.get(manager)
        parts = [
            f"{level} {node} {amount(rolled_quota[node])} -> {amount(rolled_quota[node] + change_cents)}"
            for level, node in (("team of", manager), ("region", region))
            if node is not None
        ]
        return "Rolls up to " + "; ".join(parts) + "." if parts else ""

    def fairness_after(changes: dict[str, int]):
        """Fairness of the line's quotas with ``changes`` (territory -> annual amount) applied."""
        quotas = territories["annual_quota_cents"].copy()
        for territory_id, cents in changes.items():
            quotas[territory_id] = cents
        return fairness_report(
            quotas, territories["potential_cents"] / 100, territories["forecast_cents"] / 100
        )

    diff = waiting.assign(
        Before=waiting["base_quota_cents"] / 100,
        After=waiting["proposed_quota_cents"] / 100,
    )
    long = diff.reset_index().melt(
        id_vars=["proposal_id", "territory_id"], value_vars=["Before", "After"], var_name="quota"
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("territory_id:N", title="Territory"),
            xOffset=alt.XOffset("quota:N", sort=["Before", "After"]),
            y=alt.Y("value:Q", title=f"Annual {line.name} quota ({unit_label(line)})"),
            color=alt.Color("quota:N", title="", sort=["Before", "After"]),
            tooltip=["proposal_id", "territory_id", "quota", "value"],
        )
        .properties(title=f"{line.name}: before and after, per pending proposal", height=260)
    )
    st.altair_chart(chart, width="stretch")
    now = fairness_after({})
    everything = fairness_after(
        dict(zip(waiting["territory_id"], waiting["proposed_quota_cents"], strict=True))
    )
    change_cents = int((waiting["proposed_quota_cents"] - waiting["base_quota_cents"]).sum())
    st.caption(
        f"If every pending {line.name} proposal is accepted: quotas total {amount(stored.total_cents)} -> "
        f"{amount(stored.total_cents + change_cents)} (target {amount(stored.target_cents)}); "
        f"Gini of quota per potential {now.quota_per_potential_gini:.4f} -> "
        f"{everything.quota_per_potential_gini:.4f}; expected at or above quota "
        f"{now.at_or_above_quota_frac:.0%} -> {everything.at_or_above_quota_frac:.0%}."
    )
    for proposal_id, row in waiting.iterrows():
        before, after = int(row["base_quota_cents"]), int(row["proposed_quota_cents"])
        change = after / before - 1 if before else float("inf")
        current = int(territories.loc[row["territory_id"], "annual_quota_cents"])
        single = fairness_after({row["territory_id"]: after})
        with st.container(border=True):
            st.markdown(
                f"**#{proposal_id} {row['territory_id']} {line.name}** by `{row['proposed_by']}`: "
                f"{amount(before)} -> **{amount(after)}** ({change:+.1%}). Reason: _{row['reason']}_"
            )
            attainment = single.table.loc[row["territory_id"], "attainment_frac"]
            st.caption(
                f"Expected attainment after: {attainment:.0%}; Gini {now.quota_per_potential_gini:.4f} -> "
                f"{single.quota_per_potential_gini:.4f}. {roll_up_text(row['territory_id'], after - current)}"
                + (
                    ""
                    if current == before
                    else f" The quota has changed since (now {amount(current)}): reject it."
                )
            )
            if can_decide:
                decide_buttons(proposal_id, row["proposed_by"])


st.subheader(f"Pending proposals ({len(pending)})")
if pending.empty:
    st.caption("Nothing waiting for a decision.")
for line_name, waiting in pending.groupby("line", sort=True):
    if len(version.lines) > 1:
        st.markdown(f"#### {line_name}")
    show_line(version.line(line_name), waiting)

if info.status is Status.PROPOSED and user.role in PERMISSIONS["approve"]:
    st.subheader("Decide the version")
    gaps = store.target_gaps(version_id)
    if gaps:
        st.warning(
            "Quotas are off target by more than 10%: "
            + "; ".join(gaps)
            + ". Approving needs a comment that says why."
        )
    comment = st.text_input("Comment", key="ap_version_comment")
    approve_col, return_col, _ = st.columns([1, 1, 4])
    for column, action in ((approve_col, "approve"), (return_col, "return")):
        if column.button(f"{action.capitalize()} v{version_id}", key=f"ap_version_{action}"):
            try:
                store.transition(
                    user.user_id, version_id, action, comment=comment, expected_revision=info.revision
                )
            except PlannerError as exc:
                st.error(str(exc))
            else:
                st.rerun()

st.subheader("Decided")
decided = store.proposals(version_id)
decided = decided[decided["status"] != "pending"]
if decided.empty:
    st.caption("No decisions yet.")
else:
    formats = {name: stored.line.format for name, stored in version.lines.items()}
    shown = decided.assign(
        before=[
            formats[line](c) for line, c in zip(decided["line"], decided["base_quota_cents"], strict=True)
        ],
        after=[
            formats[line](c) for line, c in zip(decided["line"], decided["proposed_quota_cents"], strict=True)
        ],
    )[["territory_id", "line", "proposed_by", "before", "after", "reason", "status", "decided_by", "comment"]]
    st.dataframe(shown, width="stretch")
with st.expander("Audit log of this version"):
    log = store.audit_log(version_id)
    st.dataframe(log, width="stretch")
if user.role is Role.VIEWER:
    st.caption("Viewers see everything and change nothing.")
