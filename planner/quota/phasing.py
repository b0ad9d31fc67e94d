"""Phase annual quotas into months or quarters from the seasonality of past bookings.

Seasonality (:func:`seasonality_from_history`) is 12 weights, one per calendar month,
summing to 1. It is estimated from whole 12-month blocks of history counted back from
the last booked month (the oldest partial block is dropped; per group, history starts
at the group's first booking): within each block, each calendar month's share of the
block's bookings; then the mean of those shares over the blocks. Working block by
block removes year-on-year growth, which would otherwise make the most recent months
look seasonally strong; growth within a year is not removed (at 10% a year, the last
month of a block is over-weighted by about 5% against the first).

Short or noisy history is shrunk toward a prior (flat 1/12 by default, or e.g. the
company-wide profile when estimating per territory)::

    weights = w * observed + (1 - w) * prior

By default ``w`` is estimated from the data (positive-part James-Stein): with ``n >= 2``
whole years, the noise of the observed mean is ``v = mean over months of var(yearly
shares) / n`` and its spread around the prior is ``s = mean over months of (observed -
prior)^2``; then ``w = max(0, 1 - v / s)``. A profile that repeats year after year is
kept (``w`` near 1); one that looks like noise around the prior falls back to the
prior (``w`` near 0). With one whole year, ``w = 1/2``; with none, the prior. With a
fixed ``shrinkage_years = k`` instead, ``w = n / (n + k)``: ``k`` years of pseudo-history
for the prior. The quota benchmark backtests these choices on the demo.

:func:`phase_quotas` splits each territory's annual quota over the 12 months of the
fiscal year (or its 4 quarters) in proportion to those weights, with largest-remainder
rounding so each territory's periods sum exactly to its annual quota. The result is a
quota table as :mod:`planner.plans.approved` defines it (``territory_id``, ``period`` as
``YYYY-MM`` or ``YYYY-Qn``, ``quota_cents``). Quarterly phasing needs a fiscal year that
starts in January, April, July or October, so each fiscal quarter is a calendar quarter
and its ``YYYY-Qn`` label is unambiguous.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from planner.errors import InputError, PlannerError, Problem
from planner.money import round_to_total

MONTHS = pd.RangeIndex(1, 13, name="month")
Frequency = Literal["month", "quarter"]


def fiscal_months(fiscal_year_start: str) -> pd.PeriodIndex:
    """The 12 monthly periods of the fiscal year starting at ``'YYYY-MM'``.

    Examples
    --------
    >>> [str(p) for p in fiscal_months("2026-07")[[0, -1]]]
    ['2026-07', '2027-06']
    """
    if not isinstance(fiscal_year_start, str) or not re.fullmatch(
        r"\d{4}-(0[1-9]|1[0-2])", fiscal_year_start
    ):
        raise PlannerError(
            f"fiscal_year_start is {fiscal_year_start!r}; give the first month as 'YYYY-MM', e.g. '2027-01'"
        )
    return pd.period_range(pd.Period(fiscal_year_start, freq="M"), periods=12, freq="M")


def seasonality_from_history(
    bookings: pd.DataFrame,
    *,
    by: str | None = None,
    shrinkage_years: float | None = None,
    prior: pd.Series | None = None,
) -> pd.Series | pd.DataFrame:
    """Monthly seasonality weights from bookings history, shrunk toward a prior.

    Parameters
    ----------
    bookings : pandas.DataFrame
        One row per booking: ``date`` (datetime) and ``amount_usd``; plus the column
        named by ``by`` for per-group weights (e.g. ``territory_id``).
    by : str, optional
        Group column; None gives one company-wide profile.
    shrinkage_years : float, optional
        Years of pseudo-history given to the prior; None (default) estimates the
        shrinkage from the year-to-year noise (see the module docstring).
    prior : pandas.Series, optional
        12 weights indexed by month 1-12 to shrink toward; flat (1/12 each) when None.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Weights indexed by month 1-12 summing to 1 (Series); with ``by``, one row per
        group and columns 1-12 (DataFrame).
    """
    missing = [c for c in ("date", "amount_usd", *([by] if by else [])) if c not in bookings.columns]
    if missing:
        raise InputError(
            [Problem("bookings", f"missing column(s) {missing}", "give date, amount_usd (and the group)")]
        )
    if shrinkage_years is not None and shrinkage_years < 0:
        raise PlannerError(f"shrinkage_years is {shrinkage_years}; give a number of years >= 0, e.g. 1")
    base = _check_weights(prior, "prior") if prior is not None else pd.Series(1 / 12, index=MONTHS)
    if by is not None:
        bookings = bookings[bookings[by].notna()]  # e.g. accounts outside every territory
    if len(bookings) == 0:
        return base.rename("weight") if by is None else pd.DataFrame(columns=MONTHS, dtype=np.float64)
    dates = pd.to_datetime(bookings["date"])
    month_number = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()
    months_back = month_number.max() - month_number
    frame = pd.DataFrame(
        {
            "group": bookings[by].to_numpy() if by else 0,
            "block": months_back // 12,
            "month": dates.dt.month.to_numpy(),
            "amount": bookings["amount_usd"].to_numpy(dtype=np.float64),
        }
    )
    # a group's history runs from its first booking to the last month of all bookings
    first_back = pd.Series(months_back).groupby(frame["group"].to_numpy()).transform("max").to_numpy()
    whole_blocks = (first_back + 1) // 12
    frame = frame[frame["block"].to_numpy() < whole_blocks]
    totals = frame.pivot_table(
        index=["group", "block"], columns="month", values="amount", aggfunc="sum", fill_value=0.0
    ).reindex(columns=MONTHS, fill_value=0.0)
    block_sums = totals.sum(axis=1)
    shares = totals[block_sums > 0].div(block_sums[block_sums > 0], axis=0)
    groups = pd.Index(pd.unique(bookings[by]) if by else [0], name=by)
    by_group = shares.groupby(level="group")
    observed = by_group.mean().reindex(groups, fill_value=0.0).to_numpy()
    n = by_group.size().reindex(groups, fill_value=0).to_numpy(dtype=np.float64)[:, None]
    prior_row = base.to_numpy()[None, :]
    if shrinkage_years is None:
        noise = (by_group.var(ddof=1).reindex(groups).to_numpy() / np.maximum(n, 1)).mean(
            axis=1, keepdims=True
        )
        spread = ((observed - prior_row) ** 2).mean(axis=1, keepdims=True)
        ratio = np.divide(noise, spread, out=np.ones_like(spread), where=spread > 0)
        trust = np.where(n >= 2, np.clip(1 - np.nan_to_num(ratio, nan=1.0), 0.0, 1.0), n / (n + 1))
    else:
        trust = np.divide(n, n + shrinkage_years, out=np.zeros_like(n), where=n + shrinkage_years > 0)
    weights = trust * observed + (1 - trust) * prior_row
    result = pd.DataFrame(weights, index=groups, columns=MONTHS)
    return result.iloc[0].rename("weight") if by is None else result.sort_index()


def phase_quotas(
    annual: pd.Series,
    seasonality: pd.Series | pd.DataFrame,
    frequency: Frequency = "month",
    fiscal_year_start: str = "2027-01",
) -> pd.DataFrame:
    """Split annual quotas into periods in proportion to seasonality, summing exactly per territory.

    Parameters
    ----------
    annual : pandas.Series
        Annual quota per territory, whole cents (int), indexed by ``territory_id``.
    seasonality : pandas.Series or pandas.DataFrame
        12 weights indexed by calendar month 1-12 (company-wide), or a DataFrame with one
        row per territory and columns 1-12. Weights need not sum to 1.
    frequency : {"month", "quarter"}
        Monthly periods ``'YYYY-MM'`` or quarterly ``'YYYY-Qn'``.
    fiscal_year_start : str
        First month of the fiscal year, ``'YYYY-MM'``; for quarters it must be January,
        April, July or October.

    Returns
    -------
    pandas.DataFrame
        ``territory_id``, ``period``, ``quota_cents`` (int64): 12 or 4 rows per territory,
        in period order; a quota table for :class:`planner.plans.approved.ApprovedPlan`.

    Examples
    --------
    >>> annual = pd.Series({"T1": 100}, name="quota_cents")
    >>> flat = pd.Series(1.0, index=range(1, 13))
    >>> phase_quotas(annual, flat, "quarter", "2027-01")["quota_cents"].tolist()
    [25, 25, 25, 25]
    """
    months = fiscal_months(fiscal_year_start)
    if frequency not in ("month", "quarter"):
        raise PlannerError(f"frequency is {frequency!r}; use 'month' or 'quarter'")
    if frequency == "quarter" and months[0].month not in (1, 4, 7, 10):
        raise PlannerError(
            "quarterly phasing needs a fiscal year starting in Jan, Apr, Jul or Oct, not "
            f"{fiscal_year_start}; phase by month, or start the fiscal year on a calendar quarter"
        )
    cents = _check_annual(annual)
    if isinstance(seasonality, pd.DataFrame):
        table = seasonality.rename(columns=int)
        absent = cents.index.difference(table.index.astype(str))
        if len(absent):
            raise PlannerError(
                f"no seasonality for territories {absent[:10].tolist()}; give a row per territory "
                "or one company-wide Series"
            )
        table.index = table.index.astype(str)
        weights = np.vstack(
            [
                _check_weights(row, f"seasonality of {t}").to_numpy()
                for t, row in table.loc[cents.index].iterrows()
            ]
        )
    else:
        weights = np.tile(_check_weights(seasonality, "seasonality").to_numpy(), (len(cents), 1))
    by_fiscal_month = weights[:, months.month - 1]
    labels = months.strftime("%Y-%m")
    if frequency == "quarter":
        by_fiscal_month = by_fiscal_month.reshape(len(cents), 4, 3).sum(axis=2)
        labels = [f"{p.year}-Q{p.quarter}" for p in months[::3]]
    shares = by_fiscal_month / by_fiscal_month.sum(axis=1, keepdims=True)
    amounts = cents.to_numpy()
    rounded = round_to_total(shares * amounts[:, None], amounts)
    return pd.DataFrame(
        {
            "territory_id": np.repeat(cents.index.to_numpy(dtype=object), len(labels)),
            "period": np.tile(np.asarray(labels, dtype=object), len(cents)),
            "quota_cents": rounded.ravel().astype(np.int64),
        }
    )


def _check_annual(annual: pd.Series) -> pd.Series:
    values = pd.to_numeric(annual, errors="coerce")
    bad = values.isna() | (values < 0) | (values != values.round())
    if bad.any():
        sample = annual[bad].head(5).to_dict()
        raise PlannerError(f"annual quotas must be whole cents >= 0; got {sample}")
    index = pd.Index(annual.index.astype(str), name="territory_id")
    if index.has_duplicates:
        raise PlannerError(f"territories given twice: {index[index.duplicated()][:10].tolist()}")
    return pd.Series(values.to_numpy(dtype=np.int64), index=index)


def _check_weights(weights: pd.Series, what: str) -> pd.Series:
    """12 finite, non-negative weights indexed by month 1-12, normalised to sum 1."""
    try:
        series = pd.Series(weights, dtype=np.float64)
        series.index = series.index.astype(int)
    except (TypeError, ValueError) as error:
        raise PlannerError(f"{what} must be 12 numbers indexed by month 1-12 ({error})") from error
    if sorted(series.index) != list(MONTHS):
        raise PlannerError(f"{what} is indexed by {sorted(series.index)[:13]}; index it by months 1-12")
    if not np.isfinite(series).all() or (series < 0).any() or series.sum() <= 0:
        raise PlannerError(
            f"{what} weights must be finite, >= 0 and not all 0; got {series.round(4).tolist()}"
        )
    return (series / series.sum()).reindex(MONTHS)
