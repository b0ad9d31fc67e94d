"""Exports of an approved plan: CSV, Excel, GeoJSON, GeoPackage and the CRM assignment file.

Every export is a pure function of an :class:`~planner.plans.approved.ApprovedPlan` and the
:class:`~planner.data.dataset.Dataset` it was made on; :func:`export_plan` writes a chosen
set of files to a directory. Files are written as in :mod:`planner.plans.files`: to a
temporary name in the same directory, then renamed into place. :func:`export_plan` goes
one step further: it writes *every* file first and renames them only when all were
written, so an export that fails midway leaves every earlier file untouched.

Money: quotas are integer cents in memory and in the geo files (exact, numeric for GIS
styling); the CSV files carry dollars as exact decimal text (``"1234.50"``); the Excel
workbook carries dollars as numbers with a currency format (cents / 100, which reads back
to the same cents). Measures ending in ``_pct`` or ``_frac`` are rates, not amounts, so
they are not summed into territory totals.

Excel is written with openpyxl (already a dependency) through pandas; the geo files with
geopandas/pyogrio; polygons come from :func:`planner.plans.dissolve.dissolve_territories`.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import shapely
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from planner.data.dataset import Dataset
from planner.data.geometry import STORAGE_CRS
from planner.errors import PlanError
from planner.exports.crm import account_assignments
from planner.money import cents_to_usd
from planner.plans.approved import ApprovedPlan
from planner.plans.dissolve import dissolve_territories
from planner.plans.quota_lines import HUNDREDTHS, USD, QuotaLine
from planner.progress import ProgressCallback
from planner.quota.hierarchy import COLUMNS as HIERARCHY_COLUMNS
from planner.quota.hierarchy import quota_hierarchy, territory_regions

#: Export formats and the files they write.
FORMAT_FILES: dict[str, tuple[str, ...]] = {
    "csv": ("territories.csv", "quotas.csv", "hierarchy.csv"),
    "xlsx": ("plan.xlsx",),
    "geojson": ("territories.geojson",),
    "gpkg": ("plan.gpkg",),
    "crm": ("account_assignments.csv",),
}
EXPORT_FORMATS = tuple(FORMAT_FILES)
#: Excel number formats.
CURRENCY_FORMAT = '"$"#,##0.00'
WHOLE_CURRENCY_FORMAT = '"$"#,##0'
_RATE_SUFFIXES = ("_pct", "_frac")
_CENTS = re.compile(r"^(.+_)?quota(_.+)?_cents$")
#: Decimals kept in measure totals (sums of floats otherwise print as 484405.57999999996).
MEASURE_DECIMALS = 2

# -- money as exact text --


def format_cents(cents: int) -> str:
    """Whole cents as exact dollar text: ``123450 -> "1234.50"``, ``-5 -> "-0.05"``."""
    return str(cents_to_usd(cents))


def parse_cents(text: str | float | int) -> int:
    """Dollar text (or number) to whole cents, exactly; raises ``ValueError`` for sub-cent amounts.

    Unlike :func:`planner.money.usd_to_cents`, which rounds, a file that gives fractions
    of a cent is rejected: a quota file should say exactly what it means.

    Examples
    --------
    >>> parse_cents("1234.5"), parse_cents("1,000"), parse_cents(19.99)
    (123450, 100000, 1999)
    """
    raw = str(text).strip().replace(",", "").lstrip("$")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError(f"'{text}' is not an amount in dollars") from exc
    if not amount.is_finite():
        raise ValueError(f"'{text}' is not a finite amount")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"'{text}' has fractions of a cent")
    return int(cents)


# -- tables --


def check_plan_matches(approved: ApprovedPlan, dataset: Dataset) -> None:
    """Raise :class:`PlanError` when the plan does not fit the data set (units, reps)."""
    plan_units, data_units = approved.plan.units, dataset.units.index.astype(str)
    missing = data_units.difference(plan_units)
    extra = plan_units.difference(data_units)
    if len(missing) or len(extra):
        raise PlanError(
            f"plan '{approved.name}' does not fit the data set: {len(missing)} unit(s) without a territory "
            f"(e.g. {missing[:5].tolist()}), {len(extra)} unknown unit(s) (e.g. {extra[:5].tolist()}); "
            "export a plan made on this data set"
        )
    reps = approved.plan.territory_reps
    if len(dataset.reps):
        unknown = reps.index.difference(dataset.reps.index.astype(str))
        if len(unknown):
            raise PlanError(
                f"plan '{approved.name}' names rep(s) {unknown[:10].tolist()} missing from the reps table; "
                "add them to reps or fix territory_reps"
            )


def additive_measures(dataset: Dataset) -> list[str]:
    """Measures that add up over units (rates ending in ``_pct``/``_frac`` excluded)."""
    return [m for m in dataset.measures if not m.endswith(_RATE_SUFFIXES)]


def period_column(period: str, line: QuotaLine | None = None) -> str:
    """Column of a quota period: ``2027-01`` -> ``quota_2027_01_cents``, ``2027-Q1`` -> ``..._q1_cents``.

    A count line's columns end in its unit instead (``quota_2027_01_deals``).
    """
    suffix = "cents" if line is None else _suffix(line)
    return f"quota_{period.replace('-', '_').lower()}_{suffix}"


def _names(rep_ids: Iterable[str], names: dict[str, str]) -> str:
    return "; ".join(names.get(r, "") for r in rep_ids)


def territory_table(approved: ApprovedPlan, dataset: Dataset) -> pd.DataFrame:
    """One row per territory: reps, managers, measure totals, unit count and quotas.

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id`` (sorted); ``rep_ids``, ``rep_names``, ``manager_ids``,
        ``manager_names`` (``"; "``-separated for multi-rep territories, empty when
        vacant), ``units``, one total per additive measure (rounded to
        :data:`MEASURE_DECIMALS` decimals), then one
        ``quota_<period>_cents`` column per period (int64, 0 when a territory has no
        quota that period) and ``annual_quota_cents`` (their sum) when the plan has quotas.
    """
    check_plan_matches(approved, dataset)
    plan = approved.plan
    assignment = plan.assignment
    units = dataset.units.set_axis(dataset.units.index.astype(str))
    measures = additive_measures(dataset)
    table = units[measures].groupby(assignment.reindex(units.index).to_numpy()).sum().round(MEASURE_DECIMALS)
    table = table.reindex(plan.territories).rename_axis("territory_id")
    table.insert(0, "units", assignment.value_counts().reindex(table.index).astype("int64"))
    reps = dataset.reps
    names = reps["name"].astype(str).to_dict() if "name" in reps else {}
    manager_of = reps["manager_id"].dropna().astype(str).to_dict() if "manager_id" in reps else {}
    rep_lists = [sorted(plan.reps_of(t)) for t in table.index]
    manager_lists = [sorted({manager_of[r] for r in ids if r in manager_of}) for ids in rep_lists]
    table.insert(0, "manager_names", [_names(ids, names) for ids in manager_lists])
    table.insert(0, "manager_ids", ["; ".join(ids) for ids in manager_lists])
    table.insert(0, "rep_names", [_names(ids, names) for ids in rep_lists])
    table.insert(0, "rep_ids", ["; ".join(ids) for ids in rep_lists])
    for line in approved.lines:
        quotas = approved.line_quotas(line.name)
        if not len(quotas):
            continue
        wide = quotas.pivot_table(index="territory_id", columns="period", values="quota_cents", aggfunc="sum")
        wide = wide.reindex(index=table.index, columns=sorted(wide.columns)).fillna(0).astype("int64")
        prefix = "" if len(approved.lines) == 1 and not line.counts else f"{line.name}_"
        for period in wide.columns:
            table[prefix + period_column(period, line)] = _in_unit(wide[period], line)
        table[f"{prefix}annual_quota_{_suffix(line)}"] = _in_unit(wide.sum(axis=1).astype("int64"), line)
    return table


def _suffix(line: QuotaLine) -> str:
    """Column suffix of a line's amounts: ``cents`` (written as dollars) or the count's unit."""
    return line.unit.replace(" ", "_") if line.counts else "cents"


def _in_unit(hundredths: pd.Series, line: QuotaLine) -> pd.Series:
    """A line's stored amounts in its column's unit: cents for USD, whole units for a count."""
    return hundredths // HUNDREDTHS if line.counts else hundredths


def hierarchy_table(approved: ApprovedPlan, dataset: Dataset) -> pd.DataFrame:
    """Each line's quotas rolled up: company, regions, managers, territories (:mod:`planner.quota.hierarchy`).

    ``line``, ``unit``, ``level``, ``node_id``, ``parent_id``, ``territories``, ``quota_cents``
    (hundredths of the unit), ``potential_usd`` (the line's potential measure), and per node the
    Spearman of quota with potential and the Gini of quota per potential (the attainment figures
    need a forecast, which an approved plan does not carry).
    """
    plan = approved.plan
    managers = pd.Series(dtype=object)
    if "manager_id" in dataset.reps.columns and len(plan.territory_reps):
        reps = dataset.reps.reindex(plan.territory_reps.index)
        managers = reps["manager_id"].groupby(plan.territory_reps).first()
    regions = territory_regions(dataset.units, plan.assignment)
    needs_forecast = {"forecast_usd", "attainment_size_spearman", "at_or_above_quota_frac"}
    frames = []
    for line in approved.lines:
        quotas = approved.annual_quota_cents(line.name).reindex(plan.territories, fill_value=0)
        measure = (
            dataset.units[line.potential]
            if line.potential in dataset.units
            else pd.Series(0.0, index=dataset.units.index)
        )
        potential = measure.groupby(plan.assignment.reindex(dataset.units.index)).sum()
        potential = potential.reindex(quotas.index, fill_value=0.0)
        rolled = quota_hierarchy(quotas, potential, potential, managers, regions)
        rolled = rolled[[c for c in HIERARCHY_COLUMNS if c not in needs_forecast]]
        frames.append(rolled.assign(line=line.name, unit=line.unit))
    table = pd.concat(frames, ignore_index=True)
    return table[["line", "unit", *[c for c in table.columns if c not in ("line", "unit")]]]


def quota_text(table: pd.DataFrame) -> pd.DataFrame:
    """A table with ``unit`` and ``quota_cents``, the amount as text in its unit: dollars or whole units."""
    text = [
        format_cents(int(c)) if unit == USD else str(int(c) // HUNDREDTHS)
        for unit, c in zip(table["unit"], table["quota_cents"], strict=True)
    ]
    position = table.columns.get_loc("quota_cents")
    out = table.drop(columns="quota_cents")
    out.insert(position, "quota", text)
    return out


def quota_table(approved: ApprovedPlan) -> pd.DataFrame:
    """Quotas in long form: ``territory_id``, ``rep_ids``, ``line``, ``unit``, ``period``, ``quota_cents``.

    Sorted by territory, line and period; ``quota_cents`` is in hundredths of the line's unit.
    """
    reps = approved.plan.territory_reps
    rep_ids = {t: "; ".join(sorted(group.index)) for t, group in reps.groupby(reps)}
    units = {line.name: line.unit for line in approved.lines}
    table = approved.quotas.sort_values(["territory_id", "line", "period"]).reset_index(drop=True)
    table.insert(1, "rep_ids", table["territory_id"].map(rep_ids).fillna(""))
    table.insert(3, "unit", table["line"].map(units))
    return table


def territory_layers(
    approved: ApprovedPlan, dataset: Dataset, *, simplify_tolerance_deg: float | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Territory polygons with the attributes of :func:`territory_table`, and the units, in EPSG:4326.

    The units layer holds ``unit_id``, ``name``, ``territory_id`` and the additive measures.
    """
    if simplify_tolerance_deg is not None and simplify_tolerance_deg < 0:
        raise PlanError(f"simplify tolerance must be >= 0, got {simplify_tolerance_deg}")
    table = territory_table(approved, dataset)
    units = dataset.units.to_crs(STORAGE_CRS)
    units = units.set_axis(units.index.astype(str).rename("unit_id"))
    if simplify_tolerance_deg:  # once, for both layers: shared borders stay shared
        simplified = shapely.coverage_simplify(units.geometry.to_numpy(), simplify_tolerance_deg)
        units = units.set_geometry(gpd.GeoSeries(simplified, index=units.index, crs=STORAGE_CRS))
    shapes = dissolve_territories(units, approved.plan.assignment)
    territories = gpd.GeoDataFrame(table, geometry=shapes.geometry.reindex(table.index), crs=STORAGE_CRS)
    columns = [c for c in ("name",) if c in units] + additive_measures(dataset)
    unit_layer = units[columns].assign(territory_id=approved.plan.assignment.reindex(units.index))
    return territories, gpd.GeoDataFrame(unit_layer, geometry=units.geometry, crs=STORAGE_CRS)


def dollars_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every cents column turned into exact dollar text, renamed ``..._usd``."""
    out = table.copy()
    for column in [c for c in out.columns if _CENTS.match(c)]:
        out[column] = out[column].map(format_cents)
        out = out.rename(columns={column: column.removesuffix("_cents") + "_usd"})
    return out


def read_territories_csv(path: str | Path) -> pd.DataFrame:
    """Read a ``territories.csv`` written by :func:`export_plan`, quotas back in cents."""
    table = pd.read_csv(path, dtype={"territory_id": str}, keep_default_na=False).set_index("territory_id")
    for column in [
        c for c in table.columns if _CENTS.match(c.removesuffix("_usd") + "_cents") and c.endswith("_usd")
    ]:
        table[column] = table[column].astype(str).map(parse_cents).astype("int64")
        table = table.rename(columns={column: column.removesuffix("_usd") + "_cents"})
    return table


# -- writing --


@dataclass
class StagedFiles:
    """Files written under temporary names in their target directory, renamed into place together.

    Use :meth:`path` to get the temporary path to write a target to, then :meth:`commit`;
    :meth:`discard` (also on any exception inside ``with``) removes every temporary file.
    """

    staged: dict[Path, Path] = field(default_factory=dict)

    def path(self, target: Path) -> Path:
        """A fresh temporary path beside ``target`` (same suffix, hidden name), not yet created."""
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}"
        )
        os.close(handle)
        os.unlink(temporary)  # writers such as GDAL want to create the file themselves
        self.staged[target] = Path(temporary)
        return Path(temporary)

    def commit(self) -> list[Path]:
        """Rename every staged file into place; return the targets."""
        for target, temporary in self.staged.items():
            os.replace(temporary, target)
        targets = list(self.staged)
        self.staged.clear()
        return targets

    def discard(self) -> None:
        """Remove every staged temporary file (and GDAL side files next to them)."""
        for temporary in self.staged.values():
            for leftover in temporary.parent.glob(temporary.name + "*"):
                leftover.unlink(missing_ok=True)
        self.staged.clear()

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = False) -> None:
    """Write ``table`` as UTF-8 CSV (money columns already exact text)."""
    table.to_csv(path, index=index, lineterminator="\n")


def _write_sheet(
    book: openpyxl.Workbook,
    name: str,
    frame: pd.DataFrame,
    money: Iterable[str] = (),
    whole_money: Iterable[str] = (),
) -> None:
    """Append ``frame`` as sheet ``name`` of a write-only workbook: header row, frozen, money as currency.

    Write-only mode streams rows instead of keeping a cell object per value: 1.5-2x faster
    than ``DataFrame.to_excel`` (10-11 s against 18-20 s for 40,000 accounts, measured).
    """
    sheet = book.create_sheet(name)
    columns = list(frame.columns)
    for position, column in enumerate(columns, start=1):
        width = 80 if name == "README" and position == 2 else min(max(len(str(column)) + 2, 12), 40)
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(columns)
    formats = {c: CURRENCY_FORMAT for c in money} | {c: WHOLE_CURRENCY_FORMAT for c in whole_money}
    styled = [formats.get(c) for c in columns]
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    for row in values:
        for position, number_format in enumerate(styled):
            if number_format is not None and row[position] is not None:
                cell = WriteOnlyCell(sheet, value=row[position])
                cell.number_format = number_format
                row[position] = cell
        sheet.append(row)


def metadata_rows(approved: ApprovedPlan, dataset: Dataset) -> pd.DataFrame:
    """The README sheet: what this workbook is (plan, version, approval, effective date, units)."""
    approved_at = approved.approved_at.isoformat(timespec="seconds") if approved.approved_at else ""
    rows = [
        ("plan", approved.name),
        ("version_id", str(approved.version_id)),
        ("approved_by", approved.approved_by),
        ("approved_at", approved_at),
        ("effective_from", approved.effective_from.isoformat()),
        ("territories", str(len(approved.plan.territories))),
        ("units", str(len(approved.plan.units))),
        ("reps", str(len(approved.plan.territory_reps))),
        ("accounts", str(len(dataset.accounts))),
        ("money", "quotas in US dollars (exact to the cent); measures as in the data set"),
        (
            "sheets",
            "Territories (one row per territory), Quotas (long form), Hierarchy (company, regions, "
            "managers, territories), Accounts (owner per account)",
        ),
    ]
    return pd.DataFrame(rows, columns=["field", "value"])


def write_excel(
    approved: ApprovedPlan, dataset: Dataset, path: Path, *, accounts: pd.DataFrame | None = None
) -> None:
    """Write the workbook: README, Territories, Quotas and Accounts sheets, money as currency.

    ``accounts`` is the CRM assignment table (default: every account, see
    :func:`planner.exports.crm.account_assignments`).
    """
    territories = territory_table(approved, dataset).reset_index()
    cents = [c for c in territories.columns if _CENTS.match(c)]
    for column in cents:
        territories[column] = territories[column] / 100
    territories = territories.rename(columns={c: c.removesuffix("_cents") + "_usd" for c in cents})
    money = [c.removesuffix("_cents") + "_usd" for c in cents]
    whole = [c for c in territories.columns if c.endswith("_usd") and c not in money]
    quotas = _quota_numbers(quota_table(approved))
    if accounts is None:
        accounts = account_assignments(
            dataset.accounts, approved.plan, approved.effective_from, reps=dataset.reps
        )
    tree = _quota_numbers(hierarchy_table(approved, dataset)).rename(columns={"potential_usd": "potential"})
    sheets = {
        "README": (metadata_rows(approved, dataset), [], []),
        "Territories": (territories, money, whole),
        "Quotas": (quotas, [], []),
        "Hierarchy": (tree, [], []),
        "Accounts": (accounts, [], []),
    }
    book = openpyxl.Workbook(write_only=True)
    for name, (frame, money_columns, whole_columns) in sheets.items():
        _write_sheet(book, name, frame, money_columns, whole_columns)
    book.save(path)


def _quota_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """``quota_cents`` as a number in the line's unit (dollars or whole units), for a spreadsheet."""
    position = table.columns.get_loc("quota_cents")
    out = table.drop(columns="quota_cents")
    out.insert(position, "quota", table["quota_cents"] / HUNDREDTHS)
    return out


def read_excel_quotas(path: str | Path) -> pd.DataFrame:
    """The Quotas sheet of a workbook written by :func:`write_excel`, quotas back in exact hundredths."""
    quotas = pd.read_excel(path, sheet_name="Quotas", dtype={"territory_id": str, "period": str, "line": str})
    cents = quotas["quota"].map(lambda v: int(Decimal(repr(float(v))).scaleb(2).to_integral_value()))
    return quotas.assign(quota=cents.astype("int64")).rename(columns={"quota": "quota_cents"})


def write_geojson(territories: gpd.GeoDataFrame, path: Path) -> None:
    """Write territory polygons and attributes as GeoJSON (RFC 7946: EPSG:4326 lon/lat)."""
    territories.to_crs(STORAGE_CRS).reset_index().to_file(path, driver="GeoJSON", engine="pyogrio")


def write_geopackage(territories: gpd.GeoDataFrame, units: gpd.GeoDataFrame, path: Path) -> None:
    """Write a GeoPackage with layers ``territories`` and ``units``."""
    territories.reset_index().to_file(path, driver="GPKG", layer="territories", engine="pyogrio")
    units.reset_index().to_file(path, driver="GPKG", layer="units", engine="pyogrio", append=True)


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validate export format names; return them deduplicated in a fixed order."""
    chosen = [str(f).lower().strip() for f in formats]
    unknown = sorted(set(chosen) - set(EXPORT_FORMATS))
    if unknown:
        raise PlanError(f"unknown export format(s) {unknown}; choose from {', '.join(EXPORT_FORMATS)}")
    if not chosen:
        raise PlanError(f"no export format chosen; choose from {', '.join(EXPORT_FORMATS)}")
    return tuple(f for f in EXPORT_FORMATS if f in chosen)


def export_plan(
    approved: ApprovedPlan,
    dataset: Dataset,
    directory: str | Path,
    formats: Iterable[str] = EXPORT_FORMATS,
    *,
    changed_only: bool = False,
    simplify_tolerance_deg: float | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Write the chosen exports of ``approved`` to ``directory``, all or nothing.

    Parameters
    ----------
    approved : ApprovedPlan
        The plan, its quotas and approval metadata.
    dataset : Dataset
        The data set the plan was made on (units, accounts, reps).
    directory : str or Path
        Output directory (created when missing).
    formats : iterable of str
        Any of :data:`EXPORT_FORMATS`; see :data:`FORMAT_FILES` for the file names.
    changed_only : bool
        The CRM file lists only accounts whose owner changes (the Excel Accounts sheet
        always lists every account).
    simplify_tolerance_deg : float, optional
        Simplify polygons in the geo files (degrees; shared borders stay shared).
    progress : callable, optional
        Called with ``(fraction done, message)``.

    Returns
    -------
    list of Path
        The files written. On any error nothing in ``directory`` has changed.
    """
    chosen = check_formats(formats)
    check_plan_matches(approved, dataset)
    report = progress or (lambda fraction, message: None)
    out = Path(directory)
    steps = len(chosen) + 1
    with StagedFiles() as staged:
        layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None
        accounts = None
        if {"xlsx", "crm"} & set(chosen):
            accounts = account_assignments(
                dataset.accounts, approved.plan, approved.effective_from, reps=dataset.reps
            )
        for step, fmt in enumerate(chosen):
            report(step / steps, f"writing {fmt}")
            if fmt == "csv":
                write_csv(
                    dollars_text(territory_table(approved, dataset)),
                    staged.path(out / "territories.csv"),
                    index=True,
                )
                write_csv(quota_text(quota_table(approved)), staged.path(out / "quotas.csv"))
                write_csv(quota_text(hierarchy_table(approved, dataset)), staged.path(out / "hierarchy.csv"))
            elif fmt == "xlsx":
                write_excel(approved, dataset, staged.path(out / "plan.xlsx"), accounts=accounts)
            elif fmt in ("geojson", "gpkg"):
                if layers is None:
                    report(step / steps, "dissolving territories")
                    layers = territory_layers(
                        approved, dataset, simplify_tolerance_deg=simplify_tolerance_deg
                    )
                if fmt == "geojson":
                    write_geojson(layers[0], staged.path(out / "territories.geojson"))
                else:
                    write_geopackage(*layers, staged.path(out / "plan.gpkg"))
            elif accounts is not None:
                crm = accounts[accounts["changed"]] if changed_only else accounts
                write_csv(crm, staged.path(out / "account_assignments.csv"))
        report(len(chosen) / steps, "moving files into place")
        written = staged.commit()
    report(1.0, f"wrote {len(written)} file(s)")
    return written
