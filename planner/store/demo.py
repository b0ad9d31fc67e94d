"""Fill an empty store with the demo's people and plan versions, so the app has something to show.

- Users: ``ops`` (admin, sales operations), ``finance`` (approver), one manager user per
  demo manager (``m01`` ... with the manager's rep id, so they see their team), ``viewer``;
  each signs in as ``<user id>@terrain.test`` (the local provider of ``scripts/start-oidc.sh``)
  and uses the command line on PostgreSQL as the database login of the same name.
- ``FY2026 plan`` (January to December 2026): quotas allocated from bookings before 2026
  (+10% on the trailing year), approved by finance and published: the comp calculator
  credits 2026 bookings against it.
- ``FY2027 plan``: three quota lines allocated from all history: ``new_business`` and
  ``renewal`` (USD, +12% on each line's trailing bookings) and ``new_logos`` (a count of
  new-business deals, +5%, potential from accounts); submitted for review, with one pending
  proposal from manager m01 so the approvals queue is not empty.
- ``FY2026 mid-year realignment``: from 2026-07-15 the first county of every fifth
  territory moves to the next territory (:func:`demo_realignment`), quotas re-allocated
  from the same target; approved and published, so comp credits each rep for their part
  of July.

Both use trailing bookings + growth as the forecast (``forecast_method="growth"``): the
model forecast takes seconds per fit, and the seed runs whenever a fresh store opens
(every UI test); allocate a new draft to use the model.
"""

from __future__ import annotations

from datetime import date

from planner.data.dataset import Dataset
from planner.plans.plan import Plan
from planner.plans.quota_lines import HUNDREDTHS, QuotaLine
from planner.quota.inputs import territory_bookings_usd
from planner.quota.lines import line_dataset
from planner.quota.versions import QuotaRequest, history_before
from planner.store.drafts import save_draft
from planner.store.roles import Role
from planner.store.store import PlanStore

ADMIN = "ops"
APPROVER = "finance"
REALIGNMENT_DATE = date(2026, 7, 15)
DEMO_EMAIL_DOMAIN = "terrain.test"


def demo_identity(user_id: str) -> dict[str, str]:
    """A demo user's sign-in email (the local test provider's ``<login>@terrain.test``) and database login.

    On a shared PostgreSQL database the demo's convention is one login per user, named as the user.
    """
    return {"email": f"{user_id}@{DEMO_EMAIL_DOMAIN}", "db_login": user_id}


def demo_realignment(plan: Plan) -> Plan:
    """The demo's mid-year change: the first unit of every fifth territory moves to the next territory."""
    territories = list(plan.territories)
    moved = plan
    for position in range(0, len(territories), 5):
        source, target = territories[position], territories[(position + 1) % len(territories)]
        units = plan.units_of(source)
        if len(units) > 1:
            moved = moved.move(units[:1], target, name="FY2026 mid-year realignment")
    return moved


def demo_target_cents(
    dataset: Dataset, fiscal_year_start: str, growth_frac: float, line: QuotaLine | None = None
) -> int:
    """A line's trailing 12 months before the fiscal year, grown by ``growth_frac``, in whole units.

    Whole dollars for a USD line, whole deals for a count line (in hundredths, as stored).
    """
    known = history_before(line_dataset(line or QuotaLine(), dataset), fiscal_year_start)
    history = territory_bookings_usd(known, dataset.plan)
    return round(float(history.sum()) * (1 + growth_frac)) * HUNDREDTHS


def demo_fy2027_requests(dataset: Dataset) -> list[QuotaRequest]:
    """The FY2027 draft's quota lines: new business and renewal in USD, and new logos (deals)."""
    lines = (
        (QuotaLine("new_business"), 0.12),
        (QuotaLine("renewal"), 0.12),
        (QuotaLine("new_logos", unit="deals", potential="accounts", source="new_business"), 0.05),
    )
    return [
        QuotaRequest(
            target_cents=demo_target_cents(dataset, "2027-01", growth, line),
            fiscal_year_start="2027-01",
            forecast_method="growth",
            growth_frac=growth,
            line=line,
        )
        for line, growth in lines
    ]


def demo_fy2026_versions(dataset: Dataset) -> list[tuple[str, date, Plan, QuotaRequest]]:
    """The demo's published FY2026 versions: (name, effective from, plan, quota request).

    The store demo saves them and the comp demo (:func:`planner.comp.demo.demo_approved_plans`)
    allocates them the same way, so both pay the same.
    """
    fy2026 = QuotaRequest(
        target_cents=demo_target_cents(dataset, "2026-01", 0.10),
        fiscal_year_start="2026-01",
        forecast_method="growth",
    )
    return [
        ("FY2026 plan", fy2026.effective_from, dataset.plan, fy2026),
        ("FY2026 mid-year realignment", REALIGNMENT_DATE, demo_realignment(dataset.plan), fy2026),
    ]


def seed_demo_store(store: PlanStore, dataset: Dataset) -> None:
    """Add the demo users and versions (see module doc) to an empty store; no-op when it has users."""
    if store.users():
        return
    store.add_user(None, ADMIN, "Sales Operations", Role.ADMIN, **demo_identity(ADMIN))
    store.add_user(ADMIN, APPROVER, "Finance", Role.APPROVER, **demo_identity(APPROVER))
    managers = dataset.reps[dataset.reps["role"] == "manager"]
    for rep_id, row in managers.iterrows():
        user_id = rep_id.lower()
        store.add_user(
            ADMIN, user_id, str(row["name"]), Role.MANAGER, rep_id=rep_id, **demo_identity(user_id)
        )
    store.add_user(ADMIN, "viewer", "Read-only viewer", Role.VIEWER, **demo_identity("viewer"))

    (first_name, _, first_plan, fy2026), (third_name, third_from, realigned, _) = demo_fy2026_versions(
        dataset
    )
    first, _ = save_draft(store, ADMIN, dataset, first_plan, fy2026, name=first_name)
    store.transition(ADMIN, first.version_id, "submit")
    store.transition(APPROVER, first.version_id, "approve", comment="matches the board target")
    store.transition(ADMIN, first.version_id, "publish")

    second, _ = save_draft(
        store, ADMIN, dataset, dataset.plan, demo_fy2027_requests(dataset), name="FY2027 plan"
    )
    store.transition(ADMIN, second.version_id, "submit", comment="open for manager review")
    version = store.version(second.version_id)
    manager = managers.index[0]
    territory = sorted(version.team_of(manager))[0]
    current = int(version.line("renewal").territories.loc[territory, "annual_quota_cents"])
    store.propose(
        manager.lower(),
        second.version_id,
        territory,
        current * 95 // 10_000 * 100,
        line="renewal",
        reason="Largest account is consolidating vendors in Q1; expect 5% less renewal",
    )

    third, _ = save_draft(
        store, ADMIN, dataset, realigned, fy2026, name=third_name, effective_from=third_from
    )
    store.transition(ADMIN, third.version_id, "submit")
    store.transition(APPROVER, third.version_id, "approve", comment="realignment agreed with the regions")
    store.transition(ADMIN, third.version_id, "publish")
