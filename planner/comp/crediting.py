"""Crediting: who gets credit for each deal, and each rep's quota, from the approved plan history.

Rules (all amounts in integer cents, every split exact):

- A deal is credited by its ``close_date`` under the approved plan in effect that day (the
  last one whose ``effective_from`` is on or before it): account -> unit -> territory ->
  the territory's reps. A mid-period realignment therefore credits each rep for the
  deals closed while they owned the account's territory.
- A territory with several reps splits each deal evenly (largest remainder: the leftover
  cents go one each to the reps in ``rep_id`` order). A vacant territory, or an account
  with no unit, leaves the deal *uncredited* (listed, never silently dropped).
- Split rows override the territory: each rep gets ``share`` of the amount, largest
  remainder, so the credits of a deal always sum to its amount.
- Manager roll-up: every manager above a rep (following ``reps.manager_id`` up the
  tree) gets a ``team`` credit row equal to the rep's own credit.
- Rep quota for a month: the territory's quota for that month (a quarterly quota is
  spread over its three months, largest remainder) divided evenly among the
  territory's reps (largest remainder), pro-rated by the days of the month each
  approved plan was in effect (``quota * days / days_in_month``, half up). A manager's
  quota is the sum of the quotas of the reps below them. Each quota line of the plans
  has its own rep quotas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from planner.comp.deals import SHARE_SCALE
from planner.errors import PlanError
from planner.plans.approved import ApprovedPlan

CREDIT_COLUMNS = (
    "deal_id",
    "rep_id",
    "close_date",
    "month",
    "credit_cents",
    "deal_cents",
    "territory_id",
    "source",
    "via_rep_id",
)


SOURCES = ("territory", "split", "team")


def month_key(dates: pd.Series) -> pd.Series:
    """'YYYY-MM' of each date, as a categorical (built from month numbers: fast on millions)."""
    number = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(np.int64)
    if len(number) == 0:
        return pd.Series(pd.Categorical([]), index=dates.index)
    first = int(number.min())
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, int(number.max()) + 1)]
    return pd.Series(pd.Categorical.from_codes(number - first, labels), index=dates.index)


def deal_categories(deal_ids: pd.Series) -> tuple[pd.CategoricalDtype, np.ndarray]:
    """Sorted categories ``""`` + unique deal ids, and each id's code (sorting, not hashing: fast)."""
    order = np.argsort(pd.Index(deal_ids).to_numpy(dtype=object), kind="stable")
    codes = np.empty(len(deal_ids), dtype=np.int64)
    codes[order] = np.arange(1, len(deal_ids) + 1)
    categories = pd.Index(np.concatenate([[""], deal_ids.to_numpy(dtype=object)[order]]), dtype=object)
    return pd.CategoricalDtype(categories), codes


def sorted_versions(approved: Sequence[ApprovedPlan]) -> list[ApprovedPlan]:
    """The approved plans by ``effective_from``; an error when there is none or two share a date."""
    if not approved:
        raise PlanError("no approved plan given: crediting needs at least one approved plan")
    versions = sorted(approved, key=lambda a: a.effective_from)
    starts = [a.effective_from for a in versions]
    if len(set(starts)) != len(starts):
        raise PlanError(f"two approved plans take effect on the same day ({starts}); keep one per date")
    return versions


def _version_of(dates: pd.Series, versions: list[ApprovedPlan]) -> np.ndarray:
    starts = np.array([np.datetime64(a.effective_from, "ns") for a in versions])
    return np.searchsorted(starts, dates.to_numpy(dtype="datetime64[ns]"), side="right") - 1


