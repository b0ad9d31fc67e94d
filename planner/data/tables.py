"""Read one input table from disk and check it against its schema; read a small CSV as checked text.

Rows are counted the way a spreadsheet shows them: the header is row 1, so the first
record is row 2. Every problem in a file is collected; nothing stops at the first one.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.data.schema import Column, TableSchema
from planner.errors import Problem

TABULAR_SUFFIXES = (".csv", ".parquet")
GEO_SUFFIXES = (".parquet", ".geoparquet", ".geojson", ".json", ".gpkg", ".shp")
HEADER_ROWS = 1


def sheet_row(position: int) -> int:
    """Spreadsheet row number of the record at 0-based ``position`` (the header is row 1)."""
    return int(position) + HEADER_ROWS + 1


#: What each reader calls the formats, for a message that names what the file should be.
FORMAT_NAMES = {
    ".csv": "CSV",
    ".parquet": "Parquet",
    ".geoparquet": "GeoParquet",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "shapefile",
}
#: Reader advice meant for programmers (driver prefixes and the like), cut from messages.
READER_ADVICE = re.compile(
    r";?\s*(It might help to specify the correct driver|Either the file is corrupted).*$", re.S
)


def unreadable(path: Path, exc: Exception) -> Problem:
    """The problem of a file its reader refused: what it should be and the reader's reason, with no paths."""
    kind = FORMAT_NAMES.get(path.suffix.lower(), path.suffix.lstrip(".").upper() or "data")
    reason = READER_ADVICE.sub("", str(exc))
    for shown in {str(path), str(path.resolve()), path.as_posix()}:
        reason = reason.replace(f"'{shown}'", "the file").replace(shown, "the file")
    reason = reason.strip().rstrip(".;")
    return Problem(
        path.name,
        f"is not a readable {kind} file ({reason})" if reason else f"is not a readable {kind} file",
        f"open it in the program that made it and save it again as {kind}",
    )


def read_frame(path: Path, schema: TableSchema) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read ``path`` as a (Geo)DataFrame, without validating its contents.

    Returns ``(None, problems)`` when the file cannot be read at all.
    """
    name = path.name
    if not path.exists():
        return None, [Problem(name, f"file not found at {path}", "check the path")]
    if path.stat().st_size == 0:
        return None, [
            Problem(name, "the file is empty (0 bytes)", "export the table again, with its header row")
        ]
    suffix = path.suffix.lower()
    try:
        if schema.geometry:
            if suffix in (".parquet", ".geoparquet"):
                frame = gpd.read_parquet(path)
            elif suffix in GEO_SUFFIXES:
                frame = gpd.read_file(path)
            else:
                return None, [
                    Problem(
                        name,
                        f"unsupported file type '{suffix}' for {schema.name}",
                        f"save it as one of {', '.join(GEO_SUFFIXES)}",
                    )
                ]
        elif suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            return None, [
                Problem(
                    name,
                    f"unsupported file type '{suffix}' for {schema.name}",
                    f"save it as one of {', '.join(TABULAR_SUFFIXES)}",
                )
            ]
    except Exception as exc:  # any reader failure becomes a clear problem, not a traceback
        return None, [unreadable(path, exc)]
    if frame.index.name is not None:  # a saved id index comes back as a column
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, []


def read_csv_table(path: Path, required: tuple[str, ...]) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV as text columns; ``None`` and the problem if it is missing, unreadable or lacks a column.

    For the small CSVs that are not data-set tables (a plan directory, quotas, relief):
    every cell is kept as text (no NA parsing) and header names are stripped.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file.
    required : tuple of str
        Columns the header must have.

    Returns
    -------
    tuple of (pandas.DataFrame or None, list of Problem)
        The table and no problems, or ``None`` and the one problem that stopped the read.
    """
    if not path.is_file():
        return None, [Problem(path.name, f"file not found at {path}", "check the path")]
    if path.stat().st_size == 0:
        return None, [
            Problem(path.name, "the file is empty (0 bytes)", f"give it a header with {', '.join(required)}")
        ]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        return None, [unreadable(path, exc)]
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        return None, [
            Problem(path.name, f"missing column(s) {missing}", f"add a header with {', '.join(required)}")
        ]
    return frame, []


NULL_WORDS = ("", "nan", "na", "n/a", "null", "none")


