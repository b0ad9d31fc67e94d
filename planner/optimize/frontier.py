"""The balance-versus-disruption frontier: the same realignment under a ladder of budgets.

Sales ops realign an existing plan every year and want to move few accounts. The least
that must move is known (the transport floor, :func:`planner.plans.metrics.transport_floor`);
:func:`frontier` runs the optimizer from the current plan at budgets of a few multiples of
that floor, and with no budget, and tabulates what each buys: worst deviation and share of
territories within tolerance on the primary measure, compactness, and the units, accounts
and potential moved. A plan made under a smaller budget also fits every bigger one, so each
point keeps the previous point's plan when its own run did no better: more budget never
gives a worse plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from planner.data.adjacency import Adjacency, build_adjacency
from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.optimize.api import (
    OptimizationResult,
    least_realignment_move,
    optimize_dataset,
    with_protected_locks,
)
from planner.optimize.options import OptimizeOptions
from planner.plans.metrics import rep_counts, transport_floor
from planner.progress import ProgressCallback

FLOOR_MULTIPLES = (1.1, 1.25, 1.5, 2.0, None)  # budgets as multiples of the transport floor; None: no budget


@dataclass(frozen=True)
class Frontier:
    """The frontier's table (one row per budget), the result behind each row and two anchors.

    ``transport_floor`` is the least share that must move (the sum of the excesses);
    ``least_move`` the territory model's least move to balance, which counts load passed
    through territories and relocations (:func:`~planner.optimize.api.least_realignment_move`).
    """

    table: pd.DataFrame
    results: tuple[OptimizationResult, ...]
    transport_floor: float
    least_move: float | None


def _worse(result: OptimizationResult, than: OptimizationResult, measure: str) -> bool:
    """True when ``result`` is worse than ``than`` on ``measure`` (worst deviation, then share within)."""
    a, b = result.report.balance.loc[measure], than.report.balance.loc[measure]
    return (a["max_abs_dev"], -a["share_within_tol"]) > (b["max_abs_dev"], -b["share_within_tol"])


def frontier(
    dataset: Dataset,
    *,
    options: OptimizeOptions,
    multiples: Sequence[float | None] = FLOOR_MULTIPLES,
    adjacency: Adjacency | None = None,
    progress: ProgressCallback | None = None,
) -> Frontier:
    """Optimize ``dataset`` from its current plan under budgets of ``multiples`` of the transport floor.

    The budget is a share of ``options.disruption_measure`` (the primary measure when
    unset); ``None`` in ``multiples`` means no budget. Returns the table and the results,
    in the order of ``multiples``.
    """
    if not multiples:
        raise PlannerError("give at least one budget multiple (e.g. 1.1, 1.5, None)")
    bad = [m for m in multiples if m is not None and m <= 0]
    if bad:
        raise PlannerError(
            f"budget multiples {bad} are not positive; give multiples of the floor such as 1.25"
        )
    adjacency = adjacency or build_adjacency(dataset.units)
    measure = options.disruption_measure or options.primary
    floor = transport_floor(
        dataset.plan,
        dataset.units,
        measure,
        rep_counts(dataset.plan),
        tolerance_frac=options.tolerances.get(measure, 0.0),
    )
    notify = progress or (lambda fraction, message: None)
    rows, results = [], []
    previous: OptimizationResult | None = None
    for i, multiple in enumerate(multiples):
        budget = None if multiple is None else min(1.0, multiple * floor)
        label = "no budget" if budget is None else f"{budget:.1%} of {measure}"
        step = lambda f, m, i=i, label=label: notify((i + f) / len(multiples), f"{label}: {m}")  # noqa: E731
        result = optimize_dataset(
            dataset, options=replace(options, max_disruption=budget), adjacency=adjacency, progress=step
        )
        kept = previous is not None and _worse(result, previous, options.primary)
        if kept:
            result = previous
        results.append(result)
        previous = result
        rows.append(_row(result, multiple, budget, floor, options, measure, kept))
    notify(1.0, "frontier done")
    least = least_realignment_move(
        dataset.units, adjacency, dataset.plan, with_protected_locks(dataset, options), dataset.reps
    )
    return Frontier(pd.DataFrame(rows), tuple(results), floor, least)


def _row(
    result: OptimizationResult,
    multiple: float | None,
    budget: float | None,
    floor: float,
    options: OptimizeOptions,
    measure: str,
    kept: bool,
) -> dict:
    """One line of the frontier table."""
    balance = result.report.balance.loc[options.primary]
    disruption = result.report.disruption if result.report.disruption is not None else pd.Series(dtype=float)
    pp = result.report.polsby_popper
    return {
        "floor_multiple": multiple,
        "budget_frac": budget,
        "status": str(result.status),
        f"{options.primary}_max_abs_dev": float(balance["max_abs_dev"]),
        f"{options.primary}_within_tol": float(balance["share_within_tol"]),
        "polsby_popper_mean": float(pp.mean()) if pp is not None else None,
        "dispersion_km_mean": float(result.report.dispersion_km.mean()),
        "moved_units": float(disruption.get("units", float("nan"))),
        "moved_accounts": float(disruption.get("accounts", float("nan"))),
        f"moved_{measure}": float(disruption.get(measure, float("nan"))),
        "moved_over_floor": float(disruption.get(measure, float("nan"))) / floor if floor > 0 else None,
        "kept_previous_plan": kept,
    }