def _even_split(amount: np.ndarray, count: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """``amount`` split in ``count`` equal parts; the part of rank ``rank`` (largest remainder)."""
    return amount // count + (rank < amount % count)


def territory_owners(approved: ApprovedPlan) -> pd.DataFrame:
    """Rows ``rep_id``, ``territory_id``, ``n_reps``, ``rank`` (the rep's place in rep_id order)."""
    reps = approved.plan.territory_reps.rename_axis("rep_id").reset_index().sort_values("rep_id")
    reps["n_reps"] = reps.groupby("territory_id")["rep_id"].transform("size")
    reps["rank"] = reps.groupby("territory_id").cumcount()
    return reps


def _coverage(
    versions: list[ApprovedPlan], territories: pd.Index, rep_type: pd.CategoricalDtype
) -> pd.DataFrame:
    """Rows ``version``, ``territory`` (code), ``rep_id``, ``n_reps``, ``rank`` per covered territory."""
    frames = []
    for v, approved in enumerate(versions):
        reps = territory_owners(approved)
        reps["version"] = v
        reps["territory"] = territories.get_indexer(reps["territory_id"])
        reps["rep_id"] = pd.Categorical(reps["rep_id"], dtype=rep_type)
        frames.append(reps.loc[reps["territory"] >= 0].drop(columns="territory_id"))
    return pd.concat(frames, ignore_index=True)


def manager_chains(reps: pd.DataFrame) -> dict[str, list[str]]:
    """Managers above each rep, nearest first (from ``manager_id``; cycles are cut)."""
    managers = reps["manager_id"].astype("string").fillna("").astype(str).to_dict() if len(reps) else {}
    chains: dict[str, list[str]] = {}
    for rep in managers:
        chain, seen, current = [], {rep}, managers.get(rep, "")
        while current and current in managers and current not in seen:
            chain.append(current)
            seen.add(current)
            current = managers.get(current, "")
        chains[rep] = chain
    return chains


def credit_deals(
    deals: pd.DataFrame,
    account_units: pd.Series,
    approved: Sequence[ApprovedPlan],
    *,
    splits: pd.DataFrame | None = None,
    reps: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Credit every deal to reps (and managers), by the approved plan in effect on its close date.

    Parameters
    ----------
    deals : pandas.DataFrame
        Checked deals (:func:`planner.comp.deals.check_deals`).
    account_units : pandas.Series
        ``unit_id`` indexed by ``account_id`` (``dataset.accounts['unit_id']``).
    approved : sequence of ApprovedPlan
        The effective-dated history (any order; sorted by ``effective_from``).
    splits : pandas.DataFrame, optional
        Checked split rows (:func:`planner.comp.deals.check_splits`).
    reps : pandas.DataFrame, optional
        Reps indexed by ``rep_id`` with ``manager_id``, for the manager roll-up.

    Returns
    -------
    credits : pandas.DataFrame
        One row per deal and credited person, columns :data:`CREDIT_COLUMNS`; ``source`` is
        ``territory``, ``split`` or ``team`` (roll-up, with ``via_rep_id`` the rep).
    uncredited : pandas.DataFrame
        Deals nobody was credited for, with a ``reason``.
    """
    versions = sorted_versions(approved)
    deal_type, deal_codes = deal_categories(deals["deal_id"])
    rep_ids = set().union(*(a.plan.territory_reps.index for a in versions))
    if reps is not None:
        rep_ids |= set(reps.index.astype(str)) | {m for m in reps["manager_id"].dropna().astype(str) if m}
    if splits is not None:
        rep_ids |= set(splits["rep_id"])
    rep_type = pd.CategoricalDtype(sorted(rep_ids | {""}))
    territories = pd.Index(sorted(set().union(*(set(a.plan.assignment) for a in versions))))
    table = pd.DataFrame(
        {
            "deal_id": pd.Categorical.from_codes(deal_codes, dtype=deal_type),
            "account_id": deals["account_id"].to_numpy(),
            "close_date": deals["close_date"].to_numpy(),
            "amount_cents": deals["amount_cents"].to_numpy(np.int64),
        }
    )
    version = _version_of(table["close_date"], versions)
    unit_codes, units = pd.factorize(account_units.astype("string"))
    account = pd.Index(account_units.index.astype(str)).get_indexer(table["account_id"])
    unit = np.where(account >= 0, unit_codes[np.maximum(account, 0)], -1)
    by_version = np.stack([territories.get_indexer(a.plan.assignment.reindex(units)) for a in versions])
    territory = np.where(
        (version >= 0) & (unit >= 0), by_version[np.maximum(version, 0), np.maximum(unit, 0)], -1
    )
    table["version"], table["unit"], table["territory"] = version, unit, territory
    has_splits = splits is not None and len(splits) > 0
    split_codes = deal_type.categories.get_indexer(splits["deal_id"]) if has_splits else np.zeros(0, np.int64)
    is_split = np.isin(deal_codes, split_codes)
    coverage = _coverage(versions, territories, rep_type)
    by_territory = table.loc[~is_split].merge(coverage, on=["version", "territory"], how="left")
    covered = by_territory["n_reps"].notna().to_numpy()
    own = by_territory.loc[covered].copy()
    own["credit_cents"] = _even_split(
        own["amount_cents"].to_numpy(), own["n_reps"].to_numpy(np.int64), own["rank"].to_numpy(np.int64)
    )
    own["source"] = pd.Categorical.from_codes(np.zeros(len(own), dtype=np.int8), SOURCES)
    parts = [own.drop(columns=["n_reps", "rank"])]
    if has_splits:
        shares = pd.DataFrame(
            {
                "deal_code": split_codes,
                "rep_id": pd.Categorical(splits["rep_id"], dtype=rep_type),
                "share_micro": splits["share_micro"].to_numpy(np.int64),
            }
        )
        split_rows = table.loc[is_split].assign(deal_code=deal_codes[is_split]).merge(shares, on="deal_code")
        split_rows = split_rows.drop(columns="deal_code")
        parts.append(_split_credit(split_rows))
    credits = pd.concat(parts, ignore_index=True)
    credits["deal_cents"] = credits["amount_cents"]
    credits["via_rep_id"] = pd.Categorical.from_codes(
        np.full(len(credits), rep_type.categories.get_loc("")), dtype=rep_type
    )
    if reps is not None:
        credits = pd.concat([credits, _rollup(credits, manager_chains(reps), rep_type)], ignore_index=True)
    credits["month"] = month_key(credits["close_date"])
    labels = territories.append(pd.Index([""]))
    codes = credits["territory"].to_numpy(np.int64)
    credits["territory_id"] = pd.Categorical.from_codes(np.where(codes >= 0, codes, len(labels) - 1), labels)
    credits["credit_cents"] = credits["credit_cents"].astype("int64")
    uncredited = by_territory.loc[~covered, ["deal_id", "account_id", "close_date", "amount_cents"]].copy()
    missed = by_territory.loc[~covered]
    reason = np.select(
        [
            missed["version"].to_numpy() < 0,
            missed["unit"].to_numpy() < 0,
            missed["territory"].to_numpy() < 0,
        ],
        [
            "closed before the first approved plan",
            "account has no unit",
            "the account's unit is not in the approved plan",
        ],
        default="territory has no rep (vacant) on the close date",
    )
    uncredited["deal_id"] = uncredited["deal_id"].astype(str)
    uncredited["reason"] = reason
    return credits.loc[:, list(CREDIT_COLUMNS)].reset_index(drop=True), uncredited.reset_index(drop=True)


def _split_credit(rows: pd.DataFrame) -> pd.DataFrame:
    """Largest-remainder split of each deal by ``share_micro`` (ties to the lower rep_id)."""
    amount = rows["amount_cents"].to_numpy(np.int64)
    product = amount * rows["share_micro"].to_numpy(np.int64)
    rows = rows.assign(credit_cents=product // SHARE_SCALE, remainder=product % SHARE_SCALE)
    leftover = rows["amount_cents"] - rows.groupby("deal_id")["credit_cents"].transform("sum")
    rows = rows.sort_values(["deal_id", "remainder", "rep_id"], ascending=[True, False, True])
    rank = rows.groupby("deal_id").cumcount()
    rows["credit_cents"] += (rank < leftover.loc[rows.index]).astype("int64")
    source = pd.Categorical.from_codes(np.ones(len(rows), dtype=np.int8), SOURCES)
    return rows.drop(columns=["remainder", "share_micro"]).assign(source=source)


def _rollup(
    credits: pd.DataFrame, chains: dict[str, list[str]], rep_type: pd.CategoricalDtype
) -> pd.DataFrame:
    pairs = [(rep, manager) for rep, chain in chains.items() for manager in chain]
    if not pairs:
        return credits.iloc[:0]
    links = pd.DataFrame(pairs, columns=["rep_id", "manager_id"]).astype(
        {"rep_id": rep_type, "manager_id": rep_type}
    )
    team = credits.merge(links, on="rep_id")
    team["via_rep_id"] = team["rep_id"]
    team["rep_id"] = team["manager_id"]
    team["source"] = pd.Categorical.from_codes(np.full(len(team), 2, dtype=np.int8), SOURCES)
    return team.drop(columns=["manager_id"])


def _monthly_territory_quotas(quotas: pd.DataFrame) -> pd.DataFrame:
    """Quota rows per territory, line and 'YYYY-MM' (quarterly quotas spread over 3 months, exactly)."""
    monthly = quotas.loc[~quotas["period"].str.contains("Q")].rename(columns={"period": "month"})
    quarterly = quotas.loc[quotas["period"].str.contains("Q")]
    frames = [monthly[["territory_id", "line", "month", "quota_cents"]]]
    for offset in range(3):
        part = quarterly.copy()
        year = part["period"].str[:4]
        first = (part["period"].str[-1].astype(int) - 1) * 3 + 1
        part["month"] = year.astype(str) + "-" + (first + offset).map("{:02d}".format).astype(str)
        part["quota_cents"] = _even_split(
            part["quota_cents"].to_numpy(np.int64), np.int64(3), np.int64(offset)
        )
        frames.append(part[["territory_id", "line", "month", "quota_cents"]])
    keys = ["territory_id", "line", "month"]
    return pd.concat(frames, ignore_index=True).groupby(keys, as_index=False).sum()


def rep_quotas(
    approved: Sequence[ApprovedPlan], months: Sequence[str], *, reps: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each rep's (and manager's) quota per quota line and month, in hundredths of the line's unit.

    Returns a DataFrame with columns ``rep_id``, ``line``, ``month``, ``quota_cents`` (see the
    module docstring for the pro-rating rules).
    """
    versions = sorted_versions(approved)
    frames = []
    for v, version in enumerate(versions):
        start = pd.Timestamp(version.effective_from)
        end = pd.Timestamp(versions[v + 1].effective_from) if v + 1 < len(versions) else pd.Timestamp.max
        coverage = territory_owners(version)
        territory = _monthly_territory_quotas(version.quotas)
        territory = territory.loc[territory["month"].isin(months)]
        rows = territory.merge(coverage, on="territory_id")
        if rows.empty:
            continue
        month_start = pd.to_datetime(rows["month"] + "-01")
        days_in = month_start.dt.days_in_month.to_numpy(np.int64)
        month_end = month_start + pd.to_timedelta(days_in, unit="D")
        overlap_start = month_start.where(month_start > start, start)
        overlap_end = month_end.where(month_end < end, end)
        days = np.clip((overlap_end - overlap_start).dt.days.to_numpy(np.int64), 0, None)
        share = _even_split(
            rows["quota_cents"].to_numpy(np.int64),
            rows["n_reps"].to_numpy(np.int64),
            rows["rank"].to_numpy(np.int64),
        )
        rows["quota_cents"] = (2 * share * days + days_in) // (2 * days_in)
        frames.append(rows.loc[days > 0, ["rep_id", "line", "month", "quota_cents"]])
    if not frames:
        return pd.DataFrame(
            {"rep_id": [], "line": [], "month": [], "quota_cents": np.array([], dtype=np.int64)}
        )
    keys = ["rep_id", "line", "month"]
    quotas = pd.concat(frames, ignore_index=True).groupby(keys, as_index=False)["quota_cents"].sum()
    if reps is not None:
        chains = manager_chains(reps)
        pairs = pd.DataFrame(
            [(rep, manager) for rep, chain in chains.items() for manager in chain],
            columns=["rep_id", "manager_id"],
        )
        team = (
            quotas.merge(pairs, on="rep_id")
            .groupby(["manager_id", "line", "month"], as_index=False)["quota_cents"]
            .sum()
        )
        quotas = pd.concat([quotas, team.rename(columns={"manager_id": "rep_id"})], ignore_index=True)
        quotas = quotas.groupby(keys, as_index=False)["quota_cents"].sum()
    quotas["quota_cents"] = quotas["quota_cents"].astype("int64")
    return quotas.sort_values(keys).reset_index(drop=True)
