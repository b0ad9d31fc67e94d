"""The deals table and optional split-credit rows: columns, checks with row/column errors, reading.

Deals (one row per deal):

- ``deal_id`` (text, unique); ``account_id`` (text, an account of the data set);
- ``close_date`` (date); ``amount_cents`` (whole cents, >= 0) or ``amount_usd`` (dollars,
  converted to cents exactly with :class:`decimal.Decimal`, half up);
- ``status``: ``won`` or ``cancelled``; ``cancel_date`` (date, required when cancelled, not
  before ``close_date``);
- ``line`` (optional): the bookings line the deal counts toward (e.g. ``new_business``),
  for comp components that measure one quota line;
- ``hold_until`` (optional date): the deal is on hold; what it earns is paid in the month
  of this date, not before (blank: no hold).

Splits (optional, one row per deal and rep): ``deal_id``, ``rep_id``, ``share`` (a fraction
0-1, at most 6 decimals); the shares of a deal must sum to exactly 1. A split deal is
credited to those reps instead of its territory's.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from planner.errors import InputError, Problem

DEAL_COLUMNS = ("deal_id", "account_id", "close_date", "amount_cents", "status", "cancel_date")
SPLIT_COLUMNS = ("deal_id", "rep_id", "share")
OPTIONAL_COLUMNS = ("line", "hold_until")
STATUSES = ("won", "cancelled")
SHARE_DECIMALS = 6
SHARE_SCALE = 10**SHARE_DECIMALS
MAX_AMOUNT_CENTS = 10**12  # 10 billion USD: keeps every cents x rate product inside int64


def _row(position: int) -> int:
    return position + 2  # spreadsheet row: the header is row 1


def _require(table: pd.DataFrame, columns: tuple[str, ...], file: str) -> None:
    """Raise InputError naming every one of ``columns`` the table lacks."""
    missing = [c for c in columns if c not in table]
    if missing:
        raise InputError(
            [
                Problem(file, f"missing column '{c}'", f"add a '{c}' column (see docs/comp.md)", column=c)
                for c in missing
            ]
        )


def _cents_from_usd(values: pd.Series, file: str, problems: list[Problem]) -> pd.Series:
    cents = []
    for position, value in enumerate(values.astype(str)):
        try:
            number = Decimal(value.strip().replace(",", ""))
            if not number.is_finite() or number < 0:
                raise InvalidOperation
            cents.append(int((number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        except InvalidOperation:
            problems.append(
                Problem(
                    file,
                    f"'{value}' is not a non-negative amount",
                    "give the amount in dollars, e.g. 1250.00",
                    row=_row(position),
                    column="amount_usd",
                )
            )
            cents.append(0)
    return pd.Series(cents, index=values.index, dtype="int64")


def _dates(
    values: pd.Series, column: str, file: str, problems: list[Problem], *, required: bool
) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    blank = values.isna() | (values.astype(str).str.strip().isin(["", "NaT", "None", "nan", "<NA>"]))
    bad = parsed.isna() & ~blank
    if required:
        bad |= blank
    for position in np.flatnonzero(bad.to_numpy()):
        problems.append(
            Problem(
                file,
                f"'{values.iloc[position]}' is not a date",
                "write dates as YYYY-MM-DD",
                row=_row(position),
                column=column,
            )
        )
    return parsed.astype("datetime64[ns]")


def check_deals(
    deals: pd.DataFrame, *, known_accounts: pd.Index | None = None, file: str = "deals"
) -> pd.DataFrame:
    """Validate a deals table; return it with clean dtypes (``amount_cents`` int64, dates datetime64).

    Raises :class:`InputError` listing every problem with its row and column.
    """
    problems: list[Problem] = []
    table = deals.reset_index(drop=True).copy()
    if "amount_cents" not in table and "amount_usd" in table:
        table["amount_cents"] = _cents_from_usd(table["amount_usd"], file, problems)
    if "cancel_date" not in table:
        table["cancel_date"] = pd.NaT
    _require(table, DEAL_COLUMNS, file)
    table = table.loc[:, [*DEAL_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in table)]]
    table["deal_id"] = table["deal_id"].astype(str)
    table["account_id"] = table["account_id"].astype(str)
    duplicated = table["deal_id"].duplicated(keep="first").to_numpy()
    for position in np.flatnonzero(duplicated)[:50]:
        problems.append(
            Problem(
                file,
                f"deal id '{table['deal_id'].iloc[position]}' appears more than once",
                "give each deal one row",
                row=_row(position),
                column="deal_id",
            )
        )
    table["amount_cents"] = _whole_cents(table["amount_cents"], file, problems)
    status = table["status"].astype(str).str.strip().str.lower()
    for position in np.flatnonzero(~status.isin(STATUSES).to_numpy())[:50]:
        problems.append(
            Problem(
                file,
                f"status '{table['status'].iloc[position]}' is not allowed",
                f"use one of: {', '.join(STATUSES)}",
                row=_row(position),
                column="status",
            )
        )
    table["status"] = status
    table["close_date"] = _dates(table["close_date"], "close_date", file, problems, required=True)
    table["cancel_date"] = _dates(table["cancel_date"], "cancel_date", file, problems, required=False)
    if "hold_until" in table:
        table["hold_until"] = _dates(table["hold_until"], "hold_until", file, problems, required=False)
    no_cancel_date = ((status == "cancelled") & table["cancel_date"].isna()).to_numpy()
    for position in np.flatnonzero(no_cancel_date)[:50]:
        problems.append(
            Problem(
                file,
                "a cancelled deal has no cancel_date",
                "give the date the deal was cancelled",
                row=_row(position),
                column="cancel_date",
            )
        )
    early = (table["cancel_date"] < table["close_date"]).to_numpy()
    for position in np.flatnonzero(early)[:50]:
        problems.append(
            Problem(
                file,
                f"cancel_date {table['cancel_date'].iloc[position]:%Y-%m-%d} is before close_date "
                f"{table['close_date'].iloc[position]:%Y-%m-%d}",
                "correct one of the two dates",
                row=_row(position),
                column="cancel_date",
            )
        )
    if known_accounts is not None:
        unknown = (~table["account_id"].isin(known_accounts)).to_numpy()
        for position in np.flatnonzero(unknown)[:50]:
            problems.append(
                Problem(
                    file,
                    f"account '{table['account_id'].iloc[position]}' is not in the accounts table",
                    "use an account_id of the data set",
                    row=_row(position),
                    column="account_id",
                )
            )
    if problems:
        raise InputError(problems)
    return table


def check_splits(
    splits: pd.DataFrame, deals: pd.DataFrame, *, known_reps: pd.Index | None = None, file: str = "splits"
) -> pd.DataFrame:
    """Validate split rows; return them with ``share_micro`` (share in millionths, int64).

    Shares must be fractions with at most 6 decimals that sum to exactly 1 per deal.
    """
    problems: list[Problem] = []
    missing = [c for c in SPLIT_COLUMNS if c not in splits]
    if missing:
        raise InputError(
            [Problem(file, f"missing column '{c}'", f"add a '{c}' column", column=c) for c in missing]
        )
    table = splits.reset_index(drop=True).loc[:, list(SPLIT_COLUMNS)].copy()
    table["deal_id"] = table["deal_id"].astype(str)
    table["rep_id"] = table["rep_id"].astype(str)
    micro = []
    for position, value in enumerate(table["share"].astype(str)):
        try:
            share = Decimal(value.strip())
            scaled = share * SHARE_SCALE
            if not share.is_finite() or share <= 0 or share > 1 or scaled != scaled.to_integral_value():
                raise InvalidOperation
            micro.append(int(scaled))
        except InvalidOperation:
            problems.append(
                Problem(
                    file,
                    f"share '{value}' is not a fraction in (0, 1] with at most {SHARE_DECIMALS} decimals",
                    "write shares like 0.5 or 0.333334",
                    row=_row(position),
                    column="share",
                )
            )
            micro.append(0)
    table["share_micro"] = np.array(micro, dtype=np.int64)
    for position in np.flatnonzero((~table["deal_id"].isin(deals["deal_id"])).to_numpy())[:50]:
        problems.append(
            Problem(
                file,
                f"deal '{table['deal_id'].iloc[position]}' is not in the deals table",
                "split only deals that exist",
                row=_row(position),
                column="deal_id",
            )
        )
    if known_reps is not None:
        for position in np.flatnonzero((~table["rep_id"].isin(known_reps)).to_numpy())[:50]:
            problems.append(
                Problem(
                    file,
                    f"rep '{table['rep_id'].iloc[position]}' is not in the reps table",
                    "use a rep_id of the data set",
                    row=_row(position),
                    column="rep_id",
                )
            )
    for position in np.flatnonzero(table.duplicated(["deal_id", "rep_id"]).to_numpy())[:50]:
        problems.append(
            Problem(
                file,
                f"rep '{table['rep_id'].iloc[position]}' is listed twice for deal "
                f"'{table['deal_id'].iloc[position]}'",
                "give one row per deal and rep",
                row=_row(position),
            )
        )
    totals = table.groupby("deal_id", sort=True)["share_micro"].sum()
    for deal_id, total in totals[totals != SHARE_SCALE].items():
        first = int(np.flatnonzero((table["deal_id"] == deal_id).to_numpy())[0])
        problems.append(
            Problem(
                file,
                f"the shares of deal '{deal_id}' sum to {Decimal(int(total)) / SHARE_SCALE}, not 1",
                "make the shares of each deal add up to exactly 1",
                row=_row(first),
                column="share",
            )
        )
    if problems:
        raise InputError(problems)
    return table


def check_invoices(invoices: pd.DataFrame, deals: pd.DataFrame, *, file: str = "invoices") -> pd.DataFrame:
    """Validate payments received (``deal_id``, ``paid_date``, ``amount_cents`` or ``amount_usd``).

    Every payment names a deal of ``deals``; the payments of a deal sum to at most its amount.
    Returns ``deal_id``, ``paid_date``, ``amount_cents``; raises :class:`InputError` listing every problem.
    """
    return _deal_amounts(invoices, deals, file, "paid_date", "payments", "a deal is paid at most its amount")


def check_credit_notes(
    notes: pd.DataFrame, deals: pd.DataFrame, *, file: str = "credit notes"
) -> pd.DataFrame:
    """Validate credit notes and returns (``deal_id``, ``issued_date``, ``amount_cents`` or ``amount_usd``).

    ``amount`` is what is credited back (positive). Every note names a deal of ``deals``;
    the notes of a deal sum to at most its amount, and none is issued before the deal closed.
    Returns ``deal_id``, ``issued_date``, ``amount_cents``; raises :class:`InputError`.
    """
    table = _deal_amounts(
        notes, deals, file, "issued_date", "credit notes", "a deal is returned at most whole"
    )
    close = deals.set_index(deals["deal_id"].astype(str))["close_date"]
    early = (table["issued_date"] < close.reindex(table["deal_id"]).to_numpy()).to_numpy()
    problems = [
        Problem(
            file,
            f"the credit note of deal '{table['deal_id'].iloc[position]}' is issued "
            f"{table['issued_date'].iloc[position]:%Y-%m-%d}, before the deal closed",
            "correct the issue date or the deal",
            row=_row(position),
            column="issued_date",
        )
        for position in np.flatnonzero(early)[:50]
    ]
    if problems:
        raise InputError(problems)
    return table


def _deal_amounts(
    frame: pd.DataFrame, deals: pd.DataFrame, file: str, date_column: str, noun: str, limit: str
) -> pd.DataFrame:
    """Rows of (deal, date, amount) checked: known deals, dates, whole cents, at most each deal's amount."""
    problems: list[Problem] = []
    table = frame.reset_index(drop=True).copy()
    if "amount_cents" not in table and "amount_usd" in table:
        table["amount_cents"] = _cents_from_usd(table["amount_usd"], file, problems)
    _require(table, ("deal_id", date_column, "amount_cents"), file)
    table = table.loc[:, ["deal_id", date_column, "amount_cents"]]
    table["deal_id"] = table["deal_id"].astype(str)
    table["amount_cents"] = _whole_cents(table["amount_cents"], file, problems)
    table[date_column] = _dates(table[date_column], date_column, file, problems, required=True)
    amount = deals.set_index(deals["deal_id"].astype(str))["amount_cents"]
    known = table["deal_id"].isin(amount.index).to_numpy()
    for position in np.flatnonzero(~known)[:50]:
        problems.append(
            Problem(
                file,
                f"deal '{table['deal_id'].iloc[position]}' is not in the deals table",
                f"list {noun} of deals that exist",
                row=_row(position),
                column="deal_id",
            )
        )
    total = table.loc[known].groupby("deal_id", sort=True)["amount_cents"].sum()
    for deal_id, cents in total[total > amount.reindex(total.index)].items():
        first = int(np.flatnonzero((table["deal_id"] == deal_id).to_numpy())[0])
        problems.append(
            Problem(
                file,
                f"the {noun} of deal '{deal_id}' sum to {cents / 100:,.2f} USD, more than the deal's "
                f"{amount[deal_id] / 100:,.2f} USD",
                f"correct the {noun}: {limit}",
                row=_row(first),
                column="amount_cents",
            )
        )
    if problems:
        raise InputError(problems)
    return table


def _whole_cents(values: pd.Series, file: str, problems: list[Problem]) -> pd.Series:
    """``amount_cents`` as int64; a problem per value that is not whole cents in range (0 instead)."""
    cents = pd.to_numeric(values, errors="coerce")
    bad = (cents.isna() | (cents < 0) | (cents != cents.round()) | (cents > MAX_AMOUNT_CENTS)).to_numpy()
    for position in np.flatnonzero(bad)[:50]:
        problems.append(
            Problem(
                file,
                f"amount '{values.iloc[position]}' is not a whole number of cents "
                f"between 0 and {MAX_AMOUNT_CENTS:,}",
                "give amount_cents as an integer (or amount_usd in dollars)",
                row=_row(position),
                column="amount_cents",
            )
        )
    return cents.fillna(0).astype("int64")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table as text columns (CSV) so the checks see what the file says."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pq.read_table(path).to_pandas(date_as_object=False)  # dates as datetimes: fast checks
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(
            [Problem(path.name, f"cannot read the file ({exc})", "give a CSV or Parquet file")]
        ) from exc
