"""``planner adjust``: manual comp adjustments in the plan store (ask, decide, list).

An adjustment is an amount paid as is or a credit that counts like a deal, for one rep
and month, with a reason; someone other than the one who asked approves it, and
``planner comp --db`` pays the approved ones. Every step goes to the audit log.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from planner.cli.common import DbOption, UserOption, acting, console, fail, open_store
from planner.errors import PlannerError
from planner.money import format_usd, usd_to_cents
from planner.store.migrate import DEFAULT_DB_URL

adjust_app = typer.Typer(
    help="Manual comp adjustments: ask for one with a reason, approve or reject it, list them.",
    no_args_is_help=True,
)


def _cents(text: str, option: str) -> int:
    try:
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise PlannerError(
            f"{option} is {text!r}, not an amount in USD; write e.g. 250.00 or -99.50"
        ) from None
    return usd_to_cents(value)


@adjust_app.command()
def request(
    rep_id: str,
    month: Annotated[str, typer.Argument(help="Month the adjustment is paid in, YYYY-MM.")],
    reason: Annotated[str, typer.Option(help="Why (shown on the statement and kept in the audit log).")],
    amount: Annotated[
        str | None, typer.Option(help="An amount paid as is, USD (negative to take back).")
    ] = None,
    credit: Annotated[
        str | None, typer.Option(help="Credit that counts toward the rep's components like a deal, USD.")
    ] = None,
    db: DbOption = DEFAULT_DB_URL,
    user: UserOption = "",
) -> None:
    """Ask for an adjustment of a rep's comp (managers: reps of their own team)."""
    try:
        if (amount is None) == (credit is None):
            raise PlannerError("give either --amount (paid as is) or --credit (counts like a deal)")
        kind, text = ("amount", amount) if amount is not None else ("credit", credit)
        cents = _cents(text, f"--{kind}")
        store = open_store(db)
        number = store.request_adjustment(acting(store, user), rep_id, month, kind, cents, reason)
    except PlannerError as exc:
        raise fail(exc) from exc
    console.print(
        f"adjustment #{number} asked for: {kind} {format_usd(cents)} for {rep_id} in {month} (pending)"
    )


@adjust_app.command()
def decide(
    adjustment_id: int,
    comment: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    approve: Annotated[bool, typer.Option("--approve/--reject", help="Approve or reject it.")] = True,
    db: DbOption = DEFAULT_DB_URL,
    user: UserOption = "",
) -> None:
    """Approve or reject a pending adjustment (approvers and admins; not the one who asked)."""
    try:
        store = open_store(db)
        store.decide_adjustment(acting(store, user), adjustment_id, approve=approve, comment=comment)
    except PlannerError as exc:
        raise fail(exc) from exc
    console.print(f"adjustment #{adjustment_id} {'approved' if approve else 'rejected'}")


@adjust_app.command("list")
def list_adjustments(
    status: Annotated[str | None, typer.Option(help="pending, approved or rejected (default: all).")] = None,
    db: DbOption = DEFAULT_DB_URL,
) -> None:
    """List adjustments, oldest first."""
    table = Table("#", "rep", "month", "kind", "amount", "status", "asked by", "decided by", "reason")
    for number, row in open_store(db).adjustments(status).iterrows():
        table.add_row(
            str(number),
            row["rep_id"],
            row["month"],
            row["kind"],
            format_usd(row["amount_cents"]),
            row["status"],
            row["requested_by"],
            row["decided_by"] or "",
            row["reason"],
        )
    console.print(table)
