"""Plans: the immutable alignment and its diff, tallies, metrics, dissolved territories and plan files."""

from planner.plans.approved import ApprovedPlan
from planner.plans.files import read_plan, write_plan, write_report
from planner.plans.metrics import PlanReport, plan_report
from planner.plans.plan import Plan, PlanDiff, diff_plans
from planner.plans.tally import TerritoryTally

__all__ = [
    "ApprovedPlan",
    "Plan",
    "PlanDiff",
    "PlanReport",
    "TerritoryTally",
    "diff_plans",
    "plan_report",
    "read_plan",
    "write_plan",
    "write_report",
]
