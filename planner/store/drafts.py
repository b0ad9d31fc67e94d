"""Quota versions in the store: save a draft (see :mod:`planner.quota.versions`); a version's fairness."""

from __future__ import annotations

from datetime import date

import pandas as pd

from planner.data.dataset import Dataset
from planner.plans.plan import Plan
from planner.quota.fairness import FairnessReport, fairness_report
from planner.quota.hierarchy import quota_hierarchy
from planner.quota.versions import DraftQuotas, QuotaRequest, draft_quotas
from planner.store.records import PlanVersion, VersionInfo
from planner.store.store import PlanStore


def save_draft(
    store: PlanStore,
    actor: str,
    dataset: Dataset,
    plan: Plan,
    request: QuotaRequest,
    *,
    name: str,
    effective_from: date | None = None,
) -> tuple[VersionInfo, DraftQuotas]:
    """Allocate and phase quotas, then save them with the plan as a new draft version.

    The version takes effect at the start of the fiscal year, or on ``effective_from``
    (e.g. a mid-year realignment).
    """
    draft = draft_quotas(dataset, plan, request)
    reps = dataset.reps.reindex(plan.territory_reps.index)[["name", "manager_id"]]
    info = store.create_version(
        actor,
        name=name,
        plan=plan,
        reps=reps,
        territories=draft.territories,
        quotas=draft.quotas,
        target_cents=int(request.target_cents),
        effective_from=effective_from or request.effective_from,
        allocation_basis=draft.attainment.record(),
    )
    return info, draft


def version_fairness(version: PlanVersion, *, threshold_frac: float = 0.5) -> FairnessReport:
    """Fairness of a stored version's quotas against potential and forecast (with its basis's uncertainty)."""
    territories = version.territories
    basis = version.info.allocation_basis or {}
    return fairness_report(
        territories["annual_quota_cents"],
        territories["potential_cents"] / 100.0,
        territories["forecast_cents"] / 100.0,
        threshold_frac=threshold_frac,
        forecast_cv_frac=basis.get("forecast_cv_frac"),
    )


def version_hierarchy(
    version: PlanVersion, territory_region: pd.Series | None = None, **kwargs
) -> pd.DataFrame:
    """The quota hierarchy of a stored version (:func:`planner.quota.hierarchy.quota_hierarchy`).

    Managers come from the version's reps; the forecast uncertainty from its allocation basis.
    """
    territories = version.territories
    managers = version.reps.dropna(subset=["manager_id"]).groupby("territory_id")["manager_id"].first()
    basis = version.info.allocation_basis or {}
    kwargs.setdefault("forecast_cv_frac", basis.get("forecast_cv_frac"))
    return quota_hierarchy(
        territories["annual_quota_cents"],
        territories["potential_cents"] / 100.0,
        territories["forecast_cents"] / 100.0,
        managers,
        territory_region,
        **kwargs,
    )
