"""Deals on disk for the out-of-core run: read with DuckDB, checked by the in-memory rules.

The same rules as :func:`planner.comp.deals.check_deals` (unique ``deal_id``, known
accounts, whole non-negative cents, ``won``/``cancelled``, dates, a cancel date not before
the close date), run as one scan of the file; every problem names its row (as a
spreadsheet counts them: the header is row 1) and column. The checked deals are the view
``deals`` of the connection, with clean types.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from planner.comp.deals import MAX_AMOUNT_CENTS, STATUSES, check_credit_notes, check_invoices, check_splits
from planner.errors import InputError, Problem

MAX_PROBLEMS = 50  #: problems listed per rule, as the in-memory checks do
REQUIRED = ("deal_id", "account_id", "close_date", "status")


def _source(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """A relation reading ``path`` with each row's position in the file (a CSV is loaded as text first)."""
    quoted = str(path).replace("'", "''")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet('{quoted}', file_row_number = true)"
    if suffix != ".csv":
        raise InputError(
            [Problem(path.name, "is neither a .parquet nor a .csv file", "give deals as Parquet or CSV")]
        )
    try:  # a table keeps the file's order in its rowid
        con.execute(
            f"CREATE OR REPLACE TABLE csv_deals AS SELECT * FROM read_csv('{quoted}', all_varchar = true)"
        )
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise InputError(
            [Problem(path.name, f"cannot read the file ({message})", "give a CSV file with a header")]
        ) from None
    return "(SELECT rowid AS file_row_number, * FROM csv_deals)"


def _columns(con: duckdb.DuckDBPyConnection, source: str, file: str) -> set[str]:
    try:
        return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise InputError(
            [Problem(file, f"cannot read the file ({message})", "give a Parquet or CSV file")]
        ) from None


def _amount_sql(columns: set[str]) -> str:
    if "amount_cents" in columns:
        return "TRY_CAST(amount_cents AS DOUBLE)"
    return "round(TRY_CAST(replace(trim(CAST(amount_usd AS VARCHAR)), ',', '') AS DECIMAL(38, 10)) * 100)"


def open_deals(con: duckdb.DuckDBPyConnection, path: Path, known_accounts: pd.Index) -> None:
    """Check the deals file at ``path`` and define the view ``deals`` over it; raise InputError."""
    file = path.name
    source = _source(con, path)
    columns = _columns(con, source, file)
    amount_column = (
        "amount_cents" if "amount_cents" in columns or "amount_usd" not in columns else "amount_usd"
    )
    missing = [c for c in (*REQUIRED, amount_column) if c not in columns]
    if missing:
        raise InputError(
            [
                Problem(file, f"missing column '{c}'", f"add a '{c}' column (see docs/comp.md)", column=c)
                for c in missing
            ]
        )
    cancel = "cancel_date" if "cancel_date" in columns else "NULL"
    line = ", CAST(line AS VARCHAR) AS line" if "line" in columns else ""
    if "hold_until" in columns:
        line += ", CAST(hold_until AS VARCHAR) AS hold_text, TRY_CAST(hold_until AS TIMESTAMP) AS hold_until"
    con.register("known_accounts", pd.DataFrame({"account_id": known_accounts.astype(str)}))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW raw_deals AS
        SELECT file_row_number + 2 AS row_number,
               CAST(deal_id AS VARCHAR) AS deal_id,
               CAST(account_id AS VARCHAR) AS account_id,
               CAST(close_date AS VARCHAR) AS close_text,
               TRY_CAST(close_date AS TIMESTAMP) AS close_date,
               CAST({amount_column} AS VARCHAR) AS amount_text,
               {_amount_sql(columns)} AS amount,
               CAST(status AS VARCHAR) AS status_text,
               lower(trim(CAST(status AS VARCHAR))) AS status,
               CAST({cancel} AS VARCHAR) AS cancel_text,
               TRY_CAST({cancel} AS TIMESTAMP) AS cancel_date{line}
        FROM {source}
        """
    )
    problems = _row_problems(con, file, amount_column, "hold_until" in columns) + _duplicates(con, file)
    if problems:
        raise InputError(problems)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW deals AS
        SELECT deal_id, account_id, close_date, CAST(amount AS BIGINT) AS amount_cents, status,
               cancel_date{", coalesce(line, '') AS line" if "line" in columns else ""}
               {", hold_until" if "hold_until" in columns else ""}
        FROM raw_deals
        """
    )


