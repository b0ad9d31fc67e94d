"""Quota versions in the store: drafts of one or more lines (:mod:`planner.quota.versions`), fairness."""

from __future__ import annotations

from datetime import date

import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import PlanError
from planner.plans.plan import Plan
from planner.quota.fairness import FairnessReport, fairness_report
from planner.quota.hierarchy import quota_hierarchy
from planner.quota.versions import DraftQuotas, QuotaRequest, draft_lines
from planner.store.contents import LineContents
from planner.store.records import PlanVersion, VersionInfo
from planner.store.store import PlanStore


def line_contents(draft: DraftQuotas, request: QuotaRequest) -> LineContents:
    """What the store keeps of one drafted line: inputs, quotas, target and the total chosen."""
    return LineContents(
        line=draft.line,
        territories=draft.territories,
        quotas=draft.quotas,
        target_cents=int(request.target_cents),
        allocation_basis=draft.attainment.record(),
    )


def save_draft(
    store: PlanStore,
    actor: str,
    dataset: Dataset,
    plan: Plan,
    requests: QuotaRequest | list[QuotaRequest],
    *,
    name: str,
    effective_from: date | None = None,
) -> tuple[VersionInfo, list[DraftQuotas]]:
    """Allocate and phase every quota line, then save them with the plan as a new draft version.

    ``requests`` holds one request per line (a single request for a one-line version); they
    share the fiscal year. The version takes effect at the start of the fiscal year, or on
    ``effective_from`` (e.g. a mid-year realignment).
    """
    requests = [requests] if isinstance(requests, QuotaRequest) else list(requests)
    years = sorted({r.fiscal_year_start for r in requests})
    if len(years) != 1:
        raise PlanError(f"the lines of one version share a fiscal year; got {', '.join(years)}")
    drafts = draft_lines(dataset, plan, requests)
    reps = dataset.reps.reindex(plan.territory_reps.index)[["name", "manager_id"]]
    info = store.create_version(
        actor,
        name=name,
        plan=plan,
        reps=reps,
        lines=[line_contents(d, r) for d, r in zip(drafts, requests, strict=True)],
        effective_from=effective_from or requests[0].effective_from,
    )
    return info, drafts


def version_fairness(
    version: PlanVersion, line: str | None = None, *, threshold_frac: float = 0.5
) -> FairnessReport:
    """Fairness of a stored line's quotas against potential and forecast (with its basis's uncertainty)."""
    chosen = version.line(line)
    territories = chosen.territories
    basis = chosen.allocation_basis or {}
    return fairness_report(
        territories["annual_quota_cents"],
        territories["potential_cents"] / 100.0,
        territories["forecast_cents"] / 100.0,
        threshold_frac=threshold_frac,
        forecast_cv_frac=basis.get("forecast_cv_frac"),
    )


def version_hierarchy(
    version: PlanVersion, territory_region: pd.Series | None = None, *, line: str | None = None, **kwargs
) -> pd.DataFrame:
    """The quota hierarchy of a stored line (:func:`planner.quota.hierarchy.quota_hierarchy`).

    Managers come from the version's reps; the forecast uncertainty from the line's allocation basis.
    """
    chosen = version.line(line)
    territories = chosen.territories
    managers = version.reps.dropna(subset=["manager_id"]).groupby("territory_id")["manager_id"].first()
    basis = chosen.allocation_basis or {}
    kwargs.setdefault("forecast_cv_frac", basis.get("forecast_cv_frac"))
    return quota_hierarchy(
        territories["annual_quota_cents"],
        territories["potential_cents"] / 100.0,
        territories["forecast_cents"] / 100.0,
        managers,
        territory_region,
        **kwargs,
    )
