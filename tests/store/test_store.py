"""The plan store on SQLite and on a real PostgreSQL server: workflow, roles, proposals,
optimistic locking, the append-only audit log, crash safety and migrations.

PostgreSQL runs when ``TERRAIN_TEST_POSTGRES_URL`` is set (scripts/run-tests.sh starts a
server from Debian packages and sets it); in CI (CI=true) it must be set.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import ConflictError, PermissionDenied, PlanError, WorkflowError
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine
from planner.store import LineContents, PlanStore, Role, Status
from planner.store.guards import unusual_quota
from planner.store.migrate import downgrade, migrate
from planner.store.roles import PERMISSIONS
from planner.store.schema import metadata
from planner.store.workflow import TRANSITIONS, next_status
from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("TERRAIN_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def open_store(backend: str, tmp_path: Path) -> tuple[PlanStore, dict]:
    """A fresh, empty store; returns it and the kwargs to open the same database again."""
    if backend == "sqlite":
        kwargs = {"url": f"sqlite:///{tmp_path / 'terrain.db'}"}
    else:
        kwargs = {"url": postgres_url(), "schema_name": f"t_{uuid.uuid4().hex[:12]}"}
    return PlanStore(**kwargs), kwargs


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def opened(backend, tmp_path):
    store, kwargs = open_store(backend, tmp_path)
    yield store, kwargs
    store.close()
    if "schema_name" in kwargs:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{kwargs["schema_name"]}" CASCADE')
        engine.dispose()


@pytest.fixture
def store(opened) -> PlanStore:
    return opened[0]


def four_territory_inputs():
    """Units u1..u8 in T1..T4; reps r1, r2 report to manager rep M1, r3, r4 to M2."""
    plan = Plan(
        pd.Series({f"u{i}": f"T{(i - 1) // 2 + 1}" for i in range(1, 9)}),
        pd.Series({"r1": "T1", "r2": "T2", "r3": "T3", "r4": "T4"}),
    )
    reps = pd.DataFrame(
        {"name": ["Ann", "Bob", "Cy", "Di"], "manager_id": ["M1", "M1", "M2", "M2"]},
        index=["r1", "r2", "r3", "r4"],
    )
    territories = pd.DataFrame(
        {"potential_usd": [1e6, 2e6, 3e6, 4e6], "forecast_usd": [5e5, 9e5, 1.6e6, 2e6]},
        index=["T1", "T2", "T3", "T4"],
    )
    periods = ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    quotas = pd.DataFrame(
        [
            (t, p, cents)
            for t, annual in zip(["T1", "T2", "T3", "T4"], [100_000, 200_000, 300_000, 400_000], strict=True)
            for p, cents in zip(
                periods, [annual // 10, annual // 5, annual * 3 // 10, annual * 2 // 5], strict=True
            )
        ],
        columns=["territory_id", "period", "quota_cents"],
    )
    return plan, reps, territories, quotas


def seed(store: PlanStore) -> int:
    store.add_user(None, "ops", "Sales Ops", "admin")
    store.add_user("ops", "fin", "Finance", "approver")
    store.add_user("ops", "fin2", "Finance 2", "approver")
    store.add_user("ops", "m1", "Manager One", "manager", rep_id="M1")
    store.add_user("ops", "m2", "Manager Two", "manager", rep_id="M2")
    store.add_user("ops", "view", "Viewer", "viewer")
    plan, reps, territories, quotas = four_territory_inputs()
    info = store.create_version(
        "ops",
        name="FY2027",
        plan=plan,
        reps=reps,
        lines=[LineContents(QuotaLine(), territories, quotas, 1_000_000)],
        effective_from=date(2027, 1, 1),
    )
    return info.version_id


def approve(store: PlanStore, version_id: int) -> None:
    store.transition("ops", version_id, "submit")
    store.transition("fin", version_id, "approve")


# ----------------------------------------------------------------- workflow


def test_every_illegal_transition_is_refused_by_the_state_machine():
    actions = {a for _, a in TRANSITIONS}
    for status, action in itertools.product(Status, actions):
        if (status, action) in TRANSITIONS:
            assert next_status(status, action) == TRANSITIONS[(status, action)]
        else:
            with pytest.raises(WorkflowError, match=f"cannot {action} a {status.value}"):
                next_status(status, action)


def test_full_life_of_a_version_and_illegal_transitions_in_the_store(store):
    version_id = seed(store)
    with pytest.raises(WorkflowError, match="cannot approve a draft"):
        store.transition("fin", version_id, "approve")
    with pytest.raises(WorkflowError, match="cannot publish a draft"):
        store.transition("ops", version_id, "publish")
    store.transition("ops", version_id, "submit")
    store.transition("fin", version_id, "return", comment="T4 looks high")
    assert store.info(version_id).status is Status.DRAFT
    approve(store, version_id)
    info = store.info(version_id)
    assert (info.status, info.approved_by) == (Status.APPROVED, "fin")
    with pytest.raises(WorkflowError, match="cannot return a approved"):
        store.transition("fin", version_id, "return")
    store.transition("ops", version_id, "publish")
    for action in ("submit", "return", "approve", "publish"):
        with pytest.raises(WorkflowError, match="copy it to a new draft"):
            store.transition("ops", version_id, action)
    published = store.published_plans()
    assert [p.version_id for p in published] == [version_id]
    assert published[0].annual_quota_cents().to_dict() == {
        "T1": 100_000,
        "T2": 200_000,
        "T3": 300_000,
        "T4": 400_000,
    }


def test_approved_version_is_immutable_and_changes_start_from_a_copy(store):
    version_id = seed(store)
    approve(store, version_id)
    before = store.version(version_id).quotas
    with pytest.raises(WorkflowError, match="approved and immutable"):
        store.set_quota("ops", version_id, "T1", 1, reason="typo")
    with pytest.raises(WorkflowError, match="approved and immutable"):
        store.propose("m1", version_id, "T1", 1, reason="lower")
    copy = store.copy_version("ops", version_id, name="FY2027 v2")
    assert (copy.status, copy.parent_id) == (Status.DRAFT, version_id)
    store.set_quota("ops", copy.version_id, "T1", 123_456, reason="new hire")
    pd.testing.assert_frame_equal(store.version(version_id).quotas, before)
    copied = store.version(copy.version_id)
    assert copied.line().territories.loc["T1", "annual_quota_cents"] == 123_456
    assert copied.plan.assignment.equals(store.version(version_id).plan.assignment)


def test_approving_needs_every_proposal_decided(store):
    version_id = seed(store)
    store.transition("ops", version_id, "submit")
    store.propose("m1", version_id, "T1", 150_000, reason="new logo pipeline")
    with pytest.raises(PlanError, match="1 proposal\\(s\\) still pending"):
        store.transition("fin", version_id, "approve")


# ---------------------------------------------------------------- proposals


def test_accepted_proposal_changes_the_quota_rephased_exactly_and_is_audited(store):
    version_id = seed(store)
    proposal = store.propose("m1", version_id, "T2", 250_001, reason="two new enterprise accounts")
    store.decide("fin", proposal, accept=True, comment="agreed")
    version = store.version(version_id)
    t2 = version.quotas[version.quotas["territory_id"] == "T2"]["quota_cents"].tolist()
    assert sum(t2) == 250_001
    # old phasing 10/20/30/40%: 25000.1, 50000.2, 75000.3, 100000.4 -> floors, +1 to the largest remainder
    assert t2 == [25_000, 50_000, 75_000, 100_001]
    assert version.line().total_cents == 1_050_001
    log = store.audit_log(version_id)
    accepted = log[log["action"] == "accept"].iloc[0]
    assert (accepted["user_id"], accepted["territory_id"], accepted["reason"]) == ("fin", "T2", "agreed")
    assert '"annual_quota_cents": 200000' in accepted["before"]
    assert '"annual_quota_cents": 250001' in accepted["after"]
    proposed = log[log["action"] == "propose"].iloc[0]
    assert (proposed["user_id"], proposed["reason"]) == ("m1", "two new enterprise accounts")


def test_rejected_and_withdrawn_proposals_change_nothing(store):
    version_id = seed(store)
    before = store.version(version_id).quotas
    rejected = store.propose("m2", version_id, "T3", 1, reason="please")
    store.decide("fin", rejected, accept=False, comment="no evidence")
    withdrawn = store.propose("m2", version_id, "T4", 2, reason="oops")
    store.withdraw("m2", withdrawn)
    pd.testing.assert_frame_equal(store.version(version_id).quotas, before)
    assert store.proposals(version_id)["status"].tolist() == ["rejected", "withdrawn"]
    with pytest.raises(PlanError, match="already rejected"):
        store.decide("fin2", rejected, accept=True, comment="changed my mind")


def test_a_territory_has_one_pending_proposal_unless_it_is_superseded(store):
    version_id = seed(store)
    first = store.propose("m1", version_id, "T1", 150_000, reason="new logo pipeline")
    with pytest.raises(
        ConflictError,
        match=rf"T1 already has pending bookings proposal #{first} by 'm1' \(\$1,000.00 -> \$1,500.00\)",
    ):
        store.propose("m1", version_id, "T1", 160_000, reason="even more pipeline")
    second = store.propose("m1", version_id, "T1", 160_000, reason="pipeline grew", supersede=True)
    proposals = store.proposals(version_id)
    assert proposals.loc[first, "status"] == "superseded" and proposals.loc[second, "status"] == "pending"
    log = store.audit_log(version_id)
    superseded = log[log["action"] == "supersede"].iloc[0]
    assert (superseded["user_id"], superseded["reason"]) == ("m1", "pipeline grew")
    assert f'"proposal_id": {first}' in superseded["before"]
    store.propose("m1", version_id, "T2", 1, reason="another territory is not blocked")
    with pytest.raises(PlanError, match="already superseded"):
        store.decide("fin", first, accept=True, comment="too late")


def test_accepting_a_proposal_made_against_an_old_quota_is_a_conflict(store):
    version_id = seed(store)
    proposal = store.propose("m1", version_id, "T1", 90_000, reason="smaller patch")
    store.set_quota("ops", version_id, "T1", 110_000, reason="board decision")
    with pytest.raises(
        ConflictError, match=r"T1.s bookings quota changed from \$1,000.00 to \$1,100.00 since proposal"
    ):
        store.decide("fin", proposal, accept=True, comment="ok")
    assert store.version(version_id).line().territories.loc["T1", "annual_quota_cents"] == 110_000


def test_reasons_and_non_negative_quotas_are_required(store):
    version_id = seed(store)
    with pytest.raises(PlanError, match="reason is required"):
        store.propose("m1", version_id, "T1", 5, reason="  ")
    with pytest.raises(PlanError, match="cannot be negative"):
        store.propose("m1", version_id, "T1", -5, reason="x")
    with pytest.raises(PlanError, match="no bookings quota"):
        store.set_quota("ops", version_id, "T9", 5, reason="x")
    with pytest.raises(PlanError, match="no plan version 99"):
        store.info(99)


# -------------------------------------------------------------------- roles


def test_every_forbidden_action_is_refused_for_every_role(store):
    version_id = seed(store)
    proposal = store.propose("m1", version_id, "T1", 120_000, reason="pipeline")
    adjustment = store.request_adjustment("ops", "r1", "2027-02", "amount", 25_000, "settled dispute")
    attempts = {
        "manage_users": lambda user: store.add_user(user, f"new-{user}", "New", "viewer"),
        "create_version": lambda user: store.copy_version(user, version_id, name="copy"),
        "edit_quota": lambda user: store.set_quota(user, version_id, "T1", 1, reason="x"),
        "propose": lambda user: store.propose(user, version_id, "T1", 1, reason="x"),
        "withdraw": lambda user: store.withdraw(user, proposal),
        "decide": lambda user: store.decide(user, proposal, accept=False, comment="x"),
        "submit": lambda user: store.transition(user, version_id, "submit"),
        "return": lambda user: store.transition(user, version_id, "return"),
        "approve": lambda user: store.transition(user, version_id, "approve"),
        "publish": lambda user: store.transition(user, version_id, "publish"),
        "request_adjustment": lambda user: store.request_adjustment(user, "r3", "2027-02", "amount", 1, "x"),
        "decide_adjustment": lambda user: store.decide_adjustment(
            user, adjustment, approve=True, comment="x"
        ),
    }
    assert set(attempts) == set(PERMISSIONS)
    users = {Role.ADMIN: "ops", Role.APPROVER: "fin", Role.MANAGER: "m2", Role.VIEWER: "view"}
    refused = 0
    for action, attempt in attempts.items():
        for role, user in users.items():
            if role in PERMISSIONS[action]:
                continue
            revision = store.info(version_id).revision
            with pytest.raises(PermissionDenied, match=f"may not {action}"):
                attempt(user)
            assert store.info(version_id).revision == revision  # nothing written
            refused += 1
    assert refused == 29
    with pytest.raises(
        PermissionDenied, match="only act on their own team's territories \\(T3, T4\\), not T1"
    ):
        store.propose("m2", version_id, "T1", 1, reason="not mine")
    with pytest.raises(PermissionDenied, match="may not decide it"):
        store.decide(
            "ops", store.propose("ops", version_id, "T4", 1, reason="self"), accept=True, comment="x"
        )
    with pytest.raises(PermissionDenied, match="only 'm1' may withdraw"):
        store.withdraw("ops", proposal)
    with pytest.raises(PermissionDenied, match="unknown user 'mallory'"):
        store.propose("mallory", version_id, "T1", 1, reason="x")
    assert store.proposals(version_id)["status"].tolist() == ["pending", "pending"]


def test_first_user_must_be_an_admin_and_managers_need_a_team(store):
    with pytest.raises(PermissionDenied, match="first user must be an admin"):
        store.add_user(None, "m", "M", "manager", rep_id="M1")
    store.add_user(None, "ops", "Ops", "admin")
    with pytest.raises(PlanError, match="needs the rep_id"):
        store.add_user("ops", "m", "M", "manager")
    with pytest.raises(PlanError, match="exists already"):
        store.add_user("ops", "ops", "Ops", "admin")


# -------------------------------------------------------------- concurrency


def test_two_clients_never_lose_each_others_changes(opened):
    store, kwargs = opened
    version_id = seed(store)
    other = PlanStore(**kwargs)
    try:
        seen = store.info(version_id).revision
        assert other.info(version_id).revision == seen
        store.set_quota("ops", version_id, "T1", 111_111, reason="first", expected_revision=seen)
        with pytest.raises(
            ConflictError, match=r"changed by 'ops' \(edit_quota .*reload the plan and re-apply"
        ):
            other.set_quota("ops", version_id, "T2", 222_222, reason="second", expected_revision=seen)
        fresh = other.info(version_id).revision
        other.set_quota("ops", version_id, "T2", 222_222, reason="second", expected_revision=fresh)
        territories = store.version(version_id).line().territories
        assert territories.loc[["T1", "T2"], "annual_quota_cents"].tolist() == [111_111, 222_222]
    finally:
        other.close()


def test_concurrent_saves_at_the_same_revision_let_exactly_one_win(opened):
    store, kwargs = opened
    version_id = seed(store)
    seen = store.info(version_id).revision
    outcomes: list[str] = []

    def save(territory: str) -> None:
        client = PlanStore(**kwargs)
        try:
            client.set_quota("ops", version_id, territory, 7, reason="race", expected_revision=seen)
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            client.close()

    threads = [threading.Thread(target=save, args=(t,)) for t in ("T1", "T2", "T3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "saved"]
    assert (store.version(version_id).line().territories["annual_quota_cents"] == 7).sum() == 1
    assert store.info(version_id).revision == seen + 1


# -------------------------------------------------------------------- audit


def test_audit_log_cannot_be_edited_or_deleted(store):
    version_id = seed(store)
    count = len(store.audit_log())
    assert count == 7  # six users + one version
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET user_id = 'mallory'"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events"))
    log = store.audit_log()
    assert len(log) == count and "mallory" not in set(log["user_id"])
    assert log.loc[log["action"] == "create_version", "version_id"].tolist() == [version_id]


# ------------------------------------------------------------ crash safety

KILL_MIDWAY = """
import os, signal, sys
from planner.store import PlanStore
from planner.store.store import PlanStore as Cls

