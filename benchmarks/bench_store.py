"""Plan store benchmark: saving, loading and the proposal workflow on SQLite and PostgreSQL.

Instance: the demo plan (3,108 counties, 50 territories, 56 reps) with FY2027 quotas
phased monthly (600 quota rows), allocated by :func:`planner.quota.versions.draft_quotas`.

Operations, each the median of several runs:

- ``save version``: one draft version (units, reps, territory inputs, quotas, audit) in
  one transaction;
- ``load version``: the whole version back (``PlanStore.version``);
- ``propose + decide``: a manager's proposal and an approver's acceptance (re-phasing
  12 months), i.e. two transactions with optimistic-locking checks and audit events;
- ``copy version``: a new draft from an approved one (server-side INSERT ... SELECT).

Baseline in the same run: the file-based flow the CLI had before the store, i.e.
writing the plan as ``alignment.csv`` + ``territory_reps.csv`` plus the quota table as a
CSV, atomically (:func:`planner.plans.files.write_plan`), with no roles, history or audit.
PostgreSQL rows appear when ``TERRAIN_TEST_POSTGRES_URL`` is set (scripts/start-postgres.sh).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from planner.data.demo import load_demo
from planner.plans.files import _atomic_write, write_plan
from planner.quota.versions import QuotaRequest, draft_quotas
from planner.store import PlanStore
from planner.store.demo import ADMIN, APPROVER, demo_target_cents, seed_demo_store

REPEATS = 5


def _median_s(action, repeats: int = REPEATS) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _backend_rows(label: str, store: PlanStore, dataset, draft, request) -> list[dict]:
    seed_demo_store(store, dataset)  # users and the two demo versions
    reps = dataset.reps.reindex(dataset.plan.territory_reps.index)[["name", "manager_id"]]

    def save() -> int:
        return store.create_version(
            ADMIN,
            name="bench",
            plan=dataset.plan,
            reps=reps,
            territories=draft.territories,
            quotas=draft.quotas,
            target_cents=request.target_cents,
            effective_from=request.effective_from,
        ).version_id

    saved = []
    save_s = _median_s(lambda: saved.append(save()))
    version_id = saved[-1]
    load_s = _median_s(lambda: store.version(version_id))
    territory = sorted(store.version(version_id).team_of("M01"))[0]

    def propose_and_decide() -> None:
        current = int(store.version(version_id).territories.loc[territory, "annual_quota_cents"])
        proposal = store.propose("m01", version_id, territory, current + 100_00, reason="bench")
        store.decide(APPROVER, proposal, accept=True, comment="bench")

    workflow_s = _median_s(propose_and_decide)
    copy_s = _median_s(lambda: store.copy_version(ADMIN, 1, name="bench copy"))
    return [
        {"backend": label, "operation": "save version", "seconds": save_s},
        {"backend": label, "operation": "load version", "seconds": load_s},
        {"backend": label, "operation": "propose + decide", "seconds": workflow_s},
        {"backend": label, "operation": "copy version", "seconds": copy_s},
    ]


def run() -> list[dict]:
    dataset = load_demo()
    request = QuotaRequest(
        target_cents=demo_target_cents(dataset, "2027-01", 0.12),
        fiscal_year_start="2027-01",
        forecast_method="growth",
    )
    draft = draft_quotas(dataset, dataset.plan, request)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def write_files() -> None:
            write_plan(dataset.plan, out / "plan")
            _atomic_write(out / "plan" / "quotas.csv", draft.quotas.to_csv(index=False))

        rows.append(
            {"backend": "baseline: CSV files", "operation": "save version", "seconds": _median_s(write_files)}
        )
        store = PlanStore(f"sqlite:///{out / 'bench.db'}")
        rows += _backend_rows("SQLite (file)", store, dataset, draft, request)
        store.close()
    url = os.environ.get("TERRAIN_TEST_POSTGRES_URL")
    if url:
        schema_name = f"bench_{uuid.uuid4().hex[:8]}"
        store = PlanStore(url, schema_name=schema_name)
        try:
            rows += _backend_rows("PostgreSQL (local)", store, dataset, draft, request)
        finally:
            store.close()
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema_name}" CASCADE')
            engine.dispose()
    return rows
