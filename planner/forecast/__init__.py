"""Forecast and capacity: bookings history, the forecaster that picks a model per territory, capacity."""

from planner.forecast.backtest import BacktestResult, backtest
from planner.forecast.capacity import CapacityInputs, plan_capacity
from planner.forecast.choice import BookingsForecaster
from planner.forecast.frequency import Frequency, frequency_named, infer_frequency
from planner.forecast.territories import fit_territories, forecast_territories

__all__ = [
    "BacktestResult",
    "BookingsForecaster",
    "CapacityInputs",
    "Frequency",
    "backtest",
    "fit_territories",
    "forecast_territories",
    "frequency_named",
    "infer_frequency",
    "plan_capacity",
]
