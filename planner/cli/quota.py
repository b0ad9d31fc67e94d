"""``planner quota``: allocate quotas, propose and decide adjustments, move versions through approval.

Every command works on the plan store named by ``--db`` (default: the ``TERRAIN_DB_URL``
environment variable, else an SQLite file ``.terrain/terrain.db``). On PostgreSQL it acts as
the plan-store user mapped to the database login; on a local SQLite file as the user given by
``--user`` (default ``TERRAIN_USER``). Roles are checked in the core.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from planner.cli.common import DbOption, UserOption, acting, console, fail, open_store
from planner.data.dataset import load_dataset
from planner.errors import ConflictError, PlannerError
from planner.exports.inputs import read_quota_file
from planner.money import format_usd, usd_to_cents
from planner.plans.files import read_plan
from planner.plans.quota_lines import QuotaLine
from planner.quota.allocation import QuotaOptions
from planner.quota.hierarchy import territory_regions
from planner.quota.line_file import LineSpec, read_lines_file
from planner.quota.versions import QuotaRequest, read_relief_file
from planner.store import PlanStore, Role
from planner.store.demo import seed_demo_store
from planner.store.drafts import save_draft, version_fairness, version_hierarchy
from planner.store.migrate import DEFAULT_DB_URL
from planner.store.records import PlanVersion, VersionLine
from planner.store.workflow import ACTIONS

quota_app = typer.Typer(
    help="Quotas: allocate a target, propose and decide adjustments, approve and publish plan versions.",
    no_args_is_help=True,
)


def _fail(exc: PlannerError) -> typer.Exit:
    return fail(exc, code=3 if isinstance(exc, ConflictError) else 1)


def _text(value: object) -> str:
    """A table cell: empty for None/NaN."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _cents(usd: float, option: str, *, positive: bool) -> int:
    """Whole cents of a dollar amount typed for ``option``; a clear error, in dollars, when unusable."""
    if not math.isfinite(usd) or usd < 0 or (positive and usd == 0):
        need = "a positive amount" if positive else "0 or more"
        raise PlannerError(f"{option} is {usd:g} (USD); give {need} in dollars, e.g. 731000000")
    return usd_to_cents(usd)


def _print_version(store: PlanStore, version_id: int, line: str | None = None) -> None:
    version = store.version(version_id)
    info = version.info
    console.print(
        f"v{info.version_id} [bold]{info.name}[/] - {info.status.value}, revision {info.revision}; "
        f"quota lines: {', '.join(version.lines)}"
    )
    for stored in [version.line(line)] if line else version.lines.values():
        _print_line(version, stored)


def _print_line(version: PlanVersion, stored: VersionLine) -> None:
    amount = stored.line.format
    console.print(
        f"[bold]{stored.name}[/] ({stored.line.unit}, potential {stored.line.potential}, "
        f"bookings {stored.line.source_of()}): target {amount(stored.target_cents)}, "
        f"quotas total {amount(stored.total_cents)}"
    )
    table = Table("territory", "reps", "potential", "forecast", "last quota", "quota", "quota / forecast")
    potential = format_usd if stored.line.potential.endswith("_usd") else (lambda c: f"{c / 100:,.0f}")
    for territory_id, row in stored.territories.iterrows():
        reps = ", ".join(version.plan.reps_of(territory_id)) or "vacant"
        last = "" if pd.isna(row["last_quota_cents"]) else amount(int(row["last_quota_cents"]))
        ratio = row["annual_quota_cents"] / row["forecast_cents"] if row["forecast_cents"] else float("nan")
        table.add_row(
            territory_id,
            reps,
            potential(int(row["potential_cents"])),
            amount(int(row["forecast_cents"])),
            last,
            amount(int(row["annual_quota_cents"])),
            f"{ratio:.2f}",
        )
    console.print(table)
    fairness = version_fairness(version, stored.name)
    for check in fairness.verdict:
        mark = "[green]ok[/]" if check.met else "[yellow]outside[/]"
        console.print(f"  {mark} {check.name}: {check.value:.4g} (healthy {check.healthy})")
    basis = stored.allocation_basis
    if basis:
        console.print(
            f"  total chosen: {amount(basis['chosen_total_cents'])} at basis {basis['basis_frac']:g} "
            f"(0 = target total {amount(basis['target_total_cents'])}, 1 = "
            f"{amount(basis['implied_total_cents'])} for {basis['goal_frac']:.0%} at or above quota); "
            f"expected at or above: {basis['share_at_chosen_frac']:.1%}"
        )


