"""Quotas: inputs per territory, allocation of a target in whole cents, phasing, fairness, draft versions."""

from planner.quota.allocation import QuotaAllocation, QuotaOptions, allocate_quotas
from planner.quota.fairness import FairnessReport, fairness_report
from planner.quota.phasing import phase_quotas
from planner.quota.versions import QuotaRequest, draft_quotas

__all__ = [
    "FairnessReport",
    "QuotaAllocation",
    "QuotaOptions",
    "QuotaRequest",
    "allocate_quotas",
    "draft_quotas",
    "fairness_report",
    "phase_quotas",
]
