"""Comp: team summary, the monthly accrual, a statement per rep traced to deals and rates, a what-if.

Crediting reads the plan store's published versions (:func:`approved_plans`): the
approved plan is the single source of truth, effective-dated by each version's
``effective_from``. Deals are the demo year's bookings; comp plans are data/comp/.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import streamlit as st

from planner.comp.accrual import ALL_PLANS, accrual_report
from planner.comp.calculate import CompResult
from planner.comp.deals import check_deals
from planner.comp.demo import DEMO_MONTHS, demo_comp_plans, demo_deals
from planner.comp.estimate import estimate_deal
from planner.comp.run import run_comp
from planner.comp.statements import plan_description, rep_ledger, statement_csv, statement_html
from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.money import format_usd
from planner.plans.approved import ApprovedPlan
from ui.data import demo_dataset
from ui.store import plan_store

REP_KEY = "comp_rep"
MONTH_KEY = "comp_month"
AMOUNT_KEY = "comp_whatif_amount_usd"
DATE_KEY = "comp_whatif_date"


def approved_plans(dataset: Dataset) -> list[ApprovedPlan]:
    """Published versions in the plan store whose units are the data set's, by effective date."""
    units = set(dataset.units.index)
    return [plan for plan in plan_store().published_plans() if set(plan.plan.units) == units]


@st.cache_resource(max_entries=1, show_spinner=False)
def demo_inputs() -> tuple[pd.DataFrame, list]:
    """Checked demo deals and the comp plans (cached per server)."""
    dataset = demo_dataset()
    deals = check_deals(demo_deals(dataset), known_accounts=dataset.accounts.index)
    return deals, demo_comp_plans()


@st.cache_resource(max_entries=4, show_spinner=False)
def comp_result(version_ids: tuple[int, ...], _approved: list[ApprovedPlan]) -> CompResult:
    """The demo year's comp for every rep under the published versions ``version_ids`` (read-only).

    Published versions are immutable, so their ids identify the result.
    """
    dataset = demo_dataset()
    deals, plans = demo_inputs()
    return run_comp(deals, dataset.accounts["unit_id"], _approved, dataset.reps, plans, DEMO_MONTHS)


@st.cache_data(max_entries=16, show_spinner=False)
def ledger(version_ids: tuple[int, ...], rep_id: str, _result: CompResult) -> pd.DataFrame:
    """One rep's statement lines (cached per rep and versions; ``_result`` is that versions' comp)."""
    return rep_ledger(_result, rep_id)


st.title("Comp")
dataset = demo_dataset()
versions = approved_plans(dataset)
if not versions:
    st.warning("No published plan for this data set yet: approve and publish one on the Quotas page.")
    st.stop()
version_ids = tuple(v.version_id for v in versions)
bar = st.progress(0.0, text="Loading deals and comp plans...")
demo_inputs()
bar.progress(0.4, text="Crediting deals and calculating comp for every rep...")
result = comp_result(version_ids, versions)
bar.progress(0.9, text="Preparing statements...")
st.caption(
    f"Demo year {result.months[0]}..{result.months[-1]}: deals from the demo bookings, credited under "
    "the published plans "
    + ", ".join(f"{a.name} (from {a.effective_from})" for a in versions)
    + ". Plans: "
    + ", ".join(result.plans)
    + ". Money is computed in whole cents; see docs/comp.md for every rule."
)
if result.uncredited is not None and len(result.uncredited):
    st.warning(
        f"{len(result.uncredited):,} deals were not credited to anyone (see the CLI output for reasons)."
    )

names = dataset.reps["name"].astype(str).to_dict()
bar.empty()
summary = result.summary
team = summary.groupby(["rep_id", "plan"], as_index=False)[
    ["credited_cents", "quota_cents", "earnings_cents", "payout_cents"]
].sum()
team["name"] = team["rep_id"].map(names)
team["manager"] = team["rep_id"].map(dataset.reps["manager_id"].astype("string").fillna("").to_dict())
team["attainment_pct"] = (
    100 * team["credited_cents"] / team["quota_cents"].where(team["quota_cents"] > 0)
).round(1)

st.subheader("Team summary")
cols = st.columns(4)
cols[0].metric("Reps paid", f"{len(result.plan_of):,}")
cols[1].metric(
    "Credited", format_usd(summary.loc[summary["plan"] == team["plan"].iloc[0], "credited_cents"].sum())
)
cols[2].metric("Earnings", format_usd(summary["earnings_cents"].sum()))
cols[3].metric("Payout", format_usd(summary["payout_cents"].sum()))
shown = team.assign(
    credited=team["credited_cents"].map(format_usd),
    quota=team["quota_cents"].map(format_usd),
    earnings=team["earnings_cents"].map(format_usd),
    payout=team["payout_cents"].map(format_usd),
)[["rep_id", "name", "plan", "manager", "credited", "quota", "attainment_pct", "earnings", "payout"]]
st.dataframe(shown, hide_index=True, width="stretch")
st.bar_chart(team.set_index("rep_id")["payout_cents"] / 100, y_label="payout (USD)", height=240)

