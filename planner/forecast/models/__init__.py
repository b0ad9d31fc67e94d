"""The candidate forecasters: seasonal naive, ETS, Theta and the global gradient-boosting model.

Each forecasts one number per series and period (a point forecast); the forecaster of
:mod:`planner.forecast.choice` picks one per series by its held-out errors and gives the
interval.
"""

from planner.forecast.models.base import PointForecaster
from planner.forecast.models.boosting import GlobalBoostingForecaster
from planner.forecast.models.naive import SeasonalNaiveForecaster
from planner.forecast.models.statistical import ETSForecaster, ThetaForecaster

__all__ = [
    "ETSForecaster",
    "GlobalBoostingForecaster",
    "PointForecaster",
    "SeasonalNaiveForecaster",
    "ThetaForecaster",
]
