"""Realignment frontier: the demo's current plan rebalanced under budgets of multiples of the transport floor.

Demo counties, k = 50 from the current plan, TAM +/-2% hard, accounts +/-5% soft, 10 s of
search work per point; budgets of 1.1, 1.25, 1.5 and 2 times the transport floor of TAM,
and no budget (:func:`planner.optimize.frontier.frontier`). Two ladders: reps keep their
homes (the default: a territory stays around its rep's home, so excess passes through
neighbours) and territories may relocate (``use_rep_homes=False``: a territory far from the
excess may be dissolved and re-formed inside it). Each ladder ends with its anchors: the
transport floor and the territory model's least move. Targets (issue 16): within +/-2%
everywhere having moved at most 1.5x the floor; at 1.1x at least 80% of territories within
+/-5%. Draws both curves to ``docs/img/frontier.png``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

from planner.data.adjacency import build_adjacency
from planner.data.demo import load_demo
from planner.optimize import BalanceTarget, OptimizeOptions
from planner.optimize.frontier import frontier

CHART = Path(__file__).resolve().parents[1] / "docs" / "img" / "frontier.png"
MAPS = Path(__file__).resolve().parents[1] / "docs" / "img" / "realignment_maps.png"
MAP_POINTS = {"reps keep their homes": None, "territories may relocate": 1.5}  # ladder: budget drawn
TIME_LIMIT_S = 10.0


LADDERS = {"reps keep their homes": True, "territories may relocate": False}  # name: use_rep_homes


def run() -> list[dict]:
    warnings.simplefilter("ignore")
    data = load_demo()
    adjacency = build_adjacency(data.units)
    options = OptimizeOptions(
        targets=(BalanceTarget("tam_usd", 0.02, hard=True), BalanceTarget("accounts", 0.05)),
        time_limit_s=TIME_LIMIT_S,
    )
    rows, curves, drawn = [], {}, {}
    for name, homes in LADDERS.items():
        result = frontier(data, options=replace(options, use_rep_homes=homes), adjacency=adjacency)
        multiples = result.table["floor_multiple"].tolist()
        point = multiples.index(MAP_POINTS[name]) if MAP_POINTS[name] is not None else len(multiples) - 1
        drawn[name] = result.results[point]
        within_5 = [float((r.report.deviations["tam_usd"].abs() <= 0.05).mean()) for r in result.results]
        curves[name] = (result.table, within_5)
        for (_, row), share_5 in zip(result.table.iterrows(), within_5, strict=True):
            rows.append(_row(name, row, share_5))
        least = (
            "n/a"
            if result.least_move is None
            else f"{result.least_move:.1%} ({result.least_move / result.transport_floor:.2f}x)"
        )
        rows.append(
            {
                "ladder": name,
                "budget (x floor)": f"transport floor {result.transport_floor:.1%} of TAM (to within 2%); "
                f"territory model's least move to balance: {least}",
            }
        )
    _chart(curves, result.transport_floor)
    _maps(data, drawn)
    return rows


def _row(ladder: str, row, within_5: float) -> dict:
    """One line of the printed table."""
    return {
        "ladder": ladder,
        "budget (x floor)": "none"
        if row["floor_multiple"] != row["floor_multiple"]
        else row["floor_multiple"],
        "budget, share of TAM": row["budget_frac"],
        "TAM moved": row["moved_tam_usd"],
        "x floor moved": row["moved_over_floor"],
        "units moved": row["moved_units"],
        "accounts moved": row["moved_accounts"],
        "TAM worst dev": row["tam_usd_max_abs_dev"],
        "within 2%": row["tam_usd_within_tol"],
        "within 5%": within_5,
        "PP mean": row["polsby_popper_mean"],
        "dispersion km": row["dispersion_km_mean"],
        "kept previous": row["kept_previous_plan"],
    }


def _chart(curves: dict, floor: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (worst, within) = plt.subplots(1, 2, figsize=(10, 4))
    for (name, (table, within_5)), colour in zip(curves.items(), ("tab:red", "tab:blue"), strict=True):
        moved = table["moved_tam_usd"] * 100
        worst.plot(moved, table["tam_usd_max_abs_dev"] * 100, "o-", color=colour, label=name)
        within.plot(moved, table["tam_usd_within_tol"] * 100, "s-", color=colour, label=f"{name}: within 2%")
        within.plot(moved, [w * 100 for w in within_5], "^--", color=colour, label=f"{name}: within 5%")
    for axis in (worst, within):
        axis.axvline(floor * 100, color="grey", linestyle=":", label=f"transport floor {floor:.1%}")
        axis.set_xlabel("TAM moved (% of total)")
    worst.set_ylabel("worst territory's TAM deviation (%)")
    worst.set_yscale("log")
    within.set_ylabel("territories within tolerance (%)")
    within.set_ylim(0, 105)
    worst.legend(fontsize=8)
    within.legend(fontsize=7, loc="lower right")
    fig.suptitle("Demo counties, k = 50, TAM +/-2% hard: balance bought per share of TAM moved")
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART, dpi=110)
    plt.close(fig)


def _maps(data, drawn: dict) -> None:
    """The current plan and the plans of ``drawn`` (ladder: result), side by side, lower 48 states."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from planner.plans.dissolve import dissolve_territories

    units = data.units[~data.units["region"].isin(["AK", "HI", "PR"])].to_crs("EPSG:5070")
    panels = {"current plan": data.plan} | {
        f"{name}, {'no budget' if MAP_POINTS[name] is None else f'{MAP_POINTS[name]}x the floor'}: "
        f"worst {r.report.balance.loc['tam_usd', 'max_abs_dev']:.1%}, "
        f"{r.report.disruption['tam_usd']:.0%} of TAM moved": r.plan
        for name, r in drawn.items()
    }
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2))
    for axis, (title, plan) in zip(axes, panels.items(), strict=True):
        labels = plan.assignment.reindex(units.index)
        codes = labels.astype("category").cat.codes
        units.assign(colour=codes % 20).plot(column="colour", cmap="tab20", ax=axis, linewidth=0)
        shapes = dissolve_territories(units, labels)
        shapes.boundary.plot(ax=axis, color="black", linewidth=0.6)
        axis.set_title(title, fontsize=9)
        axis.set_axis_off()
    fig.suptitle("Demo counties, k = 50, TAM +/-2% hard: the current plan and two realignments", fontsize=11)
    fig.tight_layout()
    fig.savefig(MAPS, dpi=110)
    plt.close(fig)