@quota_app.command("seed-demo")
def seed_demo(db: DbOption = DEFAULT_DB_URL) -> None:
    """Fill an empty store with the demo users, the published FY2026 plan and the FY2027 draft."""
    from planner.data.demo import load_demo

    store = open_store(db)
    seed_demo_store(store, load_demo())
    for info in store.versions():
        console.print(f"v{info.version_id} {info.name}: {info.status.value}")


@quota_app.command("add-user")
def add_user(
    user_id: str,
    name: str,
    role: Annotated[Role, typer.Option(help="admin, manager, approver or viewer.")],
    rep_id: Annotated[
        str | None, typer.Option(help="For managers: the rep id their team reports to.")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="The email their identity provider signs them in with (the app).")
    ] = None,
    db_login: Annotated[
        str | None, typer.Option(help="Their PostgreSQL login, for the command line on a shared database.")
    ] = None,
    db: DbOption = DEFAULT_DB_URL,
    user: Annotated[str | None, typer.Option("--user", envvar="TERRAIN_USER")] = None,
) -> None:
    """Add a user (the first user of an empty store must be an admin and needs no --user)."""
    try:
        store = open_store(db)
        store.add_user(acting(store, user), user_id, name, role, rep_id, email=email, db_login=db_login)
    except PlannerError as exc:
        raise _fail(exc) from exc
    console.print(f"added {user_id} ({role.value})")


