"""Comp plan files (YAML or TOML): pydantic models, loading and clear errors.

A comp plan says how a role is paid: components with rate tables, SPIFFs, a draw and a
clawback window. pydantic validates the file (types, allowed values, cross-field rules)
so that every problem is reported with the path of the offending field; YAML is read
with PyYAML (``safe_load``) and TOML with the standard library's ``tomllib``.

Example (YAML)::

    schema_version: 1
    name: Account executive FY2026
    roles: [account_executive]
    components:
      - id: commission
        kind: marginal            # single | marginal | interpolated
        basis: attainment         # tier starts in % of quota (or "amount": in USD)
        window: month             # deal | month | quarter | year
        base_rate_pct: 8
        tiers:
          - {start: 0, multiplier: 0.5}    # decelerator below 50 % of quota
          - {start: 50, multiplier: 1}
          - {start: 100, multiplier: 1.5}  # accelerator above quota
        cap_usd: 40000
    spiffs:
      - {id: big-deal, bonus_usd: 500, min_amount_usd: 100000}
    draw: {amount_usd: 2000, recoverable: true, start: 2026-01, end: 2026-06}
    clawback: {window_days: 90}

Numbers are read as :class:`decimal.Decimal` (never binary floats): rates with at most
four decimals of a percent, money with at most two decimals of a dollar.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner.errors import InputError, Problem

SCHEMA_VERSION = 1
KINDS = ("single", "marginal", "interpolated")
BASES = ("amount", "attainment")
WINDOWS = ("deal", "month", "quarter", "year")
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"

Rate = Annotated[Decimal, Field(ge=0, decimal_places=4, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    """One row of a rate table.

    ``start`` is where the tier begins, in USD (basis ``amount``) or in % of quota (basis
    ``attainment``). Give ``rate_pct`` (percent of the credited amount), or ``multiplier``
    (times the component's ``base_rate_pct``) for accelerators and decelerators, or
    ``payout_usd`` (the payout at ``start``; interpolated components only).
    """

    start: Annotated[Decimal, Field(ge=0, decimal_places=4, allow_inf_nan=False)]
    rate_pct: Rate | None = None
    multiplier: Rate | None = None
    payout_usd: Money | None = None

    @model_validator(mode="after")
    def _one_value(self) -> Tier:
        given = [n for n in ("rate_pct", "multiplier", "payout_usd") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of rate_pct, multiplier, payout_usd (got {given or 'none'})")
        return self


class Component(_Strict):
    """A commission or bonus component: rate table, measurement window, gate and cap.

    Kinds: ``single`` (the whole window amount at the rate of the highest tier reached,
    retroactively), ``marginal`` (each slice at its own tier's rate, like tax brackets),
    ``interpolated`` (the payout is the straight line between the tiers' ``payout_usd``
    points, flat after the last one, nothing before the first).

    ``quota_line`` names the quota line the component measures (e.g. ``new_business``): it
    credits the deals of that line and measures attainment against that line's quota. It
    may be left out when the approved plans have one line. A count line (e.g. deals) is
    measured in deals credited, and pays by an ``interpolated`` curve over attainment.

    ``credit_on`` is ``close`` (a deal is credited on its close date) or ``payment`` (each
    payment of the deal's invoices credits its share of the deal, on the date it was paid;
    what is unpaid is not credited).
    """

    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    label: str = ""
    kind: Literal["single", "marginal", "interpolated"]
    basis: Literal["amount", "attainment"] = "amount"
    window: Literal["deal", "month", "quarter", "year"] = "month"
    base_rate_pct: Rate | None = None
    tiers: Annotated[list[Tier], Field(min_length=1)]
    threshold: Annotated[Decimal, Field(ge=0, decimal_places=4, allow_inf_nan=False)] = Decimal(0)
    cap_usd: Money | None = None
    quota_line: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    credit_on: Literal["close", "payment"] = "close"

    @model_validator(mode="after")
    def _check_tiers(self) -> Component:
        starts = [t.start for t in self.tiers]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError(f"tier starts must be strictly increasing, got {[str(s) for s in starts]}")
        if self.window == "deal" and self.basis == "attainment":
            raise ValueError("window 'deal' measures each deal alone: use basis 'amount'")
        if self.kind == "interpolated":
            if any(t.payout_usd is None for t in self.tiers):
                raise ValueError("interpolated tiers need payout_usd at every start")
            if len(self.tiers) < 2:
                raise ValueError("an interpolated table needs at least two points")
            if self.tiers[0].start == 0 and self.tiers[0].payout_usd != 0:
                raise ValueError(
                    "a payout curve pays nothing for no credit: give payout_usd 0 at start 0 "
                    "(for a step, start the curve above 0)"
                )
        else:
            if any(t.payout_usd is not None for t in self.tiers):
                raise ValueError(f"payout_usd is for interpolated tables; a {self.kind} tier has a rate")
            if self.tiers[0].start != 0:
                raise ValueError("the first tier must start at 0 (use threshold for a gate)")
            if any(t.multiplier is not None for t in self.tiers) and self.base_rate_pct is None:
                raise ValueError("tiers with a multiplier need the component's base_rate_pct")
        return self

    def rates_pct(self) -> list[Decimal]:
        """Rate of each tier in percent (multipliers applied to ``base_rate_pct``)."""
        return [
            t.rate_pct if t.rate_pct is not None else t.multiplier * (self.base_rate_pct or Decimal(0))
            for t in self.tiers
        ]


class Spiff(_Strict):
    """A one-off bonus on each qualifying won deal, shared by the deal's credited reps."""

    id: Annotated[str, Field(min_length=1)]
    label: str = ""
    bonus_usd: Money
    min_amount_usd: Money = Decimal(0)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> Spiff:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Draw(_Strict):
    """A monthly draw: the least a rep is paid in a month (recoverable: an advance)."""

    amount_usd: Money
    recoverable: bool = True
    start: Annotated[str, Field(pattern=MONTH_PATTERN)] | None = None
    end: Annotated[str, Field(pattern=MONTH_PATTERN)] | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _month_text(cls, value: object) -> object:
        return value.strftime("%Y-%m") if isinstance(value, date) else value

    def active(self, month: str) -> bool:
        """True when the draw applies in ``month`` ('YYYY-MM')."""
        return (self.start is None or month >= self.start) and (self.end is None or month <= self.end)


class Clawback(_Strict):
    """Deals cancelled within ``window_days`` of closing give back their earnings."""

    window_days: Annotated[int, Field(ge=0)] = 90


class CompPlan(_Strict):
    """A whole comp plan file (see the module docstring for the format)."""

    schema_version: Literal[1]
    name: Annotated[str, Field(min_length=1)]
    roles: Annotated[list[str], Field(min_length=1)]
    credit: Literal["own", "team"] = "own"
    components: Annotated[list[Component], Field(min_length=1)]
    spiffs: list[Spiff] = []
    draw: Draw | None = None
    clawback: Clawback | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> CompPlan:
        ids = [c.id for c in self.components] + [s.id for s in self.spiffs]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"component and SPIFF ids must be unique, repeated: {duplicated}")
        return self


def _problems(error: ValidationError, file: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or None
        message = item["msg"].removeprefix("Value error, ")
        if "input" in item and item["type"] not in ("missing",) and not isinstance(item["input"], dict):
            message += f" (got {item['input']!r})"
        problems.append(
            Problem(
                file, message, "correct this field; see docs/comp.md for the plan file format", column=where
            )
        )
    return problems


def parse_comp_plan(data: object, *, file: str = "comp plan") -> CompPlan:
    """Validate already-parsed plan data (a mapping); raise :class:`InputError` listing every problem."""
    if not isinstance(data, dict):
        raise InputError(
            [Problem(file, "the file is not a mapping of fields", "start with 'schema_version: 1'")]
        )
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            [
                Problem(
                    file,
                    f"schema_version is {version!r}; this version of Terrain reads {SCHEMA_VERSION}",
                    f"set schema_version: {SCHEMA_VERSION}",
                    column="schema_version",
                )
            ]
        )
    try:
        return CompPlan.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems(exc, file)) from exc


def load_comp_plan(path: str | Path) -> CompPlan:
    """Read and validate a comp plan file (``.yaml``/``.yml`` or ``.toml``).

    Raises
    ------
    InputError
        For an unreadable file, a syntax error (with its line) or invalid fields (with
        the field path, e.g. ``components.0.tiers.1.rate_pct``).
    """
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(name, f"cannot read the file ({exc.strerror})", "check the path")]) from exc
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise InputError(
                [Problem(name, f"unknown plan file type '{suffix}'", "use a .yaml, .yml or .toml file")]
            )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError(
            [Problem(name, f"YAML syntax error: {exc}", "fix the YAML syntax", row=row)]
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(name, f"TOML syntax error: {exc}", "fix the TOML syntax")]) from exc
    return parse_comp_plan(_decimals(data), file=name)


def _decimals(value: object) -> object:
    """Floats from the parser become Decimals via their shortest text (``0.1`` -> ``Decimal('0.1')``)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value