st.subheader("Accrual")
st.caption(
    "What finance books each month: commission earned (accrued), earnings paid, earned but held, "
    "draws advanced and recovered, and the draw balance reps owe back."
)
accrual = accrual_report(summary)
company = accrual.loc[accrual["plan"] == ALL_PLANS].set_index("month")
st.bar_chart(
    company[["accrued_cents", "paid_earnings_cents"]].rename(
        columns={"accrued_cents": "earned", "paid_earnings_cents": "paid"}
    )
    / 100,
    stack=False,
    y_label="USD",
    height=220,
)
st.dataframe(
    accrual.assign(**{c: accrual[c].map(format_usd) for c in accrual if c.endswith("_cents")}).rename(
        columns=lambda c: c.removesuffix("_cents")
    ),
    hide_index=True,
    width="stretch",
)
st.download_button(
    "Download accrual.csv",
    accrual.to_csv(index=False),
    file_name="accrual.csv",
    mime="text/csv",
)

st.subheader("Statement")
reps = sorted(result.plan_of)
rep_id = st.selectbox("Rep", reps, format_func=lambda r: f"{names.get(r, r)} ({r})", key=REP_KEY)
with st.expander(f"Plan: {result.plan_of[rep_id]}"):
    rules = plan_description(result.plans[result.plan_of[rep_id]])
    st.markdown("\n".join("- " + sentence.replace("$", "\\$") for sentence in rules))  # $ is not LaTeX here
mine = summary.loc[summary["rep_id"] == rep_id].set_index("month")
monthly = pd.DataFrame(
    {
        "credited": mine["credited_cents"].map(format_usd),
        "quota": mine["quota_cents"].map(format_usd),
        "attainment %": mine["attainment_pct"],
        **{
            f"{component}": cents.map(format_usd)
            for component, cents in result.earnings_by_component().loc[rep_id].items()
        },
        "SPIFFs": mine["spiffs_cents"].map(format_usd),
        "clawbacks": mine["clawbacks_cents"].map(format_usd),
        "draw": mine["draw_cents"].map(format_usd),
        "recovery": mine["recovery_cents"].map(format_usd),
        "balance owed": mine["balance_cents"].map(format_usd),
        "payout": mine["payout_cents"].map(format_usd),
    }
)
st.dataframe(monthly, width="stretch")
st.line_chart(mine["attainment_pct"], y_label="attainment (%)", height=200)
month = st.selectbox("Lines of month", list(result.months), key=MONTH_KEY)
lines = ledger(version_ids, rep_id, result)
st.dataframe(lines.loc[lines["month"] == month].drop(columns="month"), hide_index=True, width="stretch")
st.caption(
    "Each deal line is the window-to-date earnings after the deal minus before it, rounded half up to the "
    "cent; the lines of a month add up to its earnings, and earnings + draw - recovery = payout."
)
down = st.columns(2)
down[0].download_button(
    "Statement (CSV)",
    statement_csv(result, rep_id, ledger=lines),
    file_name=f"statement-{rep_id}.csv",
    mime="text/csv",
)
down[1].download_button(
    "Statement (HTML)",
    statement_html(result, rep_id, rep_name=names.get(rep_id, ""), ledger=lines),
    file_name=f"statement-{rep_id}.html",
    mime="text/html",
)

st.subheader("What if I close this deal?")
with st.form("comp_whatif"):
    amount_usd = st.number_input(
        "Deal amount (USD)", min_value=0.0, value=50_000.0, step=1_000.0, key=AMOUNT_KEY
    )
    close = st.date_input(
        "Close date",
        value=date(int(result.months[-1][:4]), int(result.months[-1][5:]), 1),
        min_value=date.fromisoformat(result.months[0] + "-01"),
        max_value=date.fromisoformat(result.months[-1] + "-28"),
        key=DATE_KEY,
    )
    submitted = st.form_submit_button("Estimate")
if submitted:
    try:
        cents = int((Decimal(str(amount_usd)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        estimate = estimate_deal(result, rep_id, cents, close)
    except PlannerError as exc:
        st.error(str(exc))
    else:
        st.metric(
            f"If {names.get(rep_id, rep_id)} closes {format_usd(cents, grouping=False)} on {close}",
            f"earns {format_usd(estimate.extra_earnings_cents)} more",
            delta=f"payout {format_usd(estimate.extra_payout_cents)}",
        )
        st.dataframe(
            estimate.lines[
                ["component", "window", "tier", "cum_before_cents", "cum_after_cents", "earned_cents"]
            ],
            hide_index=True,
        )
