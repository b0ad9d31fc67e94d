"""Periods of a history: inference, clear errors for gaps and odd dates, bands, histories by period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlannerError
from planner.forecast.frequency import MONTH, QUARTER, WEEK, check_history, infer_frequency
from planner.forecast.history import bookings_history
from planner.plans.plan import Plan


def frame(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"T1": np.arange(len(index), dtype=float)}, index=index)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.date_range("2024-01-01", periods=20, freq="MS"), MONTH),
        (pd.date_range("2023-04-01", periods=9, freq="QS-JAN"), QUARTER),
        (pd.date_range("2024-12-30", periods=60, freq="W-MON"), WEEK),
    ],
)
def test_the_period_is_inferred_from_the_dates(index, expected):
    assert infer_frequency(index) == expected
    values, frequency = check_history(frame(index))
    assert frequency == expected and values.shape == (len(index), 1)


def test_a_gap_is_named_with_the_fix():
    months = pd.date_range("2024-01-01", periods=20, freq="MS").delete(7)
    with pytest.raises(
        PlannerError,
        match=r"gap .* after 2024-07-01: the next month is 2024-08-01, the history has "
        r"2024-09-01; add the missing months with 0 bookings",
    ):
        check_history(frame(months))
    weeks = pd.date_range("2025-01-06", periods=30, freq="W-MON").delete([3, 4])
    with pytest.raises(PlannerError, match="after 2025-01-20: the next week is 2025-01-27"):
        check_history(frame(weeks))


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (
            pd.date_range("2024-01-15", periods=12, freq="MS") + pd.Timedelta(days=14),
            "not the start of a month",
        ),
        (pd.date_range("2024-02-01", periods=8, freq="QS-FEB"), "not the start of a quarter"),
        (pd.date_range("2024-01-02", periods=30, freq="W-TUE"), "not the start of a week"),
        (pd.date_range("2024-01-01", periods=30, freq="D"), "1 days apart"),
        (pd.RangeIndex(12), "period starts"),
        (pd.date_range("2024-01-01", periods=12, freq="MS")[::-1], "increasing"),
    ],
)
def test_irregular_dates_get_a_clear_error(index, message):
    with pytest.raises(PlannerError, match=message):
        check_history(frame(index))


def test_values_and_the_asked_frequency_are_checked():
    months = pd.date_range("2024-01-01", periods=14, freq="MS")
    bad = frame(months)
    bad.iloc[3, 0] = np.nan
    with pytest.raises(PlannerError, match=r"missing or infinite value \(T1, 2024-04-01\)"):
        check_history(bad)
    bad.iloc[3, 0] = -5.0
    with pytest.raises(PlannerError, match=r"negative bookings \(T1, 2024-04-01: -5\)"):
        check_history(bad)
    with pytest.raises(PlannerError, match="history is monthly but quarterly was asked for"):
        check_history(frame(months), frequency="quarter")
    with pytest.raises(PlannerError, match="needs at least 20"):
        check_history(frame(months), min_periods=20)


def test_horizon_bands_read_alike_at_every_frequency():
    assert MONTH.band_labels(12) == ["1-3", "4-6", "7-12"]
    assert QUARTER.band_labels(4) == ["1", "2", "3-4"]
    assert WEEK.band_labels(52) == ["1-13", "14-26", "27-52"]
    assert MONTH.band_labels(24) == ["1-3", "4-6", "7-12", "13-24"]
    assert MONTH.band_labels(5) == ["1-3", "4-5"]
    assert MONTH.band_of(7).tolist() == ["1-3"] * 3 + ["4-6"] * 3 + ["7"]
    assert QUARTER.labels(pd.DatetimeIndex(["2026-07-01"])) == ["2026-Q3"]


BOOKINGS = pd.DataFrame(
    {
        "date": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-03-02", "2026-03-31", "2026-07-01"]),
        "amount_usd": [10.0, 20.0, 5.0, 1.0, 7.0],
        "unit_id": ["u1", "u2", "u3", "u1", "u2"],
    }
)
PLAN = Plan(pd.Series({"u1": "T1", "u2": "T2", "u3": "T2"}))


def test_bookings_sum_by_quarter_and_by_week():
    # Bookings run from January to July 2026: July alone is not a whole quarter, so it is left out
    # (it would look like a quarter with a seventh of the bookings).
    quarters = bookings_history(BOOKINGS, PLAN, frequency="quarter")
    assert quarters.index.strftime("%Y-%m-%d").tolist() == ["2026-01-01", "2026-04-01"]
    assert quarters.to_numpy().tolist() == [[11, 25], [0, 0]]
    weeks = bookings_history(BOOKINGS, PLAN, frequency="week")
    # 1 January 2026 is a Thursday: the first whole week starts Monday 5 January; the last ends 26 July.
    assert weeks.index[0] == pd.Timestamp("2026-01-05") and weeks.index[-1] == pd.Timestamp("2026-07-20")
    assert infer_frequency(weeks.index) == WEEK
    assert weeks.loc["2026-03-30", "T1"] == 1.0 and weeks.loc["2026-06-29", "T2"] == 7.0
    assert len(weeks) == 29 and weeks.sum().sum() == BOOKINGS["amount_usd"].sum()
    with pytest.raises(PlannerError, match="do not span one whole quarter"):
        bookings_history(BOOKINGS.iloc[:2], PLAN, frequency="quarter")


@settings(max_examples=25, deadline=None)
@given(
    days=st.lists(st.integers(0, 800), min_size=1, max_size=40),
    frequency=st.sampled_from(["month", "quarter", "week"]),
)
def test_every_booking_lands_in_exactly_one_period(days, frequency):
    bookings = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
            "amount_usd": np.arange(1.0, len(days) + 1),
            "unit_id": ["u1", "u2", "u3"] * (len(days) // 3) + ["u1", "u2", "u3"][: len(days) % 3],
        }
    )
    try:
        history = bookings_history(bookings, PLAN, frequency=frequency)
    except PlannerError as error:
        assert "do not span one whole" in str(error)
        return
    end = history.index[-1] + pd.tseries.frequencies.to_offset(
        history.index.freq or {"month": "MS", "quarter": "QS-JAN", "week": "W-MON"}[frequency]
    )
    inside = bookings["date"].between(history.index[0], end - pd.Timedelta(days=1))
    assert history.to_numpy().sum() == pytest.approx(bookings.loc[inside, "amount_usd"].sum())
    if len(history) > 1:
        check_history(history, frequency=frequency)