def _row_problems(
    con: duckdb.DuckDBPyConnection, file: str, amount_column: str, holds: bool
) -> list[Problem]:
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    rules = {
        "amount": f"amount IS NULL OR amount < 0 OR amount <> round(amount) OR amount > {MAX_AMOUNT_CENTS}",
        "status": f"status IS NULL OR status NOT IN ({statuses})",
        "close": "close_date IS NULL",
        "cancel_text": "cancel_date IS NULL AND nullif(trim(coalesce(cancel_text, '')), '') IS NOT NULL",
        "no_cancel": "status = 'cancelled' AND cancel_date IS NULL "
        "AND nullif(trim(coalesce(cancel_text, '')), '') IS NULL",
        "early": "cancel_date < close_date",
        "account": "k.account_id IS NULL",
    }
    if holds:
        rules["hold"] = "hold_until IS NULL AND nullif(trim(coalesce(hold_text, '')), '') IS NOT NULL"
    flags = ", ".join(f"({rule}) AS bad_{name}" for name, rule in rules.items())
    found = con.execute(
        f"""
        SELECT * FROM (
            SELECT row_number, deal_id, r.account_id, close_text, amount_text, status_text, cancel_text,
                   close_date, cancel_date{", hold_text" if holds else ""}, {flags}
            FROM raw_deals r LEFT JOIN known_accounts k ON k.account_id = r.account_id
        ) WHERE {" OR ".join(f"coalesce(bad_{name}, false)" for name in rules)}
        ORDER BY row_number LIMIT {MAX_PROBLEMS * len(rules)}
        """
    ).df()
    texts = {
        "amount": lambda r: (
            f"amount '{r.amount_text}' is not a whole number of cents between 0 and {MAX_AMOUNT_CENTS:,}",
            "give amount_cents as an integer (or amount_usd in dollars)",
            amount_column,
        ),
        "status": lambda r: (
            f"status '{r.status_text}' is not allowed",
            f"use one of: {', '.join(STATUSES)}",
            "status",
        ),
        "close": lambda r: (f"'{r.close_text}' is not a date", "write dates as YYYY-MM-DD", "close_date"),
        "cancel_text": lambda r: (
            f"'{r.cancel_text}' is not a date",
            "write dates as YYYY-MM-DD",
            "cancel_date",
        ),
        "no_cancel": lambda r: (
            "a cancelled deal has no cancel_date",
            "give the date the deal was cancelled",
            "cancel_date",
        ),
        "early": lambda r: (
            f"cancel_date {r.cancel_date:%Y-%m-%d} is before close_date {r.close_date:%Y-%m-%d}",
            "correct one of the two dates",
            "cancel_date",
        ),
        "hold": lambda r: (f"'{r.hold_text}' is not a date", "write dates as YYYY-MM-DD", "hold_until"),
        "account": lambda r: (
            f"account '{r.account_id}' is not in the accounts table",
            "use an account_id of the data set",
            "account_id",
        ),
    }
    problems = []
    for name, text in texts.items():
        if name not in rules:
            continue
        flagged = found[f"bad_{name}"].astype("boolean").fillna(False).to_numpy(bool)
        for row in found.loc[flagged].head(MAX_PROBLEMS).itertuples():
            message, fix, column = text(row)
            problems.append(Problem(file, message, fix, row=int(row.row_number), column=column))
    return problems


def _duplicates(con: duckdb.DuckDBPyConnection, file: str) -> list[Problem]:
    rows = con.execute(
        f"""
        SELECT deal_id, row_number FROM (
            SELECT deal_id, row_number, row_number() OVER (PARTITION BY deal_id ORDER BY row_number) AS k
            FROM raw_deals
            WHERE deal_id IN (SELECT deal_id FROM raw_deals GROUP BY deal_id HAVING count(*) > 1)
        ) WHERE k > 1 ORDER BY row_number LIMIT {MAX_PROBLEMS}
        """
    ).fetchall()
    return [
        Problem(
            file,
            f"deal id '{deal}' appears more than once",
            "give each deal one row",
            row=int(row),
            column="deal_id",
        )
        for deal, row in rows
    ]


def open_splits(
    con: duckdb.DuckDBPyConnection, splits: pd.DataFrame, *, known_reps: pd.Index, file: str = "splits"
) -> pd.DataFrame:
    """Check split rows against the deals view (only the deals they name are read); return them checked."""
    con.register("split_ids", pd.DataFrame({"deal_id": splits["deal_id"].astype(str).unique()}))
    named = con.execute("SELECT deal_id FROM deals WHERE deal_id IN (SELECT deal_id FROM split_ids)").df()
    return check_splits(splits, named, known_reps=known_reps, file=file)


def open_side_table(con: duckdb.DuckDBPyConnection, name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Check ``invoices`` or ``credit_notes`` against the deals view (only the deals they name are read)."""
    con.register("named_ids", pd.DataFrame({"deal_id": table["deal_id"].astype(str).unique()}))
    named = con.execute(
        "SELECT deal_id, amount_cents, close_date FROM deals WHERE deal_id IN (SELECT deal_id FROM named_ids)"
    ).df()
    check = {"invoices": check_invoices, "credit_notes": check_credit_notes}[name]
    return check(table, named, file=name.replace("_", " "))


def deal_dates(path: Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last close dates in the deals file (for default months); checks come later."""
    con = duckdb.connect()
    try:
        source = _source(con, Path(path))
        _columns(con, source, Path(path).name)
        first, last = con.execute(
            "SELECT min(TRY_CAST(close_date AS TIMESTAMP)), max(TRY_CAST(close_date AS TIMESTAMP)) "
            f"FROM {source}"
        ).fetchone()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise InputError(
            [Problem(Path(path).name, f"cannot read close_date ({message})", "add a close_date column")]
        ) from None
    finally:
        con.close()
    if first is None:
        raise InputError(
            [Problem(Path(path).name, "has no deal with a close date", "give deals with close_date")]
        )
    return pd.Timestamp(first), pd.Timestamp(last)
