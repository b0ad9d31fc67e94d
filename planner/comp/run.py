"""One call from inputs to statements: check deals, credit them, pro-rate quotas, calculate."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from planner.comp.calculate import CompResult, calculate
from planner.comp.crediting import credit_deals, rep_quotas
from planner.comp.plan_file import CompPlan
from planner.errors import PlanError
from planner.plans.approved import ApprovedPlan
from planner.plans.quota_lines import QuotaLine
from planner.progress import ProgressCallback


def quota_months(months: Sequence[str]) -> list[str]:
    """Every month of the calendar years touched by ``months`` (windows need whole-year quotas)."""
    years = sorted({m[:4] for m in months})
    return [f"{y}-{m:02d}" for y in years for m in range(1, 13)]


def quota_lines(approved: Sequence[ApprovedPlan], months: Sequence[str]) -> list[QuotaLine]:
    """The quota lines of the plans in effect during ``months``, each once (one name, one definition)."""
    ordered = sorted(approved, key=lambda a: a.effective_from)
    first = pd.Period(min(months), "M").start_time
    last = pd.Period(max(months), "M").end_time
    ends = [pd.Timestamp(a.effective_from) for a in ordered[1:]] + [pd.Timestamp.max]
    lines: dict[str, QuotaLine] = {}
    for plan, end in zip(ordered, ends, strict=True):
        if pd.Timestamp(plan.effective_from) > last or end <= first:
            continue
        for line in plan.lines:
            known = lines.setdefault(line.name, line)
            if known.record() != line.record():
                raise PlanError(
                    f"quota line '{line.name}' is {known.record()} in one approved plan and {line.record()} "
                    f"in '{plan.name}'; give the two lines different names"
                )
    return list(lines.values())


def run_comp(
    deals: pd.DataFrame,
    account_units: pd.Series,
    approved: Sequence[ApprovedPlan],
    reps: pd.DataFrame,
    plans: Sequence[CompPlan],
    months: Sequence[str],
    *,
    splits: pd.DataFrame | None = None,
    invoices: pd.DataFrame | None = None,
    credit_notes: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    progress: ProgressCallback | None = None,
) -> CompResult:
    """Credit ``deals`` under the ``approved`` plan history and calculate every rep's pay.

    Parameters
    ----------
    deals : pandas.DataFrame
        Checked deals (:func:`planner.comp.deals.check_deals`).
    account_units : pandas.Series
        ``unit_id`` indexed by ``account_id``.
    approved : sequence of ApprovedPlan
        Effective-dated plan history.
    reps : pandas.DataFrame
        Reps indexed by ``rep_id`` with ``role`` and ``manager_id``.
    plans : sequence of CompPlan
        Comp plans by role.
    months : sequence of str
        Months to calculate, 'YYYY-MM'.
    splits : pandas.DataFrame, optional
        Checked split rows.
    invoices : pandas.DataFrame, optional
        Checked payments (:func:`planner.comp.deals.check_invoices`), for components that
        credit on payment.
    credit_notes : pandas.DataFrame, optional
        Checked credit notes (:func:`planner.comp.deals.check_credit_notes`).
    adjustments : pandas.DataFrame, optional
        Approved manual adjustments (:meth:`planner.store.PlanStore.adjustments`, reset index).
    progress : callable, optional
        Called with (fraction done, message).

    Returns
    -------
    CompResult
        With ``uncredited`` set.
    """
    credits, uncredited = credit_deals(deals, account_units, approved, splits=splits, reps=reps)
    quotas = rep_quotas(approved, quota_months(months), reps=reps)
    lines = quota_lines(approved, months)
    result = calculate(
        credits,
        quotas,
        deals,
        plans,
        reps,
        months,
        quota_lines=lines,
        invoices=invoices,
        credit_notes=credit_notes,
        adjustments=adjustments,
        progress=progress,
    )
    return dataclasses.replace(result, uncredited=uncredited)
