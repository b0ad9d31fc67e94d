"""What the workspace shows about territories: labels, facts, fills, the balance table and chart.

Pure functions of plans and tables (no Streamlit), tested directly.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from planner.money import format_usd
from planner.plans.plan import Plan
from ui.maps import SEQUENTIAL, quantile_classes


def short_name(name: str) -> str:
    """``"Sam Patel"`` -> ``"S. Patel"`` (a label that fits on a map)."""
    parts = str(name).split()
    return str(name) if len(parts) < 2 else f"{parts[0][0]}. {' '.join(parts[1:])}"


def territory_labels(plan: Plan, reps: pd.DataFrame) -> dict[str, str]:
    """Map label per territory: its id and rep (``"T07 · S. Patel"``), or the rep count when several."""
    holders = plan.territory_reps
    names = reps["name"].reindex(holders.index) if "name" in reps.columns else pd.Series(index=holders.index)
    counts = holders.value_counts()
    single = holders[holders.map(counts) == 1]
    rep_of = pd.Series(names.reindex(single.index).to_numpy(), index=single.to_numpy())
    labels = {}
    for territory in plan.territories.astype(str):
        n = int(counts.get(territory, 0))
        if n == 1 and pd.notna(rep_of.get(territory)):
            labels[territory] = f"{territory} · {short_name(rep_of[territory])}"
        else:
            labels[territory] = f"{territory} · {n} reps" if n > 1 else territory
    return labels


def measure_text(measure: str, value: float) -> str:
    """A measure's value as people read it: whole dollars for ``*_usd``, grouped integers otherwise."""
    if measure.endswith("_usd"):
        return format_usd(usd=value, decimals=0)
    return f"{value:,.0f}"


def unit_details(units: pd.DataFrame) -> pd.Series:
    """One line per unit for the map's hover: TAM, bookings and accounts where the data has them."""
    parts = [
        (measure, title)
        for measure, title in (("tam_usd", "TAM"), ("bookings_usd", "bookings 12m"), ("accounts", "accounts"))
        if measure in units.columns
    ]
    lines = (
        [
            "; ".join(f"{title} {measure_text(m, v)}" for (m, title), v in zip(parts, row, strict=True))
            for row in zip(*(units[m].fillna(0).to_numpy() for m, _ in parts), strict=True)
        ]
        if parts
        else [""] * len(units)
    )
    return pd.Series(lines, index=units.index)


def worst_ratio(table: pd.DataFrame, tolerances: Mapping[str, float]) -> pd.Series:
    """Per territory, the largest |deviation| / tolerance over the measures (above 1: out of tolerance)."""
    ratios = pd.DataFrame(
        {m: table[f"{m}_dev_pct"].abs() / (100.0 * tol) for m, tol in tolerances.items()}, index=table.index
    )
    return ratios.max(axis=1)


def worst_first(table: pd.DataFrame, tolerances: Mapping[str, float]) -> pd.DataFrame:
    """The balance table sorted by how far each territory is outside its tolerances, worst first."""
    order = worst_ratio(table, tolerances).sort_values(ascending=False, kind="stable").index
    return table.loc[order]


def territory_facts(table: pd.DataFrame, tolerances: Mapping[str, float], labels: Mapping[str, str]) -> dict:
    """One line per territory for the map's hover: units, reps and signed deviation of each measure."""
    facts = {}
    pieces = table["pieces"] if "pieces" in table else pd.Series(1, index=table.index)
    columns = {m: table[f"{m}_dev_pct"].to_numpy() for m in tolerances}
    for k, territory in enumerate(table.index.astype(str)):
        deviations = ", ".join(f"{m} {columns[m][k]:+.1f}%" for m in tolerances)
        split = f"; {int(pieces.iloc[k])} pieces" if pieces.iloc[k] > 1 else ""
        facts[territory] = (
            f"{int(table['units'].iloc[k]):,} units, {int(table['reps'].iloc[k])} rep(s); {deviations}{split}"
        )
    return facts


def measure_fills(values: pd.Series) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Fill colour per unit by quantile class of ``values``, and the legend ``(colour, range)``."""
    classes, edges = quantile_classes(values)
    colours = np.array(SEQUENTIAL)[np.linspace(0, len(SEQUENTIAL) - 1, len(edges) - 1).round().astype(int)]
    fills = pd.Series(colours[classes.to_numpy()], index=values.index)
    name = str(values.name or "")
    legend = [
        (colours[i], f"{measure_text(name, edges[i])} – {measure_text(name, edges[i + 1])}")
        for i in range(len(edges) - 1)
    ]
    return fills, legend


def deviation_chart(table: pd.DataFrame, measure: str, tolerance: float, label: str) -> dict:
    """Vega-Lite spec: signed deviation of every territory on one measure, worst first, tolerance band shaded.

    A plain spec (not Altair) because it is redrawn on every edit and Altair's validation costs
    more than the rest of the chart.
    """
    tolerance_pct = 100.0 * tolerance
    deviation = table[f"{measure}_dev_pct"]
    order = deviation.abs().sort_values(ascending=False, kind="stable").index
    rows = [
        {
            "territory": str(t),
            "deviation": round(float(deviation[t]), 2),
            "outside": "outside" if abs(deviation[t]) > tolerance_pct + 1e-9 else "within",
        }
        for t in order
    ]
    return {
        "height": max(240, 11 * len(rows)),
        "layer": [
            {
                "data": {"values": [{"low": -tolerance_pct, "high": tolerance_pct}]},
                "mark": {"type": "rect", "color": "#d9f0d3", "opacity": 0.8},
                "encoding": {"x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}},
            },
            {
                "data": {"values": rows},
                "mark": "bar",
                "encoding": {
                    "y": {"field": "territory", "type": "nominal", "sort": None, "title": None},
                    "x": {
                        "field": "deviation",
                        "type": "quantitative",
                        "title": f"{label}: deviation from the per-rep mean (%)",
                    },
                    "color": {
                        "field": "outside",
                        "type": "nominal",
                        "scale": {"domain": ["within", "outside"], "range": ["#4e9a4e", "#d7191c"]},
                        "legend": {"title": f"Tolerance ±{tolerance_pct:g}%", "orient": "top"},
                    },
                    "tooltip": [
                        {"field": "territory", "type": "nominal", "title": "Territory"},
                        {
                            "field": "deviation",
                            "type": "quantitative",
                            "title": "Deviation (%)",
                            "format": "+.1f",
                        },
                    ],
                },
            },
        ],
    }
