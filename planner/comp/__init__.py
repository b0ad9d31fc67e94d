"""Incentive comp calculator: comp plan files, crediting from approved plans, payouts, statements.

Modules: :mod:`~planner.comp.plan_file` (plan files and validation), :mod:`~planner.comp.deals`
(deals and split rows), :mod:`~planner.comp.crediting` (who is credited, rep quotas),
:mod:`~planner.comp.rates` (tier maths on cents), :mod:`~planner.comp.calculate` (earnings,
clawbacks, draws, payouts), :mod:`~planner.comp.run` (one call from inputs to results),
:mod:`~planner.comp.statements` (CSV and HTML statements), :mod:`~planner.comp.estimate`
(what-if), :mod:`~planner.comp.reference` (a per-deal Decimal reference implementation),
:mod:`~planner.comp.demo` (demo inputs).
"""

from planner.comp.calculate import CompResult, calculate
from planner.comp.crediting import credit_deals, rep_quotas
from planner.comp.deals import check_deals, check_splits
from planner.comp.plan_file import CompPlan, load_comp_plan, parse_comp_plan
from planner.comp.run import run_comp

__all__ = [
    "CompPlan",
    "CompResult",
    "calculate",
    "check_deals",
    "check_splits",
    "credit_deals",
    "load_comp_plan",
    "parse_comp_plan",
    "rep_quotas",
    "run_comp",
]
