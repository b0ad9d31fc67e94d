"""Forecast the bookings of a plan's territories, by month, quarter or week."""

from __future__ import annotations

import pandas as pd
from sklearn.base import clone

from planner.data.dataset import Dataset
from planner.forecast.choice import BookingsForecaster
from planner.forecast.frequency import MONTH, Frequency, frequency_named
from planner.forecast.history import territory_history
from planner.plans.plan import Plan
from planner.progress import ProgressCallback

COLUMNS = ["territory_id", "period", "forecast_usd", "lower_usd", "upper_usd", "model"]


def fit_territories(
    dataset: Dataset,
    plan: Plan | None = None,
    *,
    frequency: str | Frequency = MONTH,
    horizon: int | None = None,
    coverage: float = 0.8,
    model: BookingsForecaster | None = None,
    progress: ProgressCallback | None = None,
) -> BookingsForecaster:
    """The forecaster fitted on each territory's bookings history.

    The history is re-aggregated to the territories of ``plan`` (default: the data
    set's current plan) by unit, so the forecast matches the plan being looked at.
    ``model`` gives other settings (it is cloned; ``horizon`` and ``coverage`` are set
    from the arguments).
    """
    history = territory_history(dataset, plan, frequency=frequency_named(frequency))
    template = model if model is not None else BookingsForecaster()
    unfitted = clone(template).set_params(horizon=horizon, coverage=coverage)
    return unfitted.fit(history, progress=progress)


def forecast_table(fitted: BookingsForecaster) -> pd.DataFrame:
    """A fitted forecaster's forecast per territory and period.

    Returns
    -------
    pandas.DataFrame
        ``territory_id``, ``period`` (``'YYYY-MM'``, ``'YYYY-Qn'`` or the week's Monday
        ``'YYYY-MM-DD'``), ``forecast_usd``, ``lower_usd``, ``upper_usd``, ``model`` (the
        candidate chosen for the territory); sorted by territory and period.
    """
    frame = fitted.predict().rename(columns={"series_id": "territory_id"})
    labels = dict(zip(fitted.periods_, fitted.frequency_.labels(fitted.periods_), strict=True))
    frame["period"] = frame["period"].map(labels)
    return frame.sort_values(["territory_id", "horizon"], kind="stable").reset_index(drop=True)[COLUMNS]


def forecast_territories(
    dataset: Dataset,
    plan: Plan | None = None,
    *,
    frequency: str | Frequency = MONTH,
    horizon: int | None = None,
    coverage: float = 0.8,
    model: BookingsForecaster | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Forecast each territory's bookings for the next ``horizon`` periods (default: a year).

    See :func:`fit_territories` for the parameters and :func:`forecast_table` for the result.
    """
    fitted = fit_territories(
        dataset, plan, frequency=frequency, horizon=horizon, coverage=coverage, model=model, progress=progress
    )
    return forecast_table(fitted)
