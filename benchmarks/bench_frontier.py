"""Realignment frontier: the demo's current plan rebalanced under budgets of multiples of the transport floor.

Demo counties, k = 50 from the current plan, TAM +/-2% hard, accounts +/-5% soft, 10 s of
search work per point; budgets of 1.1, 1.25, 1.5 and 2 times the transport floor of TAM,
and no budget (:func:`planner.optimize.frontier.frontier`). Targets (issue 16): within
+/-2% everywhere having moved at most 1.5x the floor; at 1.1x at least 80% of territories
within +/-5%. Draws the curve to ``docs/img/frontier.png``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from planner.data.adjacency import build_adjacency
from planner.data.demo import load_demo
from planner.optimize import BalanceTarget, OptimizeOptions
from planner.optimize.frontier import frontier

CHART = Path(__file__).resolve().parents[1] / "docs" / "img" / "frontier.png"
TIME_LIMIT_S = 10.0


def run() -> list[dict]:
    warnings.simplefilter("ignore")
    data = load_demo()
    options = OptimizeOptions(
        targets=(BalanceTarget("tam_usd", 0.02, hard=True), BalanceTarget("accounts", 0.05)),
        time_limit_s=TIME_LIMIT_S,
    )
    result = frontier(data, options=options, adjacency=build_adjacency(data.units))
    table = result.table
    within_5 = [float((r.report.deviations["tam_usd"].abs() <= 0.05).mean()) for r in result.results]
    _chart(table, result.transport_floor, within_5)
    rows = []
    for (_, row), share_5 in zip(table.iterrows(), within_5, strict=True):
        rows.append(
            {
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
                "within 5%": share_5,
                "PP mean": row["polsby_popper_mean"],
                "dispersion km": row["dispersion_km_mean"],
                "kept previous": row["kept_previous_plan"],
            }
        )
    rows.append({"budget (x floor)": f"transport floor {result.transport_floor:.1%} of TAM (to within 2%)"})
    return rows


def _chart(table, floor: float, within_5: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(7, 4))
    moved = table["moved_tam_usd"] * 100
    left.plot(moved, table["tam_usd_max_abs_dev"] * 100, "o-", color="tab:red", label="worst territory, TAM")
    left.set_xlabel("TAM moved (% of total)")
    left.set_ylabel("worst deviation (%)", color="tab:red")
    left.axvline(floor * 100, color="grey", linestyle=":", label=f"transport floor {floor:.1%}")
    right = left.twinx()
    right.plot(moved, table["tam_usd_within_tol"] * 100, "s--", color="tab:blue", label="within 2%")
    right.plot(moved, [w * 100 for w in within_5], "^--", color="tab:green", label="within 5%")
    right.set_ylabel("territories within tolerance (%)")
    right.set_ylim(0, 105)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="center right", fontsize=8)
    left.set_title("Demo counties, k = 50, TAM +/-2% hard: balance bought per share of TAM moved")
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART, dpi=110)
    plt.close(fig)