def _blank(series: pd.Series) -> np.ndarray:
    """True where a value is missing: null, empty, or a null word such as 'NaN' or 'NA'."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return series.isna().to_numpy()  # a number or a date is never a null word
    as_text = series.astype("string").str.strip().str.lower()
    return series.isna().to_numpy() | as_text.fillna("").isin(NULL_WORDS).to_numpy()


def _check_column(frame: pd.DataFrame, column: Column, file: str) -> tuple[pd.Series, list[Problem]]:
    """Convert one column to its kind; return the converted column and its problems."""
    raw = frame[column.name]
    blank = _blank(raw)
    problems: list[Problem] = []

    def report(mask: np.ndarray, message: str, fix: str) -> None:
        for position in np.flatnonzero(mask):
            value = raw.iloc[position]
            problems.append(
                Problem(
                    file,
                    message.format(value=value),
                    fix,
                    row=sheet_row(position),
                    column=column.name,
                )
            )

    if column.kind in ("id", "ref", "text", "category"):
        converted = raw.astype("string").str.strip().mask(blank, pd.NA)
        if column.kind == "id" or (column.kind == "ref" and column.required):
            report(blank, "missing value", f"give every row a {column.name}")
        if column.kind == "category":
            bad = ~blank & ~converted.str.lower().isin(column.choices).fillna(False).to_numpy()
            report(bad, "'{value}' is not allowed", f"use one of: {', '.join(column.choices)}")
            converted = converted.str.lower()
        return converted, problems

    if column.kind == "date":
        converted = pd.to_datetime(raw.where(~blank), errors="coerce", format="ISO8601")
        report(blank & column.required, "missing date", "write the date as YYYY-MM-DD")
        report(~blank & converted.isna().to_numpy(), "'{value}' is not a date", "write YYYY-MM-DD")
        return converted, problems

    numeric = pd.to_numeric(raw.where(~blank), errors="coerce").astype(float)
    values = numeric.to_numpy()
    not_number = ~blank & np.isnan(values)
    report(blank, "missing value (empty or NaN)", "enter a number (0 if there is none)")
    report(not_number, "'{value}' is not a number", "enter a plain number, without units or text")
    finite = ~np.isnan(values)
    report(finite & np.isinf(values), "'{value}' is infinite", "enter a finite number")
    if column.kind == "number":
        report(finite & (values < 0), "negative value {value}", "measures must be >= 0")
    elif column.kind in ("lat", "lon"):
        limit = 90.0 if column.kind == "lat" else 180.0
        report(
            finite & (np.abs(values) > limit),
            f"{{value}} is outside [-{limit:g}, {limit:g}]",
            "give WGS84 degrees (check that latitude and longitude are not swapped)",
        )
    return numeric, problems


def validate_frame(frame: pd.DataFrame, schema: TableSchema, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check columns, values and id uniqueness; return the typed frame and all problems.

    The returned frame has the schema's columns converted to their kinds (text as
    pandas strings, numbers as float, dates as datetimes), extra numeric columns kept
    for tables that allow them, and the id column as index when the table has one.
    """
    problems: list[Problem] = []
    missing = [c for c in schema.required if c not in frame.columns]
    for name in missing:
        problems.append(
            Problem(
                file,
                f"required column '{name}' is missing (found: {', '.join(map(str, frame.columns))})",
                f"add a '{name}' column: {schema.column(name).description}",
                column=name,
            )
        )
    typed = frame.copy()
    for column in schema.columns:
        if column.name in frame.columns:
            typed[column.name], found = _check_column(frame, column, file)
            problems.extend(found)
    if schema.extra_numeric_columns_allowed:
        known = {c.name for c in schema.columns} | {"geometry"}
        for extra in [c for c in frame.columns if c not in known]:
            if pd.api.types.is_numeric_dtype(frame[extra]):
                typed[extra], found = _check_column(frame, Column(extra, "number", ""), file)
                problems.extend(found)

    if schema.id_column and schema.id_column in typed.columns:
        ids = typed[schema.id_column]
        dup = ids.duplicated(keep=False) & ids.notna()
        for value, rows in ids[dup].groupby(ids[dup]).groups.items():
            positions = [typed.index.get_loc(r) for r in rows]
            listed = ", ".join(str(sheet_row(p)) for p in positions)
            problems.append(
                Problem(
                    file,
                    f"duplicate {schema.id_column} '{value}' in rows {listed}",
                    f"give each {schema.name} row a unique {schema.id_column} (or merge the rows)",
                    row=sheet_row(positions[1]),
                    column=schema.id_column,
                )
            )
        typed = typed.set_index(schema.id_column, drop=True)
    return typed, problems
