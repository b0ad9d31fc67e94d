"""Forecast and capacity: bookings history, the forecaster, its backtest and the sales capacity model."""

from planner.forecast.backtest import BacktestResult, backtest
from planner.forecast.capacity import CapacityInputs, plan_capacity
from planner.forecast.model import BookingsForecaster, SeasonalNaiveForecaster, forecast_territories

__all__ = [
    "BacktestResult",
    "BookingsForecaster",
    "CapacityInputs",
    "SeasonalNaiveForecaster",
    "backtest",
    "forecast_territories",
    "plan_capacity",
]
