"""Forecast benchmark: the forecaster that chooses per series against seasonal naive and its candidates alone.

Baseline: seasonal naive (each period forecast by the same period a season earlier; in
the M5 competition only about a third of teams beat it), and each candidate alone (ETS,
Theta, the global gradient-boosting model), all in the same run, on the same origins,
with the same conformal intervals. Data:

- the demo data set: 36 months of bookings in the 50 territories of the current plan,
  4 origins 2 months apart (the last with 12 months of outcomes), timed;
- the real public series of :mod:`benchmarks.forecast_series` (monthly, quarterly and
  weekly; single series and panels), with the protocol fixed there: see
  :mod:`benchmarks.bench_forecast_real`.

Every forecast, and every model choice, is fitted only on the periods before its origin.
A panel member counts as a series of its own. "Pooled" is the geometric mean over series
of the WAPE ratio to seasonal naive (scale-free: a series in millions weighs as much as
one in units) and the mean MASE. Goals (issue 18): on every series the chosen
forecaster's WAPE at most 5% above seasonal naive's overall and 10% per horizon band,
pooled at least 10% below; 80% intervals covering 75-85% on every series; the demo
backtest under 10 s and at least 10% below seasonal naive.
"""

from __future__ import annotations

import time

import pandas as pd

from planner.data.demo import load_demo
from planner.forecast.backtest import BASELINE, CHOSEN, BacktestResult, backtest
from planner.forecast.history import territory_history


def per_series(result: BacktestResult) -> pd.DataFrame:
    """WAPE per method, series and band (``all`` for overall), MASE and coverage per method and series."""
    frame = result.forecasts.assign(abs_error=lambda f: (f["actual_usd"] - f["forecast_usd"]).abs())
    frame["inside"] = frame["actual_usd"].between(frame["lower_usd"], frame["upper_usd"])
    frame["scaled"] = (frame["abs_error"] / frame["mase_scale_usd"]).where(frame["mase_scale_usd"] > 0)
    rows = []
    for (method, series), part in frame.groupby(["method", "series_id"], sort=False):
        row = {"method": method, "series": series}
        row["all"] = part["abs_error"].sum() / part["actual_usd"].sum()
        for band, piece in part.groupby("band", sort=False):
            row[band] = piece["abs_error"].sum() / piece["actual_usd"].sum()
        row["mase"] = part["scaled"].mean()
        row["coverage"] = part["inside"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


def demo_rows() -> list[dict]:
    history = territory_history(load_demo())
    start = time.perf_counter()
    result = backtest(history, n_origins=4, step=2)
    seconds = time.perf_counter() - start
    table = result.table("band")
    baseline = table.loc["all", f"wape_{BASELINE}"]
    rows = []
    for method in result.methods:
        row = {"data": "demo: 50 territories x 36 months, 4 origins", "method": method}
        row["WAPE"] = table.loc["all", f"wape_{method}"]
        row["vs naive"] = f"{100 * (row['WAPE'] / baseline - 1):+.1f}%"
        for band in result.frequency.band_labels(12):
            row[f"WAPE {band}"] = table.loc[band, f"wape_{method}"]
        row["MASE"] = table.loc["all", f"mase_{method}"]
        row["80% coverage"] = f"{table.loc['all', f'coverage_{method}']:.1%}"
        row["seconds (all methods)"] = seconds if method == CHOSEN else None
        rows.append(row)
    return rows


def run() -> list[dict]:
    return demo_rows()