original = Cls._rephase
calls = []

def rephase_then_die(self, conn, version_id, territory_id, line, annual_cents):
    result = original(self, conn, version_id, territory_id, line, annual_cents)
    calls.append(territory_id)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # killed with the copy and one quota written, uncommitted
    return result

Cls._rephase = rephase_then_die
kwargs = {"url": sys.argv[1]}
if len(sys.argv) > 2:
    kwargs["schema_name"] = sys.argv[2]
store = PlanStore(**kwargs)
copy = store.copy_version("ops", 1, name="FY2027 v2")
store.set_quota("ops", copy.version_id, "T1", 1, reason="first edit commits")
store.set_quota("ops", copy.version_id, "T2", 2, reason="second edit is killed midway")
"""


def test_a_save_killed_midway_leaves_the_approved_plan_intact(opened):
    store, kwargs = opened
    version_id = seed(store)
    approve(store, version_id)
    before = store.approved_plan(version_id)
    args = [kwargs["url"]] + ([kwargs["schema_name"]] if "schema_name" in kwargs else [])
    result = subprocess.run(
        [sys.executable, "-c", KILL_MIDWAY, *args], cwd=ROOT, capture_output=True, timeout=120
    )
    assert result.returncode == -9, result.stderr.decode()
    after = PlanStore(**kwargs).approved_plan(version_id)  # a fresh client reads the database
    pd.testing.assert_frame_equal(after.quotas, before.quotas)
    assert after.plan.assignment.equals(before.plan.assignment)
    copy = store.version(version_id + 1)
    # the committed edit survived, the killed one left no trace
    assert copy.line().territories.loc[["T1", "T2"], "annual_quota_cents"].tolist() == [1, 200_000]
    assert store.audit_log(copy.info.version_id)["reason"].dropna().tolist() == ["first edit commits"]
    store.set_quota("ops", copy.info.version_id, "T3", 3, reason="the database is still writable")
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_a_save_that_fails_midway_writes_nothing(store, monkeypatch):
    version_id = seed(store)
    plan, reps, territories, quotas = four_territory_inputs()
    original = PlanStore._insert_contents

    def fail_after_writing(self, conn, *args):
        original(self, conn, *args)
        raise OSError("disk full")

    monkeypatch.setattr(PlanStore, "_insert_contents", fail_after_writing)
    with pytest.raises(OSError, match="disk full"):
        store.create_version(
            "ops",
            name="never saved",
            plan=plan,
            reps=reps,
            lines=[LineContents(QuotaLine(), territories, quotas, 1)],
            effective_from=date(2027, 1, 1),
        )
    assert [v.version_id for v in store.versions()] == [version_id]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM version_units")).scalar() == 8


def test_bad_version_inputs_get_clear_errors(store):
    seed(store)
    plan, reps, territories, quotas = four_territory_inputs()
    good = {"name": "x", "plan": plan, "reps": reps, "effective_from": date(2027, 1, 1)}
    line = LineContents(QuotaLine(), territories, quotas, 1)
    deals = QuotaLine("deals", unit="deals")
    cases = [
        ({"quotas": quotas.assign(territory_id="T9")}, "unknown territories \\['T9'\\]"),
        ({"quotas": quotas.assign(period="2027-13")}, "not 'YYYY-MM' or 'YYYY-Qn'"),
        ({"quotas": quotas.assign(quota_cents=-1)}, "whole, non-negative cents"),
        ({"territories": territories.drop(index="T4")}, "lack territories \\['T4'\\]"),
        ({"territories": territories.assign(potential_usd=float("nan"))}, "potential_usd must be"),
        ({"line": deals, "quotas": quotas.assign(quota_cents=150)}, "counts whole units.*1.5"),
    ]
    for change, message in cases:
        with pytest.raises(PlanError, match=message):
            store.create_version("ops", **good, lines=[replace(line, **change)])
    with pytest.raises(PlanError, match="reps \\['r2'\\] cover territories"):
        store.create_version("ops", **{**good, "reps": reps.drop(index="r2")}, lines=[line])
    with pytest.raises(PlanError, match="given twice"):
        store.create_version("ops", **good, lines=[line, line])
    assert len(store.versions()) == 1


# --------------------------------------------------------------- migrations


def test_migrations_build_exactly_the_declared_schema_and_downgrade_cleanly(opened):
    store, _ = opened
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    downgrade(store.engine, "base")
    with store.engine.connect() as conn:
        assert "plan_versions" not in sa.inspect(conn).get_table_names()
    migrate(store.engine)
    seed(store)
    assert store.info(1).status is Status.DRAFT


def test_a_store_from_before_quota_lines_upgrades_with_its_versions_proposals_and_audit(opened):
    """A store written at revision 0002 (one quota per territory) upgrades in place and back."""
    store, kwargs = opened
    downgrade(store.engine, "base")
    migrate(store.engine, "0002")
    at = "2026-11-30 12:00:00"
    rows = [
        "INSERT INTO users VALUES ('ops', 'Ops', 'admin', NULL), ('fin', 'Fin', 'approver', NULL), "
        "('m1', 'Manager', 'manager', 'M1')",
        "INSERT INTO plan_versions (name, status, revision, parent_id, target_cents, effective_from, "
        f"created_by, created_at, allocation_basis) VALUES ('FY2027', 'proposed', 3, NULL, 300000, "
        f"'2027-01-01', 'ops', '{at}', '{{\"basis_frac\": 0.5}}')",
        "INSERT INTO version_units VALUES (1, 'u1', 'T1'), (1, 'u2', 'T2')",
        "INSERT INTO version_reps VALUES (1, 'r1', 'T1', 'Ann', 'M1'), (1, 'r2', 'T2', 'Bob', 'M1')",
        "INSERT INTO version_territories VALUES "
        "(1, 'T1', 100000, 90000, NULL), (1, 'T2', 200000, 210000, 150000)",
        "INSERT INTO version_quotas VALUES (1, 'T1', '2027-Q1', 40000), (1, 'T1', '2027-Q2', 60000), "
        "(1, 'T2', '2027-Q1', 100000), (1, 'T2', '2027-Q2', 100000)",
        "INSERT INTO proposals "
        "(version_id, territory_id, proposed_by, base_quota_cents, proposed_quota_cents, "
        f"reason, status, created_at) VALUES (1, 'T1', 'm1', 100000, 120000, 'pipeline', 'pending', '{at}')",
        "INSERT INTO audit_events (at, user_id, action, version_id, territory_id, before, after, reason) "
        f"VALUES ('{at}', 'm1', 'propose', 1, 'T1', NULL, NULL, 'pipeline')",
    ]
    with store.engine.begin() as conn:
        for sql in rows:
            conn.exec_driver_sql(sql)
    migrate(store.engine)
    reopened = PlanStore(**kwargs)
    version = reopened.version(1)
    assert list(version.lines) == ["bookings"]
    line = version.line()
    assert (line.line.unit, line.line.potential, line.line.source_of()) == ("usd", "tam_usd", "*")
    assert line.target_cents == 300000 and line.allocation_basis == {"basis_frac": 0.5}
    assert line.quotas["quota_cents"].tolist() == [40000, 60000, 100000, 100000]
    assert line.territories["annual_quota_cents"].tolist() == [100000, 200000]
    assert line.territories["last_quota_cents"].tolist()[1] == 150000
    assert reopened.proposals(1)["line"].tolist() == ["bookings"]
    # the upgraded store works as before: the old proposal is decided, the audit log goes on
    reopened.decide("fin", 1, accept=True, comment="agreed")
    assert reopened.version(1).line().territories.loc["T1", "annual_quota_cents"] == 120000
    log = reopened.audit_log(1)
    assert log["action"].tolist() == ["propose", "accept"] and log["line"].tolist()[1] == "bookings"
    downgrade(reopened.engine, "0002")
    with reopened.engine.connect() as conn:
        quotas = conn.exec_driver_sql("SELECT quota_cents FROM version_quotas ORDER BY territory_id, period")
        assert [r[0] for r in quotas] == [48000, 72000, 100000, 100000]
        basis = conn.exec_driver_sql("SELECT allocation_basis FROM plan_versions").scalar_one()
        assert basis == '{"basis_frac": 0.5}'
    reopened.close()


# ---------------------------------------------------------------- property


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["T1", "T2", "T3", "T4"]), st.integers(0, 10**9), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_quotas_stay_exact_and_every_action_is_audited(tmp_path_factory, steps):
    store, _ = open_store("sqlite", tmp_path_factory.mktemp("prop"))
    try:
        version_id = seed(store)
        expected = {"T1": 100_000, "T2": 200_000, "T3": 300_000, "T4": 400_000}
        managers = {"T1": "m1", "T2": "m1", "T3": "m2", "T4": "m2"}
        events = len(store.audit_log())
        for territory, cents, accept in steps:
            proposal = store.propose(
                managers[territory], version_id, territory, cents, reason="r", confirm=True
            )
            store.decide("fin", proposal, accept=accept, comment="c")
            if accept:
                expected[territory] = cents
            events += 2
        version = store.version(version_id)
        assert version.line().territories["annual_quota_cents"].to_dict() == expected
        assert (version.quotas["quota_cents"] >= 0).all()
        assert len(store.audit_log()) == events
    finally:
        store.close()


def test_unusual_quotas_need_a_confirmation_that_is_audited(store):
    version_id = seed(store)  # T1's quota is $1,000.00, its potential $1,000,000
    for cents, what in ((0, "a zero quota"), (300_001, "more than 3x the current quota \\(\\$1,000.00\\)")):
        with pytest.raises(PlanError, match=f"T1 bookings: .* is {what}; if that is intended, confirm it"):
            store.propose("m1", version_id, "T1", cents, reason="typo?")
    with pytest.raises(PlanError, match=r"T4 bookings: .* is more than 3x"):
        store.set_quota("ops", version_id, "T4", 400_000_01 * 10, reason="x")
    usd, deals = QuotaLine(), QuotaLine("d", unit="deals")
    assert (
        unusual_quota(usd, 5_000_00, 2_000_00, 4_000_00) == "more than the territory's potential ($4,000.00)"
    )
    assert unusual_quota(deals, 5_000_00, 2_000_00, 4_000_00) is None  # a count's potential is not its unit
    assert store.proposals(version_id).empty
    proposal = store.propose("m1", version_id, "T1", 0, reason="territory closes", confirm=True)
    store.set_quota("ops", version_id, "T2", 900_000, reason="new strategic account", confirm=True)
    log = store.audit_log(version_id)
    assert '"confirmed_unusual": "a zero quota"' in log.loc[log["action"] == "propose", "after"].iloc[0]
    assert "more than 3x the current quota" in log.loc[log["action"] == "edit_quota", "after"].iloc[0]
    store.decide("fin", proposal, accept=True, comment="agreed")


def test_a_version_far_off_its_target_is_approved_only_with_a_comment(store):
    version_id = seed(store)  # target $10,000; quotas total $10,000
    store.set_quota("ops", version_id, "T4", 600_000, reason="more from T4")  # total now $12,000: +20%
    store.transition("ops", version_id, "submit")
    with pytest.raises(PlanError, match=r"off target by more than 10%: bookings: .* \(\+20.0%\); approve it"):
        store.transition("fin", version_id, "approve")
    assert store.info(version_id).status is Status.PROPOSED
    store.transition("fin", version_id, "approve", comment="the board raised the target")
    with pytest.raises(PlanError, match="publish it with a comment"):
        store.transition("ops", version_id, "publish")
    store.transition("ops", version_id, "publish", comment="as approved")
    log = store.audit_log(version_id)
    assert "+20.0%" in log.loc[log["action"] == "approve", "after"].iloc[0]


def test_comp_adjustments_are_asked_for_decided_by_someone_else_and_audited(store):
    seed(store)
    own = store.request_adjustment("m1", "r1", "2027-03", "amount", 25_000, "settled dispute over deal D-17")
    with pytest.raises(PermissionDenied, match="own team's reps only, not r3"):
        store.request_adjustment("m1", "r3", "2027-03", "amount", 25_000, "not my rep")
    credit = store.request_adjustment("ops", "r3", "2027-02", "credit", 2_000_000, "renewal booked to A9")
    with pytest.raises(PermissionDenied, match="asked for adjustment #2 and may not decide it"):
        store.decide_adjustment("ops", credit, approve=True, comment="mine")
    store.decide_adjustment("fin", own, approve=True, comment="per contract")
    store.decide_adjustment("fin2", credit, approve=False, comment="the CRM says otherwise")
    with pytest.raises(PlanError, match="already approved"):
        store.decide_adjustment("fin2", own, approve=False, comment="again")
    for bad, message in (
        (("r1", "2027-13", "amount", 1, "x"), "not a month"),
        (("r1", "2027-03", "bonus", 1, "x"), "an amount or a credit"),
        (("r1", "2027-03", "amount", 0, "x"), "non-zero"),
        (("r1", "2027-03", "amount", 1, " "), "reason is required"),
    ):
        with pytest.raises(PlanError, match=message):
            store.request_adjustment("ops", *bad)
    approved = store.adjustments("approved")
    assert approved.index.tolist() == [own]
    assert approved.loc[own, ["rep_id", "amount_cents", "requested_by", "decided_by"]].tolist() == [
        "r1",
        25_000,
        "m1",
        "fin",
    ]
    log = store.audit_log()
    actions = log["action"].tolist()
    assert actions.count("request_adjustment") == 2
    assert {"approve_adjustment", "reject_adjustment"} <= set(actions)
    assert log.loc[log["action"] == "reject_adjustment", "reason"].tolist() == ["the CRM says otherwise"]
