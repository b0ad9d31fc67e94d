"""The change report between two plan versions, for communicating a realignment.

Built on :func:`planner.plans.plan.diff_plans` (units and measure totals moved per territory)
and :func:`planner.exports.crm.assign_owners` (who owns each account under each plan, by the
same rule as the CRM export), it answers: which accounts change owner, which units move,
how much TAM, bookings and how many accounts flow from which territory to which, and
what share of the whole that is. Tables are DataFrames; :func:`write_change_report`
saves them as CSV, one Excel workbook and a short markdown and HTML summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import PlanError
from planner.exports.crm import account_territories, assign_owners
from planner.exports.formats import MEASURE_DECIMALS, StagedFiles, additive_measures, write_csv
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan, diff_plans

#: Files written by :func:`write_change_report`, by format.
REPORT_FILES: dict[str, tuple[str, ...]] = {
    "csv": ("change_accounts.csv", "change_units.csv", "change_flows.csv", "change_territories.csv"),
    "xlsx": ("change_report.xlsx",),
    "md": ("change_report.md",),
    "html": ("change_report.html",),
}
TOP_FLOWS = 10


@dataclass(frozen=True)
class ChangeReport:
    """What changes from plan ``before`` to plan ``after``.

    Attributes
    ----------
    before_name, after_name : str
        Labels of the two plans.
    summary : pandas.DataFrame
        Index ``measure`` (``units``, ``accounts_owner_changed`` and each additive
        measure); columns ``total``, ``moved`` and ``moved_pct`` (share of the total, %).
    accounts : pandas.DataFrame
        Accounts whose owner changes: ``account_id``, ``account_name``, ``unit_id``,
        ``from_territory``, ``to_territory``, ``old_owner_rep_id``, ``new_owner_rep_id``
        and the owners' names.
    units : pandas.DataFrame
        Units that change territory: ``unit_id``, ``name``, ``from_territory``,
        ``to_territory`` and the unit's measures.
    flows : pandas.DataFrame
        One row per (``from_territory``, ``to_territory``) pair with moves: ``units`` and
        each measure moved, largest first by the first measure.
    territories : pandas.DataFrame
        Per territory that gains or loses anything (index ``territory_id``): units and
        each measure ``_out``, ``_in`` and ``_net`` (in minus out), and the accounts
        whose owner changes ``accounts_lost`` / ``accounts_gained`` (by owner's territory).
    """

    before_name: str
    after_name: str
    summary: pd.DataFrame
    accounts: pd.DataFrame
    units: pd.DataFrame
    flows: pd.DataFrame
    territories: pd.DataFrame

    def flow_matrix(self, measure: str = "units") -> pd.DataFrame:
        """From-territory (rows) by to-territory (columns) matrix of ``measure`` moved (0 when none)."""
        if measure not in self.flows.columns:
            raise PlanError(
                f"no measure '{measure}' in the flows; choose from {list(self.flows.columns[2:])}"
            )
        return self.flows.pivot_table(
            index="from_territory", columns="to_territory", values=measure, aggfunc="sum", fill_value=0
        )

    def to_markdown(self) -> str:
        """A short summary to send with the realignment: headline, totals, largest flows, accounts."""
        return _markdown(self)

    def to_html(self) -> str:
        """The summary of :meth:`to_markdown` as a standalone HTML page (no external assets)."""
        return _html(self)


def _plan_of(plan: Plan | ApprovedPlan) -> tuple[Plan, str]:
    if isinstance(plan, ApprovedPlan):
        return plan.plan, plan.name
    return plan, plan.name


def change_report(
    before: Plan | ApprovedPlan,
    after: Plan | ApprovedPlan,
    dataset: Dataset,
    *,
    measures: Iterable[str] | None = None,
) -> ChangeReport:
    """Compare two plans over ``dataset``'s units and accounts.

    Parameters
    ----------
    before, after : Plan or ApprovedPlan
        The plans (same units).
    dataset : Dataset
        Units with measures, accounts (with ``unit_id``, ``owner_rep_id``) and reps.
    measures : iterable of str, optional
        Unit measures to report (default: every additive measure of the data set).

    Raises
    ------
    PlanError
        When the plans cover other units than the data set, or a measure is unknown.
    """
    old_plan, before_name = _plan_of(before)
    new_plan, after_name = _plan_of(after)
    units = dataset.units.set_axis(dataset.units.index.astype(str))
    for plan, name in ((old_plan, before_name), (new_plan, after_name)):
        if not units.index.sort_values().equals(plan.units.sort_values()):
            raise PlanError(f"plan '{name}' covers other units than the data set; compare plans made on it")
    chosen = list(measures) if measures is not None else additive_measures(dataset)
    unknown = [m for m in chosen if m not in units.columns]
    if unknown:
        raise PlanError(f"unknown measure(s) {unknown}; choose from {additive_measures(dataset)}")
    diff = diff_plans(old_plan, new_plan, units[chosen])

    moved_units = diff.moved.rename_axis("unit_id").reset_index()
    if "name" in units:
        moved_units.insert(1, "name", units["name"].reindex(moved_units["unit_id"]).astype(str).to_numpy())
    keys = ["from_territory", "to_territory"]
    if len(moved_units):
        grouped = moved_units.groupby(keys)
        flows = grouped[chosen].sum().round(MEASURE_DECIMALS)
        flows.insert(0, "units", grouped.size())
        flows = flows.reset_index()
    else:
        flows = pd.DataFrame(columns=[*keys, "units", *chosen])
    flows = flows.sort_values([chosen[0] if chosen else "units", *keys], ascending=[False, True, True])

    accounts = _owner_changes(dataset, old_plan, new_plan)
    by_territory = diff.by_territory.copy()
    for column in ["units", *chosen]:
        by_territory[f"{column}_net"] = by_territory[f"{column}_in"] - by_territory[f"{column}_out"]
    ordered = [f"{c}_{d}" for c in ["units", *chosen] for d in ("out", "in", "net")]
    by_territory = by_territory[ordered]
    by_territory["accounts_lost"] = accounts.groupby("from_territory").size()
    by_territory["accounts_gained"] = accounts.groupby("to_territory").size()
    by_territory = by_territory.fillna(0).round(MEASURE_DECIMALS)
    counts = ["units_out", "units_in", "units_net", "accounts_lost", "accounts_gained"]
    by_territory[counts] = by_territory[counts].astype("int64")
    active = by_territory.drop(columns=[c for c in by_territory if c.endswith("_net")]).abs().sum(axis=1) > 0
    by_territory = by_territory[active]

    totals = {"units": float(len(units))} | {m: float(units[m].sum()) for m in chosen}
    moved = {"units": float(diff.n_units_moved)} | {m: float(diff.moved[m].sum()) for m in chosen}
    totals["accounts_owner_changed"] = float(len(dataset.accounts))
    moved["accounts_owner_changed"] = float(len(accounts))
    summary = pd.DataFrame({"total": totals, "moved": moved}).rename_axis("measure")
    summary["moved_pct"] = 100 * summary["moved"] / summary["total"].where(summary["total"] != 0)
    summary["moved_pct"] = summary["moved_pct"].fillna(0.0)
    return ChangeReport(
        before_name=before_name,
        after_name=after_name,
        summary=summary,
        accounts=accounts,
        units=moved_units.reset_index(drop=True),
        flows=flows.reset_index(drop=True),
        territories=by_territory,
    )


def _owner_changes(dataset: Dataset, old_plan: Plan, new_plan: Plan) -> pd.DataFrame:
    """Accounts whose owner differs between the plans (see :func:`~planner.exports.crm.assign_owners`)."""
    accounts = dataset.accounts
    columns = [
        "account_id",
        "account_name",
        "unit_id",
        "from_territory",
        "to_territory",
        "old_owner_rep_id",
        "old_owner_name",
        "new_owner_rep_id",
        "new_owner_name",
    ]
    if not len(accounts):
        return pd.DataFrame(columns=columns)
    old_owner = assign_owners(accounts, old_plan)
    new_owner = assign_owners(accounts, new_plan, old_owner)
    names = dataset.reps["name"].astype(str).to_dict() if "name" in dataset.reps else {}
    table = pd.DataFrame(
        {
            "account_id": accounts.index.astype(str),
            "account_name": accounts["name"].astype(str).to_numpy() if "name" in accounts else "",
            "unit_id": accounts["unit_id"].astype(str).to_numpy(),
            "from_territory": account_territories(accounts, old_plan).to_numpy(),
            "to_territory": account_territories(accounts, new_plan).to_numpy(),
            "old_owner_rep_id": old_owner.to_numpy(),
            "old_owner_name": old_owner.map(lambda r: names.get(r, "")).to_numpy(),
            "new_owner_rep_id": new_owner.to_numpy(),
            "new_owner_name": new_owner.map(lambda r: names.get(r, "")).to_numpy(),
        }
    )
    changed = table["old_owner_rep_id"] != table["new_owner_rep_id"]
    return table[changed].sort_values("account_id").reset_index(drop=True)[columns]


def _cell(value: object) -> str:
    """A number with thousands separators (2 decimals below 100 unless whole), else the text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = abs(value) >= 100 or float(value).is_integer()
        return f"{value:,.0f}" if whole else f"{value:,.2f}"
    return str(value)


def _sections(report: ChangeReport) -> tuple[str, str, list[tuple[str, pd.DataFrame]]]:
    """Title, headline and (heading, table) sections shared by the markdown and HTML summaries."""
    summary = report.summary
    units, owner = summary.loc["units"], summary.loc["accounts_owner_changed"]
    title = f"Realignment: {report.before_name} to {report.after_name}"
    if units["moved"] == 0 and owner["moved"] == 0:
        return title, "No unit changes territory and no account changes owner.", []
    headline = (
        f"{units['moved']:,.0f} of {units['total']:,.0f} units ({units['moved_pct']:.1f}%) change territory"
    )
    if "tam_usd" in summary.index:
        headline += f", carrying {summary.loc['tam_usd', 'moved_pct']:.1f}% of TAM"
    headline += (
        f"; {owner['moved']:,.0f} of {owner['total']:,.0f} accounts ({owner['moved_pct']:.1f}%) change owner."
    )
    sections = [("What moves", summary.reset_index().rename(columns={"moved_pct": "moved (%)"}))]
    if len(report.flows):
        heading = f"Largest flows (top {min(TOP_FLOWS, len(report.flows))} of {len(report.flows)})"
        sections.append((heading, report.flows.head(TOP_FLOWS)))
    if len(report.territories):
        net_columns = [c for c in report.territories.columns if c.endswith("_net")]
        sections.append(("Net change per territory", report.territories[net_columns].reset_index()))
    if len(report.accounts):
        heading = f"Accounts changing owner ({len(report.accounts):,}; full list in change_accounts.csv)"
        columns = ["account_id", "account_name", "old_owner_name", "new_owner_name", "to_territory"]
        sections.append((heading, report.accounts[columns].head(TOP_FLOWS)))
    return title, headline, sections


def _markdown_table(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _markdown(report: ChangeReport) -> str:
    title, headline, sections = _sections(report)
    lines = [f"# {title}", "", headline, ""]
    for heading, frame in sections:
        lines += [f"## {heading}", "", _markdown_table(frame), ""]
    return "\n".join(lines)


def _html(report: ChangeReport) -> str:
    title, headline, sections = _sections(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #ccc;padding:.25em .6em}td{text-align:right}</style>",
        "</head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(headline)}</p>",
    ]
    for heading, frame in sections:
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append(frame.map(_cell).to_html(index=False, border=0, escape=True))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_change_report(
    report: ChangeReport, directory: str | Path, formats: Iterable[str] = tuple(REPORT_FILES)
) -> list[Path]:
    """Write the report as CSV tables, one workbook and/or markdown (see :data:`REPORT_FILES`), atomically."""
    chosen = [str(f).lower() for f in formats]
    unknown = sorted(set(chosen) - set(REPORT_FILES))
    if unknown or not chosen:
        raise PlanError(
            f"unknown report format(s) {unknown or chosen}; choose from {', '.join(REPORT_FILES)}"
        )
    out = Path(directory)
    tables = {
        "summary": report.summary.reset_index(),
        "accounts": report.accounts,
        "units": report.units,
        "flows": report.flows,
        "territories": report.territories.reset_index(),
    }
    with StagedFiles() as staged:
        if "csv" in chosen:
            for name in ("accounts", "units", "flows", "territories"):
                write_csv(tables[name], staged.path(out / f"change_{name}.csv"))
        if "xlsx" in chosen:
            with pd.ExcelWriter(staged.path(out / "change_report.xlsx"), engine="openpyxl") as writer:
                for name, frame in tables.items():
                    frame.to_excel(writer, sheet_name=name.capitalize(), index=False)
        if "md" in chosen:
            staged.path(out / "change_report.md").write_text(report.to_markdown(), encoding="utf-8")
        if "html" in chosen:
            staged.path(out / "change_report.html").write_text(report.to_html(), encoding="utf-8")
        return staged.commit()
