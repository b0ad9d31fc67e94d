"""Plans the optimizer proposes from the workspace, summarised for choosing one (no Streamlit).

The optimize panel runs one budget or the whole frontier; each resulting plan becomes a
:class:`Candidate` with what a sales lead weighs: how much moves (as a share of the
primary measure and as a multiple of the transport floor), the worst territory and the
share within tolerance on the primary measure, and which territories appear or vanish.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from planner.optimize.api import OptimizationResult
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.plan import Plan


@dataclass(frozen=True)
class Candidate:
    """One proposed plan and its headline numbers (shares are fractions)."""

    label: str
    plan: Plan
    status: str
    messages: tuple[str, ...]
    moved_frac: float
    worst_dev_frac: float
    within_frac: float
    moved: tuple[str, ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]
    reformed: tuple[str, ...]

    @classmethod
    def from_result(
        cls, label: str, result: OptimizationResult, before: Plan, measure: str, values: pd.Series
    ) -> Candidate:
        """Summarise ``result`` (optimized from ``before``) on ``measure`` (``values``: it by unit)."""
        balance = result.report.balance.loc[measure]
        disruption = result.report.disruption
        moved = float(disruption[measure]) if disruption is not None and measure in disruption else 0.0
        old, new = set(before.territories), set(result.plan.territories)
        changed = result.plan.assignment.reindex(before.units) != before.assignment
        moved_ids = tuple(before.units[changed.to_numpy()])
        return cls(
            label=label,
            plan=result.plan,
            status=str(result.status),
            messages=tuple(result.messages),
            moved_frac=moved,
            worst_dev_frac=float(balance["max_abs_dev"]),
            within_frac=float(balance["share_within_tol"]),
            moved=moved_ids,
            removed=tuple(sorted(old - new)),
            added=tuple(sorted(new - old)),
            reformed=reformed_territories(before, result.plan, values),
        )

    @property
    def units_moved(self) -> int:
        """How many units change territory."""
        return len(self.moved)

    def territory_change(self) -> str:
        """Sentences naming every territory removed, added or re-formed elsewhere ('' when none)."""
        parts = []
        if self.removed:
            parts.append(f"removes {len(self.removed)} territory(ies): {', '.join(self.removed)}")
        if self.added:
            parts.append(f"adds {len(self.added)}: {', '.join(self.added)}")
        text = ("This plan " + " and ".join(parts) + ". ") if parts else ""
        if self.reformed:
            text += (
                f"{len(self.reformed)} territory(ies) are largely redrawn (each keeps less than "
                f"{REFORMED_SHARE:.0%} of its current potential): {', '.join(self.reformed)}; "
                "check with their reps before accepting."
            )
        return text.strip()


REFORMED_SHARE = 0.5  #: a territory keeping less than this share of its measure is largely redrawn


def reformed_territories(before: Plan, after: Plan, values: pd.Series) -> tuple[str, ...]:
    """Territories of both plans keeping less than :data:`REFORMED_SHARE` of their ``values``."""
    old = before.assignment
    new = after.assignment.reindex(old.index)
    weights = values.reindex(old.index).fillna(0.0)
    kept = weights[new == old].groupby(old[new == old]).sum()
    total = weights.groupby(old).sum()
    share = kept.reindex(total.index, fill_value=0.0) / total.where(total > 0)
    both = set(after.territories)
    return tuple(sorted(t for t, s in share.items() if t in both and s < REFORMED_SHARE))


@dataclass(frozen=True)
class Candidates:
    """The plans of one optimizer run, made from workspace step ``base_position``.

    ``floor_frac`` is the transport floor (least share of ``measure`` that must move);
    ``least_move_frac`` the territory model's estimate of the least move to balance (None
    when not computed).
    """

    base_position: int
    base_plan: Plan
    measure: str
    tolerance_frac: float
    floor_frac: float
    least_move_frac: float | None
    items: tuple[Candidate, ...]

    def table(self) -> pd.DataFrame:
        """One row per candidate, in percent, for display and the chart."""
        rows = []
        for c in self.items:
            rows.append(
                {
                    "plan": c.label,
                    "moved_pct": 100.0 * c.moved_frac,
                    "moved_over_floor": c.moved_frac / self.floor_frac if self.floor_frac > 0 else None,
                    "worst_dev_pct": 100.0 * c.worst_dev_frac,
                    "within_pct": 100.0 * c.within_frac,
                    "units_moved": c.units_moved,
                    "territories": len(c.plan.territories),
                    "status": c.status.replace("_", " "),
                }
            )
        return pd.DataFrame(rows)


def panel_options(
    tolerances: dict[str, float],
    *,
    hard: list[str],
    budget: float | str,
    floor: float,
    keep_homes: bool,
    compactness: float,
    time_limit_s: float,
    locked: dict[str, str],
) -> OptimizeOptions:
    """Optimizer options from the panel's settings (``budget``: a multiple of ``floor``, or ``"none"``)."""
    return OptimizeOptions(
        targets=tuple(BalanceTarget(m, t, hard=m in hard) for m, t in tolerances.items()),
        compactness_weight=compactness,
        max_disruption=None if budget == "none" else min(1.0, float(budget) * floor),
        locked_units=locked,
        use_rep_homes=keep_homes,
        time_limit_s=time_limit_s,
        seed=0,
    )


def frontier_chart(candidates: Candidates, measure_label: str, picked: str | None) -> alt.LayerChart:
    """Share of territories within tolerance against the share moved, one point per plan; floor marked."""
    frame = candidates.table()
    frame["picked"] = frame["plan"] == picked
    x = alt.X("moved_pct:Q", title=f"{measure_label} moved (%)", scale=alt.Scale(zero=True))
    line = alt.Chart(frame).mark_line(color="#888").encode(x=x, y="within_pct:Q")
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, size=110)
        .encode(
            x=x,
            y=alt.Y(
                "within_pct:Q",
                title=f"Territories within ±{100 * candidates.tolerance_frac:g}% (%)",
                scale=alt.Scale(domain=[0, 100]),
            ),
            color=alt.condition("datum.picked", alt.value("#c51b7d"), alt.value("#1f3b73")),
            tooltip=[
                alt.Tooltip("plan:N", title="Plan"),
                alt.Tooltip("moved_pct:Q", title="Moved (%)", format=".1f"),
                alt.Tooltip("within_pct:Q", title="Within tolerance (%)", format=".0f"),
                alt.Tooltip("worst_dev_pct:Q", title="Worst territory (%)", format=".1f"),
            ],
        )
    )
    labels = points.mark_text(dx=8, dy=-8, align="left").encode(text="plan:N")
    floors = pd.DataFrame({"moved_pct": [100.0 * candidates.floor_frac], "what": ["transport floor"]})
    if candidates.least_move_frac is not None:
        floors.loc[1] = [100.0 * candidates.least_move_frac, "least move (estimate)"]
    rules = alt.Chart(floors).mark_rule(strokeDash=[4, 3], color="#d7191c").encode(x="moved_pct:Q")
    rule_text = (
        alt.Chart(floors)
        .mark_text(angle=270, dx=-40, dy=-6, color="#d7191c")
        .encode(x="moved_pct:Q", y=alt.value(10), text="what:N")
    )
    return (rules + rule_text + line + points + labels).properties(height=300)
