"""Account ownership under a plan, and the CRM-ready account assignment file.

An account belongs to the territory of the unit it lies in; its owner is that
territory's rep. The owner rule, deterministic and the same everywhere (exports, change
report, UI):

1. a territory with one rep: that rep owns all its accounts;
2. a multi-rep territory: an account whose previous owner is one of the territory's reps
   keeps that owner; the others are dealt, in ``account_id`` order, each to the
   territory's rep holding the fewest of its accounts so far (kept ones included), ties
   to the smallest ``rep_id``;
3. a vacant territory (no rep): the account has no owner (empty ``rep_id``), to be
   assigned in the CRM.
"""

from __future__ import annotations

import heapq
from datetime import date

import pandas as pd

from planner.errors import PlanError
from planner.plans.plan import Plan

#: Columns of the CRM account assignment table, in file order.
ASSIGNMENT_COLUMNS = (
    "account_id",
    "account_name",
    "unit_id",
    "territory_id",
    "new_owner_rep_id",
    "new_owner_name",
    "old_owner_rep_id",
    "old_owner_name",
    "effective_date",
    "changed",
)


def account_territories(accounts: pd.DataFrame, plan: Plan) -> pd.Series:
    """Territory of each account (via its ``unit_id``), indexed by ``account_id``.

    Raises :class:`PlanError` naming accounts without a unit or in a unit the plan lacks.
    """
    if "unit_id" not in accounts.columns:
        raise PlanError("accounts lack the column 'unit_id'; load them with planner.load_dataset")
    unit_of = accounts["unit_id"]
    if unit_of.isna().any():
        bad = accounts.index[unit_of.isna().to_numpy()][:10].tolist()
        raise PlanError(f"accounts {bad} lie in no unit; give them a unit_id or coordinates")
    territory = unit_of.astype(str).map(plan.assignment)
    if territory.isna().any():
        bad = accounts.index[territory.isna().to_numpy()][:10].tolist()
        units = unit_of[territory.isna()].astype(str).unique()[:10].tolist()
        raise PlanError(f"accounts {bad} lie in units {units} that the plan does not cover")
    return territory.astype(str).rename("territory_id")


def _blank(values: pd.Series) -> pd.Series:
    """Text with missing values as empty strings."""
    return values.astype(object).where(values.notna(), "").astype(str)


def assign_owners(accounts: pd.DataFrame, plan: Plan, previous_owner: pd.Series | None = None) -> pd.Series:
    """Owner ``rep_id`` of every account under ``plan`` (empty string: vacant territory).

    Parameters
    ----------
    accounts : pandas.DataFrame
        Indexed by ``account_id``, with ``unit_id``.
    plan : Plan
        The plan whose territories and reps decide ownership.
    previous_owner : pandas.Series, optional
        Owner before this plan, by ``account_id`` (default ``accounts['owner_rep_id']``);
        decides who keeps an account in a multi-rep territory (see module doc).

    Returns
    -------
    pandas.Series
        ``rep_id`` by ``account_id`` (str, "" for no owner).
    """
    territory = account_territories(accounts, plan)
    if previous_owner is None:
        previous_owner = accounts["owner_rep_id"] if "owner_rep_id" in accounts else pd.Series(dtype=str)
    previous = _blank(previous_owner.reindex(accounts.index))
    reps = plan.territory_reps
    reps_by_territory = {t: sorted(group.index) for t, group in reps.groupby(reps)}
    owner = pd.Series("", index=accounts.index, dtype=object, name="rep_id")
    single = {t: r[0] for t, r in reps_by_territory.items() if len(r) == 1}
    is_single = territory.isin(list(single))
    owner[is_single] = territory[is_single].map(single)
    for territory_id, members in reps_by_territory.items():
        if len(members) < 2:
            continue
        in_territory = territory.index[territory.to_numpy() == territory_id]
        kept = previous[in_territory].isin(members)
        owner[in_territory[kept.to_numpy()]] = previous[in_territory][kept]
        counts = previous[in_territory][kept].value_counts()
        heap = [(int(counts.get(rep, 0)), rep) for rep in members]
        heapq.heapify(heap)
        for account_id in sorted(in_territory[~kept.to_numpy()]):
            held, rep = heapq.heappop(heap)
            owner[account_id] = rep
            heapq.heappush(heap, (held + 1, rep))
    return owner.astype(str)


def account_assignments(
    accounts: pd.DataFrame,
    plan: Plan,
    effective_date: date,
    *,
    reps: pd.DataFrame | None = None,
    old_plan: Plan | None = None,
    changed_only: bool = False,
) -> pd.DataFrame:
    """CRM-ready account assignment: new and old owner of every account, from a date.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Indexed by ``account_id``, with ``name``, ``unit_id`` and ``owner_rep_id``.
    plan : Plan
        The new plan.
    effective_date : datetime.date
        Date the new owners take over.
    reps : pandas.DataFrame, optional
        Reps by ``rep_id`` with ``name``, for the owner names.
    old_plan : Plan, optional
        The old owner is the owner under this plan (same rule, starting from
        ``owner_rep_id``); by default the old owner is ``accounts['owner_rep_id']``.
    changed_only : bool
        Keep only accounts whose owner changes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ASSIGNMENT_COLUMNS`, one row per account, sorted by ``account_id``;
        missing owners are empty strings; ``effective_date`` is ISO text.
    """
    if not isinstance(effective_date, date):
        raise PlanError(f"effective date must be a date, got {effective_date!r}")
    stated = _blank(accounts["owner_rep_id"]) if "owner_rep_id" in accounts else None
    old = stated if old_plan is None else assign_owners(accounts, old_plan, stated)
    if old is None:
        old = pd.Series("", index=accounts.index, dtype=str)
    new = assign_owners(accounts, plan, old)
    names = {} if reps is None or "name" not in reps else _blank(reps["name"]).to_dict()
    table = pd.DataFrame(
        {
            "account_id": accounts.index.astype(str),
            "account_name": _blank(accounts["name"]).to_numpy() if "name" in accounts else "",
            "unit_id": accounts["unit_id"].astype(str).to_numpy(),
            "territory_id": account_territories(accounts, plan).to_numpy(),
            "new_owner_rep_id": new.to_numpy(),
            "new_owner_name": new.map(lambda r: names.get(r, "")).to_numpy(),
            "old_owner_rep_id": old.to_numpy(),
            "old_owner_name": old.map(lambda r: names.get(r, "")).to_numpy(),
            "effective_date": effective_date.isoformat(),
        }
    )
    table["changed"] = table["new_owner_rep_id"] != table["old_owner_rep_id"]
    if changed_only:
        table = table[table["changed"]]
    return table.sort_values("account_id").reset_index(drop=True)