@quota_app.command()
def allocate(
    data: Annotated[Path, typer.Argument(help="Data set directory (units, reps, bookings, alignment...).")],
    fiscal_year_start: Annotated[str, typer.Option(help="First month of the fiscal year, YYYY-MM.")],
    name: Annotated[str, typer.Option(help="Name of the new draft version.")],
    target_usd: Annotated[
        float | None, typer.Option("--target", help="Company target for the year, USD (one line).")
    ] = None,
    lines_file: Annotated[
        Path | None,
        typer.Option(
            "--lines",
            help="CSV of quota lines (line, target, unit, potential, source, growth, guardrail, "
            "attainment_goal, basis, frequency), instead of --target: one line per row.",
        ),
    ] = None,
    plan_dir: Annotated[
        Path | None,
        typer.Option("--plan", help="Plan directory from `planner optimize` (default: current plan)."),
    ] = None,
    potential_weight: Annotated[
        float, typer.Option(help="Weight of TAM share; forecast gets the rest.")
    ] = 0.5,
    over_assignment: Annotated[float, typer.Option(help="Quotas sum to target x (1 + this).")] = 0.0,
    guardrail: Annotated[float | None, typer.Option(help="Max change vs last quota (0.25 = 25%).")] = 0.25,
    frequency: Annotated[str, typer.Option(help="Phasing: month or quarter.")] = "month",
    forecast: Annotated[
        str, typer.Option(help="model (the bookings forecaster) or growth (trailing 12 months + --growth).")
    ] = "model",
    forecast_frequency: Annotated[
        str, typer.Option(help="Period the forecaster learns from: month, quarter or week.")
    ] = "month",
    attainment_goal: Annotated[
        float, typer.Option(help="Share of territories finance wants expected at or above quota (0-1).")
    ] = 0.65,
    basis: Annotated[
        float,
        typer.Option(help="Quota total: 0 meets the target, 1 meets the attainment goal, or between."),
    ] = 0.0,
    forecast_cv: Annotated[
        float, typer.Option(help="Uncertainty of each territory's bookings around its forecast (CV).")
    ] = 0.2,
    growth: Annotated[float, typer.Option(help="Growth on trailing bookings when --forecast growth.")] = 0.10,
    last_quotas: Annotated[
        Path | None,
        typer.Option(
            help="Last year's quotas, a quotas CSV as `planner export` writes it (territory_id, [line,] "
            "period, quota_usd or quota_cents); summed per territory and line for the guardrail."
        ),
    ] = None,
    relief: Annotated[
        Path | None,
        typer.Option(help="CSV territory_id,start,end of uncovered periods (leave, mid-year change)."),
    ] = None,
    db: DbOption = DEFAULT_DB_URL,
    user: UserOption = "",
) -> None:
    """Allocate a target (or one per quota line) to the plan's territories, phase it, save a draft version."""
    try:
        if (target_usd is None) == (lines_file is None):
            raise PlannerError("give either --target (one quota line, USD) or --lines (a quota lines CSV)")
        specs = (
            [LineSpec(QuotaLine(), _cents(target_usd, "--target", positive=True))]
            if lines_file is None
            else read_lines_file(lines_file)
        )
        dataset = load_dataset(data)
        plan = read_plan(plan_dir, dataset.units.index) if plan_dir else dataset.plan
        plan = plan if len(plan.territory_reps) else dataset.plan.with_assignment(plan.assignment)
        last = None if last_quotas is None else read_quota_file(last_quotas, None)
        defaults = {
            "growth": growth,
            "guardrail": guardrail,
            "attainment_goal": attainment_goal,
            "basis": basis,
            "frequency": frequency,
        }
        requests = []
        for spec in specs:
            chosen = {**defaults, **spec.options}
            requests.append(
                QuotaRequest(
                    target_cents=spec.target_cents,
                    fiscal_year_start=fiscal_year_start,
                    options=QuotaOptions(
                        potential_weight_frac=potential_weight,
                        forecast_weight_frac=1 - potential_weight,
                        over_assignment_frac=over_assignment,
                        guardrail_frac=chosen["guardrail"],
                    ),
                    frequency=chosen["frequency"],  # type: ignore[arg-type]
                    growth_frac=chosen["growth"],
                    forecast_method=forecast,  # type: ignore[arg-type]
                    forecast_frequency=forecast_frequency,  # type: ignore[arg-type]
                    attainment_goal_frac=chosen["attainment_goal"],
                    basis_frac=chosen["basis"],
                    forecast_cv_frac=forecast_cv,
                    last_quota_cents=_last_quota(last, spec.line.name, len(specs)),
                    relief=None if relief is None else read_relief_file(relief, plan),
                    line=spec.line,
                )
            )
        store = open_store(db)
        info, drafts = save_draft(store, acting(store, user), dataset, plan, requests, name=name)
    except PlannerError as exc:
        raise _fail(exc) from exc
    for draft in drafts:
        prefix = f"{draft.line.name}: " if len(drafts) > 1 else ""
        for note in (*draft.allocation.notes, draft.attainment.describe(draft.line.format)):
            console.print(f"note: {prefix}{note}", soft_wrap=True)
    _print_version(store, info.version_id)


def _last_quota(last: pd.DataFrame | None, line: str, lines: int) -> pd.Series | None:
    """Last year's annual quota per territory for one line (a file without ``line`` serves one line)."""
    if last is None:
        return None
    if "line" not in last.columns:
        if lines > 1:
            raise PlannerError(
                "--last-quotas has no line column, but the version has several quota lines; add a "
                "line column naming each row's line"
            )
        return last.groupby("territory_id")["quota_cents"].sum()
    rows = last.loc[last["line"] == line]
    return rows.groupby("territory_id")["quota_cents"].sum() if len(rows) else None


