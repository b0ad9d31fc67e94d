"""What an optimization result says: its outcome and the sentences that explain a miss.

Each miss names the worst territory, the block it sits in when the block as a whole is
out of tolerance, what to relax and by how much, and how many reps the search moved.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from planner.optimize.instance import Instance
from planner.optimize.options import OptimizeOptions
from planner.plans.metrics import PlanReport, group_deviation


class Outcome(StrEnum):
    """How an optimization ended: every tolerance met, only the hard ones met, or a hard one missed."""

    BALANCED = "balanced"
    SOFT_TARGETS_MISSED = "soft_targets_missed"
    INFEASIBLE = "infeasible"


def _regional_shortfall(
    report: PlanReport, neighbors: dict[str, list[str]], worst: str, measure: str, tolerance: float
) -> str:
    """A sentence when the worst territory and its neighbours together are out of tolerance.

    Their units then hold too much (or too little) of the measure per rep whatever their
    shared borders: the imbalance is regional, and only moving units across the block's
    outer border can fix it. Empty otherwise.
    """
    block = [worst, *neighbors.get(worst, [])]
    if len(block) < 2:
        return ""
    together = float(group_deviation(report.deviations, report.reps, block)[measure])
    own = float(report.deviations.loc[worst, measure])
    if abs(together) <= tolerance or np.sign(together) != np.sign(own):
        return ""
    return (
        f". {worst} and its neighbours {', '.join(block[1:])} together are {together:+.1%} per rep on "
        f"{measure}, so no redrawing of their shared borders can bring them all within "
        f"+/-{tolerance:.1%}: units have to move across the outer border of this block"
    )


def explain(
    instance: Instance,
    report: PlanReport,
    options: OptimizeOptions,
    budget_binding: bool,
    unbudgeted_disruption: float | None,
    neighbors: dict[str, list[str]],
) -> tuple[Outcome, list[str]]:
    """The outcome, and a sentence for each tolerance missed (worst territory, block, what to relax)."""
    messages = []
    missed_hard = missed_soft = False
    for target in options.targets:
        row = report.balance.loc[target.measure]
        if row["max_abs_dev"] <= target.tolerance + 1e-9:
            continue
        if target.hard:
            missed_hard = True
        else:
            missed_soft = True
        worst = report.deviations[target.measure].abs().idxmax()
        kind = "hard" if target.hard else "soft"
        message = (
            f"{target.measure} is not within +/-{target.tolerance:.1%} ({kind}): territory {worst} is "
            f"{report.deviations.loc[worst, target.measure]:+.1%}; "
            f"{row['share_within_tol']:.0%} of territories are within tolerance"
        )
        if budget_binding and unbudgeted_disruption is not None:
            message += (
                f". The disruption budget binds: relax max_disruption from {options.max_disruption:.0%} "
                f"to about {unbudgeted_disruption:.0%} (what an unbudgeted run moves), "
                f"or relax the {target.measure} tolerance to {row['max_abs_dev']:.1%}"
            )
        else:
            message += _regional_shortfall(report, neighbors, worst, target.measure, target.tolerance)
            message += (
                f". Relax the {target.measure} tolerance to {np.ceil(row['max_abs_dev'] * 1000) / 1000:.1%}"
            )
            locked_in_worst = (
                int((instance.locked == instance.territory_ids.index(worst)).sum())
                if worst in instance.territory_ids
                else 0
            )
            if locked_in_worst:
                message += f", or unlock some of the {locked_in_worst} units locked to {worst}"
            message += ", or give the search more time"
        messages.append(message)
    status = Outcome.SOFT_TARGETS_MISSED if missed_soft else Outcome.BALANCED
    if missed_hard:
        status = Outcome.INFEASIBLE
    return status, messages


def rep_changes_sentence(before: Instance, after: Instance) -> str:
    """A sentence on the reps the search moved between territories; empty when none moved."""
    count = dict(zip(after.territory_ids, after.reps, strict=True))
    changed = [
        f"{t} {r:.0f} -> {count[t]:.0f}"
        for t, r in zip(before.territory_ids, before.reps, strict=True)
        if t in count and count[t] != r
    ]
    gone = [t for t in before.territory_ids if t not in count]
    if not changed and not gone:
        return ""
    sentence = "the optimizer moved reps to where the units are"
    if changed:
        sentence += f": reps per territory {', '.join(changed)}"
    if gone:
        sentence += f"; {', '.join(gone)} gave their reps away and their units to their neighbours"
    return sentence
