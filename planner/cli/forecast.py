"""``planner forecast`` and ``planner capacity``: bookings forecast with its backtest, and sales capacity.

Both read a data set (files or directories, as ``planner validate``); ``--plan-dir``
takes another plan (``alignment.csv`` + ``territory_reps.csv``, as written by
``planner optimize``) whose territories the history is re-aggregated to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from planner.cli.common import console, fail, progress_bar
from planner.data.dataset import Dataset, load_dataset
from planner.errors import PlannerError
from planner.forecast.backtest import BASELINE, CHOSEN, BacktestResult, backtest, default_methods
from planner.forecast.capacity import CapacityPlan, CapacityRequest, plan_capacity_for
from planner.forecast.frequency import frequency_named
from planner.forecast.history import territory_history
from planner.forecast.territories import fit_territories, forecast_table
from planner.money import format_usd
from planner.plans.files import read_plan
from planner.plans.plan import Plan

DataArgument = Annotated[
    list[Path], typer.Argument(help="Data set files and/or directories (as for validate).")
]
PlanOption = Annotated[
    Path | None,
    typer.Option(
        "--plan-dir", help="Directory with alignment.csv and territory_reps.csv (default: current plan)."
    ),
]


def _load(data: list[Path], plan_dir: Path | None) -> tuple[Dataset, Plan]:
    try:
        dataset = load_dataset(*data)
        plan = read_plan(plan_dir, dataset.units.index) if plan_dir else dataset.plan
    except (PlannerError, OSError) as exc:
        raise fail(exc) from exc
    return dataset, plan


def _print_backtest(result: BacktestResult) -> None:
    table = result.table("band")
    methods = result.methods
    out = Table(
        f"{result.frequency.plural} ahead",
        *[f"WAPE {m}" for m in methods],
        "chosen vs naive",
        "MASE chosen",
        "MASE naive",
        "coverage chosen",
        title="Backtest: chosen models, seasonal naive and each model alone (rolling origins, no look-ahead)",
    )
    for band, row in table.iterrows():
        out.add_row(
            str(band),
            *[f"{row[f'wape_{m}']:.3f}" for m in methods],
            f"{row['wape_change_pct']:+.1f}%",
            f"{row[f'mase_{CHOSEN}']:.3f}",
            f"{row[f'mase_{BASELINE}']:.3f}",
            f"{row[f'coverage_{CHOSEN}']:.0%}",
        )
    console.print(out)
    picked = result.choices().loc[CHOSEN]
    console.print(
        f"origins (last {result.frequency.name} observed): {', '.join(result.origins)}; chosen (territory x "
        f"origin): {', '.join(f'{name} {count}' for name, count in picked.items() if count)}"
    )


def forecast_command(
    data: DataArgument,
    plan_dir: PlanOption = None,
    frequency: Annotated[
        str, typer.Option(help="Period of the history and the forecast: month, quarter or week.")
    ] = "month",
    horizon: Annotated[int | None, typer.Option(help="Periods ahead to forecast (default: a year).")] = None,
    coverage: Annotated[float, typer.Option(help="Nominal coverage of the intervals (0-1).")] = 0.8,
    out: Annotated[
        Path | None, typer.Option("--out", help="CSV for the forecast (territory_id, period, ...).")
    ] = None,
    run_backtest: Annotated[
        bool,
        typer.Option("--backtest/--no-backtest", help="Also backtest against seasonal naive and each model."),
    ] = True,
    origins: Annotated[int, typer.Option(help="Backtest forecast origins.")] = 4,
    step: Annotated[
        int | None,
        typer.Option(help="Periods between backtest origins (default: 2 months, 1 quarter, 8 weeks)."),
    ] = None,
) -> None:
    """Forecast each territory's bookings with intervals, the model chosen per territory; backtest it.

    Each territory gets the model (seasonal naive, ETS, Theta, global gradient boosting or
    their mean) with the lowest error on its own held-out periods. Writes the forecast (one
    row per territory and period, with the model) to --out and prints the backtest: WAPE
    per horizon band for every method, MASE and interval coverage.
    """
    dataset, plan = _load(data, plan_dir)
    try:
        period = frequency_named(frequency)
        history = territory_history(dataset, plan, frequency=period)
        with progress_bar("fitting the candidate models") as progress:
            fitted = fit_territories(
                dataset, plan, frequency=period, horizon=horizon, coverage=coverage, progress=progress
            )
        forecast = forecast_table(fitted)
        season = period.season_length
        last_year = history.iloc[-season:].sum()
        totals = forecast.groupby("territory_id")["forecast_usd"].sum()
        ahead = len(fitted.periods_)
        table = Table(
            "territory",
            "model",
            "held-out WAPE",
            "naive held-out WAPE",
            f"last {season} {period.plural}",
            f"next {ahead} {period.plural}",
            "change",
            title=f"Forecast: {plan.name}",
        )
        for territory, total in totals.items():
            before = float(last_year.get(territory, 0.0))
            model = fitted.choice_[territory]
            table.add_row(
                str(territory),
                model,
                f"{fitted.validation_.loc[territory, model]:.1%}",
                f"{fitted.validation_.loc[territory, BASELINE]:.1%}",
                format_usd(usd=before, decimals=0),
                format_usd(usd=total, decimals=0),
                f"{100 * (total / before - 1):+.1f}%" if before else "",
            )
        table.add_row(
            "all",
            "",
            "",
            "",
            format_usd(usd=last_year.sum(), decimals=0),
            format_usd(usd=totals.sum(), decimals=0),
            "",
        )
        console.print(table)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            forecast.to_csv(out, index=False)
            console.print(f"wrote {out}")
        if run_backtest:
            with progress_bar("backtesting") as progress:
                result = backtest(
                    history,
                    default_methods(coverage),
                    horizon=horizon,
                    coverage=coverage,
                    n_origins=origins,
                    step=step,
                    progress=progress,
                )
            _print_backtest(result)
    except PlannerError as exc:
        raise fail(exc) from exc


def _parse_range(text: str, name: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split(":"))
    except ValueError as exc:
        raise typer.BadParameter(f"{name} '{text}': write low:high, e.g. 0.01:0.03") from exc
    return low, high


def _parse_hires(items: list[str]) -> dict[str, int]:
    hires: dict[str, int] = {}
    for item in items:
        month, _, count = item.partition(":")
        try:
            hires[month] = hires.get(month, 0) + int(count)
        except ValueError as exc:
            raise typer.BadParameter(f"--hire '{item}': write YYYY-MM:count, e.g. 2027-01:2") from exc
    return hires


def capacity_command(
    data: DataArgument,
    target_usd: Annotated[float, typer.Option(help="Bookings target over the plan's months (USD).")],
    ramped_annual_usd: Annotated[
        float, typer.Option(help="Yearly quota (or expected bookings) of a fully ramped rep, USD.")
    ],
    start: Annotated[
        str | None, typer.Option(help="First month YYYY-MM (default: the month after the last booking).")
    ] = None,
    months: Annotated[int, typer.Option(help="Months in the plan.")] = 12,
    ramp: Annotated[
        str, typer.Option(help="Share of full productivity by month of tenure, ending at 1.")
    ] = "0.1,0.25,0.5,0.75,1",
    attainment: Annotated[float, typer.Option(help="Expected attainment of quota (0-1).")] = 0.9,
    attainment_range: Annotated[str, typer.Option(help="Worst:best attainment.")] = "0.8:0.95",
    attrition: Annotated[float, typer.Option(help="Monthly attrition rate (0-1).")] = 0.015,
    attrition_range: Annotated[str, typer.Option(help="Best:worst monthly attrition.")] = "0.01:0.025",
    backfill_months: Annotated[int, typer.Option(help="Months a leaver's seat stays empty.")] = 2,
    hire: Annotated[list[str] | None, typer.Option(help="Planned hires YYYY-MM:count; repeatable.")] = None,
    max_hires_per_month: Annotated[
        int | None, typer.Option(help="Most extra hires that can start in one month.")
    ] = None,
    seasonal: Annotated[
        bool, typer.Option("--seasonal/--even", help="Spread the target like past bookings, or evenly.")
    ] = True,
    out: Annotated[Path | None, typer.Option("--out", help="CSV of capacity by month and scenario.")] = None,
) -> None:
    """Plan sales capacity: ramped headcount, bookings capacity, coverage and hires needed by month.

    Current reps and their hire dates come from the data set (managers left out; reps
    with status 'leaving' leave after the first month). Prints the base case by month
    and the best/base/worst scenarios.
    """
    try:
        ramp_frac = tuple(float(x) for x in ramp.split(","))
    except ValueError as exc:
        console.print(f"[red]--ramp '{ramp}': give shares separated by commas, e.g. 0.25,0.5,1[/]")
        raise typer.Exit(code=1) from exc
    dataset, _ = _load(data, None)
    request = CapacityRequest(
        target_usd=target_usd,
        ramped_annual_usd=ramped_annual_usd,
        ramp_frac=ramp_frac,
        attainment_frac=attainment,
        attainment_range_frac=_parse_range(attainment_range, "--attainment-range"),
        attrition_monthly_frac=attrition,
        attrition_range_frac=_parse_range(attrition_range, "--attrition-range"),
        backfill_months=backfill_months,
        start_month=start or None,
        n_months=months,
        planned_hires=_parse_hires(hire or []),
        max_hires_per_month=max_hires_per_month,
        seasonal=seasonal,
    )
    try:
        capacity = plan_capacity_for(dataset, request)
    except PlannerError as exc:
        raise fail(exc) from exc
    _print_capacity(capacity)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        capacity.by_month().to_csv(out, index=False)
        console.print(f"wrote {out}")


def _print_capacity(capacity: CapacityPlan) -> None:
    """The base case by month, the scenarios and a warning per scenario that misses the target."""
    table = Table(
        "month",
        "target",
        "headcount",
        "ramped eq.",
        "capacity",
        "coverage",
        "hires needed",
        title="Capacity: base",
    )
    for month, row in capacity.base.by_month.iterrows():
        table.add_row(
            str(month),
            format_usd(usd=row["target_usd"], decimals=0),
            f"{row['headcount']:.1f}",
            f"{row['ramped_equivalent']:.1f}",
            format_usd(usd=row["capacity_usd"], decimals=0),
            f"{row['coverage_frac']:.0%}",
            str(int(row["hires_needed"])),
        )
    console.print(table)
    summary = Table("scenario", "capacity", "coverage", "hires needed", "gap after hires", title="Scenarios")
    for name, row in capacity.summary().iterrows():
        summary.add_row(
            str(name),
            format_usd(usd=row["capacity_usd"], decimals=0),
            f"{row['coverage_frac']:.0%}",
            str(int(row["hires_needed"])),
            format_usd(usd=row["gap_after_hires_usd"], decimals=0),
        )
    console.print(summary)
    for name, result in capacity.scenarios.items():
        if not result.reachable:
            console.print(
                f"[yellow]{name}: the target is out of reach within the plan's months even with the hires "
                f"above ({format_usd(usd=result.gap_usd, decimals=0)} short); start hires earlier or allow "
                "more per month[/]"
            )
