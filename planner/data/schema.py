"""The data model: every input table, its id column and its columns, declared once.

The loaders (:mod:`planner.data.tables`, :mod:`planner.data.dataset`) validate files against these
declarations, and ``docs/data-model.md`` documents them for users. Column kinds:

- ``id``: non-empty text, unique within the table when it is the table's id;
- ``ref``: text that must match an id in another table (may be empty when optional);
- ``text``: free text; ``category``: one of ``choices``;
- ``number``: finite and >= 0 (money in USD, counts, hours);
- ``lat`` / ``lon``: WGS84 degrees, within [-90, 90] / [-180, 180];
- ``date``: ISO date (YYYY-MM-DD).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["id", "ref", "text", "category", "number", "lat", "lon", "date"]


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    kind: ColumnKind
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    references: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """An input table: its id column (unique, or None for event tables) and columns."""

    name: str
    id_column: str | None
    columns: tuple[Column, ...]
    description: str
    geometry: bool = False
    extra_numeric_columns_allowed: bool = False
    unique_together: tuple[str, ...] = field(default=())

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns that must be present."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(c for c in self.columns if c.name == name)


#: Unit measures the product knows by name; users may add any other numeric column.
UNIT_MEASURES: tuple[str, ...] = ("tam_usd", "accounts", "workload_hours", "bookings_usd")

UNITS = TableSchema(
    name="units",
    id_column="unit_id",
    geometry=True,
    extra_numeric_columns_allowed=True,
    description=(
        "Geographic building blocks of territories (counties in the demo; ZIPs or postcodes "
        "for users), one polygon each. Any extra numeric column is kept as a measure."
    ),
    columns=(
        Column("unit_id", "id", "Unique unit id (the demo uses the 5-digit county FIPS code)."),
        Column("name", "text", "Display name, e.g. 'Cook County, IL'."),
        Column("region", "text", "Region or state, e.g. 'IL'."),
        Column("tam_usd", "number", "Total addressable market (market potential), USD per year."),
        Column(
            "accounts",
            "number",
            "Number of accounts in the unit (counted from accounts when absent).",
            required=False,
        ),
        Column(
            "workload_hours",
            "number",
            "Expected field workload, hours per year (e.g. visits x hours per visit).",
            required=False,
        ),
        Column(
            "bookings_usd",
            "number",
            "Bookings of the last 12 months, USD (summed from bookings history when absent).",
            required=False,
        ),
    ),
)

ACCOUNTS = TableSchema(
    name="accounts",
    id_column="account_id",
    description=(
        "Customers and prospects. Located by lat/lon (placed into a unit by point-in-polygon) "
        "or directly by unit_id."
    ),
    columns=(
        Column("account_id", "id", "Unique account id."),
        Column("name", "text", "Account name."),
        Column("lat", "lat", "Latitude, WGS84 degrees.", required=False),
        Column("lon", "lon", "Longitude, WGS84 degrees.", required=False),
        Column(
            "unit_id",
            "ref",
            "Unit the account lies in (used when lat/lon are absent).",
            required=False,
            references="units",
        ),
        Column("segment", "category", "Size segment.", choices=("enterprise", "mid-market", "smb")),
        Column("industry", "text", "Industry, free text."),
        Column("potential_usd", "number", "Estimated yearly spend potential, USD."),
        Column(
            "owner_rep_id",
            "ref",
            "Current owner (a rep_id); empty for unowned accounts.",
            required=False,
            references="reps",
        ),
        Column(
            "protected",
            "category",
            "'yes' pins the account to its current owner: the optimizer never moves its unit.",
            required=False,
            choices=("yes", "no"),
        ),
    ),
)

REPS = TableSchema(
    name="reps",
    id_column="rep_id",
    description="Sales reps, their managers and home bases.",
    columns=(
        Column("rep_id", "id", "Unique rep id."),
        Column("name", "text", "Rep name."),
        Column(
            "role",
            "category",
            "Role.",
            choices=("account_executive", "territory_manager", "manager"),
        ),
        Column("manager_id", "ref", "rep_id of the rep's manager.", required=False, references="reps"),
        Column("home_lat", "lat", "Home base latitude, WGS84 degrees."),
        Column("home_lon", "lon", "Home base longitude, WGS84 degrees."),
        Column("hire_date", "date", "Hire date, YYYY-MM-DD."),
        Column("status", "category", "Employment status.", choices=("ramping", "ramped", "leaving")),
    ),
)

BOOKINGS = TableSchema(
    name="bookings",
    id_column=None,
    description="Bookings history: one row per booked deal.",
    columns=(
        Column("account_id", "ref", "Account booked.", references="accounts"),
        Column("date", "date", "Booking date, YYYY-MM-DD."),
        Column("amount_usd", "number", "Booked amount, USD."),
        Column(
            "line",
            "text",
            "Quota line the booking counts toward, e.g. new_business or renewal (optional; "
            "without it every booking feeds every line).",
            required=False,
        ),
    ),
)

ALIGNMENT = TableSchema(
    name="alignment",
    id_column="unit_id",
    description="Current alignment of units to territories (one row per unit).",
    columns=(
        Column("unit_id", "ref", "Unit.", references="units"),
        Column("territory_id", "id", "Territory the unit belongs to."),
    ),
)

TERRITORY_REPS = TableSchema(
    name="territory_reps",
    id_column="rep_id",
    description=(
        "Who covers each territory: one row per (territory, rep). A territory with several "
        "rows is a multi-rep territory; a territory with no row is vacant."
    ),
    columns=(
        Column("territory_id", "ref", "Territory (as named in alignment).", references="alignment"),
        Column("rep_id", "ref", "Rep covering it; a rep covers at most one territory.", references="reps"),
    ),
)

TABLES: dict[str, TableSchema] = {
    t.name: t for t in (UNITS, ACCOUNTS, REPS, BOOKINGS, ALIGNMENT, TERRITORY_REPS)
}


KIND_TEXT = {
    "id": "text id, unique",
    "ref": "text id of another table",
    "text": "text",
    "category": "one of",
    "number": "number >= 0",
    "lat": "degrees, -90..90",
    "lon": "degrees, -180..180",
    "date": "date YYYY-MM-DD",
}


def schema_markdown() -> str:
    """The data model as Markdown (``docs/data-model.md`` is this text; a test keeps it so)."""
    lines = [
        "# Data model",
        "",
        "Generated from `planner/data/schema.py` by `python -m planner.data.schema > docs/data-model.md`.",
        "",
        "A data set is a folder of files named after their tables: `units` as GeoJSON, GeoPackage,",
        "shapefile or GeoParquet (with a CRS); the other tables as CSV or Parquet. Rows in error",
        "messages are counted as a spreadsheet shows them: the header is row 1.",
        "",
    ]
    for table in TABLES.values():
        lines += [f"## {table.name}", "", table.description, ""]
        if table.id_column:
            lines += [f"One row per `{table.id_column}`.", ""]
        lines += ["| column | required | kind | meaning |", "| --- | --- | --- | --- |"]
        if table.geometry:
            lines.append("| geometry | yes | (Multi)Polygon, any CRS (stored as EPSG:4326) | Unit shape. |")
        for column in table.columns:
            kind = KIND_TEXT[column.kind]
            if column.choices:
                kind += " " + ", ".join(f"`{c}`" for c in column.choices)
            if column.references:
                kind += f" (`{column.references}`)"
            required = "yes" if column.required else "no"
            lines.append(f"| `{column.name}` | {required} | {kind} | {column.description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(schema_markdown())