@quota_app.command()
def versions(db: DbOption = DEFAULT_DB_URL) -> None:
    """List plan versions, newest first."""
    table = Table("version", "name", "status", "revision", "effective from", "target", "approved by")
    for info in open_store(db).versions():
        table.add_row(
            str(info.version_id),
            info.name,
            info.status.value,
            str(info.revision),
            str(info.effective_from),
            format_usd(info.target_cents),
            info.approved_by or "",
        )
    console.print(table)


@quota_app.command()
def show(
    version_id: int,
    line: Annotated[str | None, typer.Option(help="Show one quota line only.")] = None,
    db: DbOption = DEFAULT_DB_URL,
) -> None:
    """Show a version's quotas per territory and line, and each line's fairness report."""
    try:
        _print_version(open_store(db), version_id, line)
    except PlannerError as exc:
        raise _fail(exc) from exc


@quota_app.command()
def tree(
    version_id: int,
    data: Annotated[
        Path | None, typer.Option(help="Data set whose units' region column places managers in regions.")
    ] = None,
    manager_over: Annotated[
        float, typer.Option(help="Over-assignment of each manager's quota (0.05 = 5%).")
    ] = 0.0,
    region_over: Annotated[float, typer.Option(help="Over-assignment of each region's quota.")] = 0.0,
    line: Annotated[
        str | None, typer.Option(help="Quota line (needed when the version has several).")
    ] = None,
    db: DbOption = DEFAULT_DB_URL,
) -> None:
    """Show a version's quotas rolled up: company, regions, managers, territories, with fairness per node."""
    try:
        version = open_store(db).version(version_id)
        regions = None
        if data is not None:
            regions = territory_regions(load_dataset(data).units, version.plan.assignment)
        rolled = version_hierarchy(
            version,
            regions,
            line=line,
            over_assignment_frac={"manager": manager_over, "region": region_over},
        )
        amount = version.line(line).line.format
    except PlannerError as exc:
        raise _fail(exc) from exc
    depth = {"company": 0, "region": 1, "manager": 2, "territory": 3}
    table = Table("node", "territories", "quota", "potential", "Gini(q/p)", "Spearman(att, p)", "at or above")
    for _, node in rolled.iterrows():
        table.add_row(
            "  " * depth[node["level"]] + f"{node['node_id']} ({node['level']})",
            str(node["territories"]),
            amount(int(node["quota_cents"])),
            f"{node['potential_usd']:,.0f}",
            f"{node['quota_per_potential_gini']:.4f}" if node["territories"] > 1 else "",
            f"{node['attainment_size_spearman']:+.3f}" if node["territories"] > 1 else "",
            f"{node['at_or_above_quota_frac']:.0%}",
        )
    console.print(table)


