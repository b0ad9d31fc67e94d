"""From a data set and a plan to a draft quota version.

The steps, each in its own module: territory inputs (:mod:`planner.quota.inputs`),
allocation with guardrails, ramp and relief (:mod:`planner.quota.allocation`), phasing from the
seasonality of past bookings (:mod:`planner.quota.phasing`), fairness (:mod:`planner.quota.fairness`).
Saving a draft in the plan store is :func:`planner.store.drafts.save_draft`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.data.tables import read_csv_table, sheet_row
from planner.errors import InputError, PlannerError, Problem
from planner.forecast.choice import BookingsForecaster
from planner.forecast.frequency import FrequencyName, frequency_named
from planner.forecast.history import territory_history
from planner.plans.plan import Plan
from planner.plans.quota_lines import HUNDREDTHS, QuotaLine, check_lines
from planner.quota.allocation import QuotaAllocation, QuotaOptions, allocate_quotas, quota_bounds
from planner.quota.attainment import (
    DEFAULT_CV_FRAC,
    DEFAULT_GOAL_FRAC,
    AttainmentPlan,
    attainment_plan,
    check_goal,
)
from planner.quota.inputs import prorated_relief_frac, quota_territories
from planner.quota.lines import line_dataset, whole_units
from planner.quota.phasing import Frequency, fiscal_months, phase_quotas, seasonality_from_history


@dataclass(frozen=True)
class QuotaRequest:
    """What to allocate: the company target and how to split and phase it.

    Parameters
    ----------
    target_cents : int
        Company target for the fiscal year, in hundredths of the line's unit: whole cents for
        revenue, 100 per deal for a count line (:mod:`planner.quota.lines`).
    fiscal_year_start : str
        First month of the fiscal year, ``'YYYY-MM'``.
    options : QuotaOptions
        Blend weights, over-assignment, guardrail, relief policy.
    frequency : {"month", "quarter"}
        Phasing of the annual quotas.
    growth_frac : float
        Growth on trailing bookings, the forecast when ``forecast_method="growth"``.
    forecast_method : {"model", "growth"}
        Where the forecast comes from when ``forecast_usd`` is not given: the bookings
        forecaster of :mod:`planner.forecast.choice` trained on history before the fiscal
        year (summed over the fiscal year's periods), or trailing 12 months x (1 + growth_frac).
    forecast_frequency : {"month", "quarter", "week"}
        The period of the history the forecaster learns from.
    attainment_goal_frac : float
        Share of territories finance wants expected at or above quota (0.65); the quota
        total that implies is computed and shown against the target
        (:mod:`planner.quota.attainment`).
    basis_frac : float
        Finance's choice of total: 0 meets the target, 1 meets the attainment goal, a value
        between sits in proportion. Recorded with the version.
    forecast_cv_frac : float
        Uncertainty of each territory's bookings around its forecast (coefficient of variation).
    forecast_usd : pandas.Series, optional
        Forecast bookings per territory for the fiscal year, given by the caller.
    last_quota_cents : pandas.Series, optional
        Last year's quota per territory (for guardrails).
    relief : pandas.DataFrame, optional
        Uncovered periods (leave, a mid-year territory change): ``territory_id``,
        ``start``, ``end`` (dates, inclusive). Each territory's share of the fiscal year
        covered by its rows becomes its relief (see :func:`planner.quota.inputs.prorated_relief_frac`).
    line : QuotaLine
        The quota line allocated: its unit, potential measure and bookings (default: all
        bookings in USD, line ``bookings``).
    """

    target_cents: int
    fiscal_year_start: str
    options: QuotaOptions = field(default_factory=QuotaOptions)
    frequency: Frequency = "month"
    growth_frac: float = 0.10
    forecast_method: Literal["model", "growth"] = "model"
    forecast_frequency: FrequencyName = "month"
    attainment_goal_frac: float = DEFAULT_GOAL_FRAC
    basis_frac: float = 0.0
    forecast_cv_frac: float = DEFAULT_CV_FRAC
    forecast_usd: pd.Series | None = None
    last_quota_cents: pd.Series | None = None
    relief: pd.DataFrame | None = None
    line: QuotaLine = field(default_factory=QuotaLine)

    def __post_init__(self) -> None:
        fiscal_months(self.fiscal_year_start)
        if int(self.target_cents) <= 0:
            raise PlannerError(
                f"line {self.line.name}: target is {self.line.format(self.target_cents)}; "
                "give a positive target"
            )
        if self.line.counts and int(self.target_cents) % HUNDREDTHS:
            raise PlannerError(
                f"line {self.line.name} counts whole {self.line.unit}: a target of "
                f"{int(self.target_cents) / HUNDREDTHS} is not whole"
            )
        if self.forecast_method not in ("model", "growth"):
            raise PlannerError(f"forecast_method is {self.forecast_method!r}; use 'model' or 'growth'")
        frequency_named(self.forecast_frequency)
        check_goal(self.attainment_goal_frac, self.basis_frac, self.forecast_cv_frac)

    @property
    def effective_from(self) -> date:
        """First day of the fiscal year."""
        return pd.Period(self.fiscal_year_start, freq="M").start_time.date()


@dataclass(frozen=True)
class DraftQuotas:
    """One line's allocated and phased quotas before saving: inputs, allocation, periods, total chosen."""

    territories: pd.DataFrame
    allocation: QuotaAllocation
    quotas: pd.DataFrame
    attainment: AttainmentPlan
    line: QuotaLine = field(default_factory=QuotaLine)


def history_before(dataset: Dataset, fiscal_year_start: str) -> Dataset:
    """The data set with bookings before the fiscal year only (what a planner knew then)."""
    start = pd.Period(fiscal_year_start, freq="M").start_time
    bookings = dataset.bookings[dataset.bookings["date"] < start]
    if bookings.empty:
        raise PlannerError(f"no bookings before {fiscal_year_start}: quotas need at least some history")
    return replace(dataset, bookings=bookings)


def fiscal_year_forecast_usd(
    dataset: Dataset, plan: Plan, fiscal_year_start: str, frequency: FrequencyName = "month"
) -> pd.Series:
    """Forecast of each territory's bookings over the fiscal year (USD, by territory_id).

    The forecaster (:class:`planner.forecast.choice.BookingsForecaster`) learns from the
    history by ``frequency`` (whole periods) and forecasts from the period after its last
    to the fiscal year's end, at most two years ahead; the periods that start within the
    fiscal year are summed (a week counts in the year of its Monday).
    """
    period = frequency_named(frequency)
    year_start = pd.Period(fiscal_year_start, freq="M").start_time
    year_end = year_start + pd.DateOffset(years=1)
    last_booked = pd.Timestamp(dataset.bookings["date"].max()).to_period("M")
    if year_start <= last_booked.start_time:
        raise PlannerError(
            f"the fiscal year {fiscal_year_start} must start after the month of the last booking "
            f"({last_booked}); choose a later fiscal year or forecast_method='growth'"
        )
    history = territory_history(dataset, plan, frequency=period)
    ahead = pd.date_range(history.index[-1], year_end - pd.Timedelta(days=1), freq=period.alias)[1:]
    if len(ahead) > 2 * period.season_length:
        raise PlannerError(
            f"the fiscal year {fiscal_year_start} ends more than two years after the last whole "
            f"{period.name} of bookings ({period.labels(history.index[-1:])[0]}); choose an earlier fiscal "
            "year or forecast_method='growth'"
        )
    if period.name == "quarter" and year_start.month not in (1, 4, 7, 10):
        raise PlannerError(
            "a quarterly forecast needs a fiscal year starting on a calendar quarter, not "
            f"{fiscal_year_start}; forecast by month or week"
        )
    fitted = BookingsForecaster(horizon=len(ahead)).fit(history)
    in_year = (fitted.periods_ >= year_start) & (fitted.periods_ < year_end)
    total = fitted.point_[in_year].sum(axis=0)
    return pd.Series(
        np.maximum(total, 0.0), index=pd.Index(fitted.series_, name="territory_id"), name="forecast_usd"
    )


def relief_fracs(relief: pd.DataFrame | None, fiscal_year_start: str, plan: Plan) -> pd.Series | None:
    """Share of the fiscal year each territory is uncovered, from rows (territory_id, start, end)."""
    if relief is None or relief.empty:
        return None
    missing = [c for c in ("territory_id", "start", "end") if c not in relief.columns]
    if missing:
        raise PlannerError(f"relief table lacks column(s) {missing}; give territory_id, start, end")
    unknown = sorted(set(relief["territory_id"].astype(str)) - set(plan.territories))
    if unknown:
        raise PlannerError(f"relief for unknown territories {unknown[:10]}; use territory ids of the plan")
    shares = [
        prorated_relief_frac(row.start, row.end, fiscal_year_start) for row in relief.itertuples(index=False)
    ]
    total = pd.Series(shares, index=relief["territory_id"].astype(str).to_numpy()).groupby(level=0).sum()
    return total.clip(upper=1.0)


def read_relief_file(path: str | Path, plan: Plan) -> pd.DataFrame:
    """Read a relief CSV (``territory_id``, ``start``, ``end``: dates YYYY-MM-DD, inclusive).

    Raises :class:`InputError` naming every bad row and column: an unknown territory, a
    date that does not parse, an end before its start.
    """
    path = Path(path)
    frame, problems = read_csv_table(path, ("territory_id", "start", "end"))
    if frame is None:
        raise InputError(problems)
    territories = set(plan.territories)
    for position, row in enumerate(frame.itertuples(index=False)):
        where = {"row": sheet_row(position)}
        if row.territory_id.strip() not in territories:
            problems.append(
                Problem(
                    path.name,
                    f"unknown territory '{row.territory_id}'",
                    f"use a territory of the plan (e.g. {', '.join(sorted(territories)[:5])})",
                    column="territory_id",
                    **where,
                )
            )
        dates = {}
        for column in ("start", "end"):
            try:
                dates[column] = date.fromisoformat(getattr(row, column).strip())
            except ValueError:
                problems.append(
                    Problem(
                        path.name,
                        f"'{getattr(row, column)}' is not a date",
                        "write dates as YYYY-MM-DD",
                        column=column,
                        **where,
                    )
                )
        if len(dates) == 2 and dates["end"] < dates["start"]:
            problems.append(
                Problem(path.name, "ends before it starts", "swap start and end", column="end", **where)
            )
    if problems:
        raise InputError(problems)
    return frame.assign(territory_id=frame["territory_id"].str.strip())


def draft_quotas(dataset: Dataset, plan: Plan, request: QuotaRequest) -> DraftQuotas:
    """Allocate ``request.target_cents`` of its line to the plan's territories and phase it by seasonality.

    The line's bookings give the history, forecast and seasonality, its potential measure the
    potential; a count line's quotas are whole units (:mod:`planner.quota.lines`).
    """
    line = request.line
    known = history_before(line_dataset(line, dataset), request.fiscal_year_start)
    forecast = request.forecast_usd
    if forecast is None and request.forecast_method == "model":
        forecast = fiscal_year_forecast_usd(
            known, plan, request.fiscal_year_start, request.forecast_frequency
        )
    territories = quota_territories(
        known,
        plan,
        fiscal_year_start=request.fiscal_year_start,
        forecast_usd=forecast,
        growth_frac=request.growth_frac,
        last_quota_cents=request.last_quota_cents,
        relief_frac=relief_fracs(request.relief, request.fiscal_year_start, plan),
        potential_measure=line.potential,
    )
    allocation = allocate_quotas(int(request.target_cents), territories, request.options, amount=line.format)
    low, high = quota_bounds(territories, request.options)
    attainment = attainment_plan(
        allocation.quotas_cents.to_numpy(dtype=np.float64),
        low,
        high,
        territories["forecast_usd"].to_numpy(),
        allocation.total_cents,
        goal_frac=request.attainment_goal_frac,
        basis_frac=request.basis_frac,
        forecast_cv_frac=request.forecast_cv_frac,
    )
    if line.counts:
        # Whole units: the goal's total rounded down (it still meets the goal), the choice rounded.
        implied = attainment.implied_total_cents // HUNDREDTHS * HUNDREDTHS
        target = attainment.target_total_cents
        chosen = round((target + request.basis_frac * (implied - target)) / HUNDREDTHS) * HUNDREDTHS
        attainment = replace(attainment, implied_total_cents=implied, chosen_total_cents=chosen)
    chosen = attainment.chosen_total_cents
    if chosen != allocation.total_cents:
        allocation = allocate_quotas(
            int(request.target_cents), territories, request.options, total_cents=chosen, amount=line.format
        )
    if line.counts:
        table = allocation.table.assign(
            quota_cents=whole_units(allocation.quotas_cents, allocation.total_cents)
        )
        allocation = replace(allocation, table=table)
    seasonality = seasonality_from_history(known.bookings)
    annual = allocation.quotas_cents // HUNDREDTHS if line.counts else allocation.quotas_cents
    quotas = phase_quotas(annual, seasonality, request.frequency, request.fiscal_year_start)
    if line.counts:
        quotas["quota_cents"] *= HUNDREDTHS
    return DraftQuotas(territories, allocation, quotas, attainment, line)


def draft_lines(dataset: Dataset, plan: Plan, requests: list[QuotaRequest]) -> list[DraftQuotas]:
    """Draft every quota line of a version (one request per line, each with its own target and options)."""
    check_lines([request.line for request in requests])
    return [draft_quotas(dataset, plan, request) for request in requests]