@quota_app.command()
def propose(
    version_id: int,
    territory_id: str,
    quota: Annotated[str, typer.Argument(help="Proposed annual quota, in the line's unit (USD or count).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    line: Annotated[
        str | None, typer.Option(help="Quota line (needed when the version has several).")
    ] = None,
    supersede: Annotated[
        bool, typer.Option("--supersede", help="Replace the territory's pending proposal (audited).")
    ] = False,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Confirm an unusual amount (zero, > 3x the current quota, > potential; audited).",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB_URL,
    user: UserOption = "",
) -> None:
    """Propose a new annual quota for a territory's line (managers: own team; one pending per line)."""
    try:
        store = open_store(db)
        quota_line = store.quota_line(version_id, line)
        cents = quota_line.parse(quota)
        proposal = store.propose(
            acting(store, user),
            version_id,
            territory_id,
            cents,
            line=quota_line.name,
            reason=reason,
            supersede=supersede,
            confirm=confirm,
        )
    except PlannerError as exc:
        raise _fail(exc) from exc
    console.print(
        f"proposal #{proposal} submitted for {territory_id} ({quota_line.name}): {quota_line.format(cents)}"
    )


@quota_app.command()
def copy(
    version_id: int,
    name: Annotated[str, typer.Option(help="Name of the new draft.")],
    db: DbOption = DEFAULT_DB_URL,
    user: UserOption = "",
) -> None:
    """Start a new draft from a copy of a version (the way to change an approved or published plan)."""
    try:
        store = open_store(db)
        info = store.copy_version(acting(store, user), version_id, name=name)
    except PlannerError as exc:
        raise _fail(exc) from exc
    console.print(f"v{info.version_id} {info.name}: {info.status.value} (a copy of v{version_id})")


@quota_app.command()
def decide(
    proposal_id: int,
    accept: Annotated[bool, typer.Option("--accept/--reject", help="Accept or reject the proposal.")],
    comment: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    db: DbOption = DEFAULT_DB_URL,
    user: UserOption = "",
) -> None:
    """Accept or reject a pending proposal (approvers and admins)."""
    try:
        store = open_store(db)
        info = store.decide(acting(store, user), proposal_id, accept=accept, comment=comment)
    except PlannerError as exc:
        raise _fail(exc) from exc
    decision = "accepted" if accept else "rejected"
    console.print(f"proposal #{proposal_id} {decision}; v{info.version_id} is at revision {info.revision}")


@quota_app.command()
def proposals(
    version_id: Annotated[int | None, typer.Argument()] = None,
    status: Annotated[str | None, typer.Option(help="pending, accepted, rejected or withdrawn.")] = None,
    db: DbOption = DEFAULT_DB_URL,
) -> None:
    """List proposals (of one version, one status)."""
    frame = open_store(db).proposals(version_id, status)
    table = Table(
        "#", "version", "territory", "line", "by", "from", "to", "reason", "status", "decided by", "comment"
    )
    for proposal_id, row in frame.iterrows():
        table.add_row(
            str(proposal_id),
            str(row["version_id"]),
            row["territory_id"],
            row["line"],
            row["proposed_by"],
            QuotaLine(row["line"], row["unit"]).format(int(row["base_quota_cents"])),
            QuotaLine(row["line"], row["unit"]).format(int(row["proposed_quota_cents"])),
            row["reason"],
            row["status"],
            _text(row["decided_by"]),
            _text(row["comment"]),
        )
    console.print(table)


@quota_app.command()
def log(version_id: Annotated[int | None, typer.Argument()] = None, db: DbOption = DEFAULT_DB_URL) -> None:
    """Print the audit log (who, when, what, before, after, reason)."""
    table = Table("at (UTC)", "user", "action", "version", "territory", "line", "before", "after", "reason")
    for _, row in open_store(db).audit_log(version_id).iterrows():
        table.add_row(
            f"{row['at']:%Y-%m-%d %H:%M:%S}",
            row["user_id"],
            row["action"],
            _text(row["version_id"] if pd.isna(row["version_id"]) else int(row["version_id"])),
            _text(row["territory_id"]),
            _text(row["line"]),
            _text(row["before"]),
            _text(row["after"]),
            _text(row["reason"]),
        )
    console.print(table)


def _transition_command(action: str):
    def command(
        version_id: int,
        comment: Annotated[str, typer.Option(help="Optional comment for the audit log.")] = "",
        db: DbOption = DEFAULT_DB_URL,
        user: UserOption = "",
    ) -> None:
        try:
            store = open_store(db)
            info = store.transition(acting(store, user), version_id, action, comment=comment)
        except PlannerError as exc:
            raise _fail(exc) from exc
        console.print(f"v{info.version_id} {info.name}: {info.status.value}")

    command.__doc__ = f"Workflow: {action} a plan version (see planner.store.workflow)."
    return command


for _action in ACTIONS:
    quota_app.command(_action)(_transition_command(_action))
