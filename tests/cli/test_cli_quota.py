"""`planner quota`: allocate on a data set, propose, decide, approve, publish, log, through the CLI."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from planner.cli.main import app
from planner.store import PlanStore, Status
from tests.conftest import postgres_url

runner = CliRunner()


def run(*args: str, db: str):
    return runner.invoke(app, ["quota", *args, "--db", db], env={"COLUMNS": "200"})


def test_quota_workflow_end_to_end_on_a_grid_data_set(grid_dir, tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert run("add-user", "ops", "Sales Ops", "--role", "admin", db=db).exit_code == 0
    assert run("add-user", "fin", "Finance", "--role", "approver", "--user", "ops", db=db).exit_code == 0
    store = PlanStore(db)
    result = run(
        "allocate",
        str(grid_dir),
        "--target",
        "120000",
        "--fiscal-year-start",
        "2027-01",
        "--name",
        "FY2027",
        "--forecast",
        "growth",
        "--user",
        "ops",
        db=db,
    )
    assert result.exit_code == 0, result.output
    version = store.version(1)
    assert version.line().total_cents == 12_000_000
    assert version.quotas.groupby("territory_id").size().eq(12).all()
    assert "quota rises with potential" in result.output

    territory = version.line().territories.index[0]
    for typed, message in (
        ("nan", "'nan' is not an amount"),
        ("inf", "'inf' is not an amount"),
        ("ten", "not an amount"),
    ):
        result = run("propose", "1", territory, typed, "--reason", "x", "--user", "ops", db=db)
        assert result.exit_code == 1 and message in result.output, result.output
    result = run("propose", "1", territory, "1e15", "--reason", "typo", "--user", "ops", db=db)
    assert result.exit_code == 1 and "more than 3x the current quota" in result.output
    assert "--confirm" in result.output and "Traceback" not in result.output
    result = run(
        "propose", "1", territory, "5000", "--reason", "new logo", "--confirm", "--user", "ops", db=db
    )
    assert result.exit_code == 0, result.output
    result = run("approve", "1", "--user", "fin", db=db)
    assert result.exit_code == 1 and "cannot approve a draft" in result.output
    assert run("submit", "1", "--user", "ops", db=db).exit_code == 0
    result = run("approve", "1", "--user", "fin", db=db)
    assert result.exit_code == 1 and "1 proposal(s) still pending" in result.output
    result = run("decide", "1", "--accept", "--comment", "ok", "--user", "fin", db=db)
    assert result.exit_code == 0, result.output
    result = run("approve", "1", "--user", "fin", db=db)
    assert result.exit_code == 1 and "off target by more than 10%" in result.output
    assert run("approve", "1", "--comment", "the new logo is real", "--user", "fin", db=db).exit_code == 0
    assert run("publish", "1", "--comment", "as approved", "--user", "ops", db=db).exit_code == 0
    assert store.info(1).status is Status.PUBLISHED
    assert store.version(1).line().territories.loc[territory, "annual_quota_cents"] == 500_000
    result = run("copy", "1", "--name", "FY2027 v2", "--user", "ops", db=db)
    assert result.exit_code == 0 and "v2 FY2027 v2: draft (a copy of v1)" in result.output
    assert store.version(2).quotas.equals(store.version(1).quotas)
    log = run("log", "1", db=db).output
    for action in ("create_version", "propose", "accept", "submit", "approve", "publish"):
        assert action in log
    result = run("propose", "1", territory, "1", "--reason", "late", "--user", "fin", db=db)
    assert result.exit_code == 1 and "may not propose" in result.output


def test_quota_cli_explains_bad_requests(grid_dir, tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    run("add-user", "ops", "Sales Ops", "--role", "admin", db=db)
    result = run(
        "allocate",
        str(grid_dir),
        "--target",
        "1000",
        "--fiscal-year-start",
        "2027-01",
        "--name",
        "x",
        "--potential-weight",
        "1.5",
        "--user",
        "ops",
        db=db,
    )
    assert result.exit_code == 1 and "must be finite and >= 0" in result.output
    result = run("show", "7", db=db)
    assert result.exit_code == 1 and "no plan version 7" in result.output
    result = runner.invoke(app, ["quota", "versions", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/x"])
    assert result.exit_code == 1 and "cannot open the plan store" in result.output


def test_bad_last_quota_and_relief_files_name_the_row_and_column(grid_dir, tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    run("add-user", "ops", "Sales Ops", "--role", "admin", db=db)
    last = tmp_path / "last.csv"
    last.write_text("territory_id,period,quota_usd\nT1,2026-01,100.00\nT2,2026-13,-5\n")
    relief = tmp_path / "relief.csv"
    relief.write_text(
        "territory_id,start,end\nT9,2027-01-01,2027-02-01\nT1,2027-05-01,2027-04-01\nT1,soon,2027-04-01\n"
    )
    base = ["allocate", str(grid_dir), "--target", "1000", "--fiscal-year-start", "2027-01", "--name", "x"]
    result = run(*base, "--forecast", "growth", "--last-quotas", str(last), "--user", "ops", db=db)
    assert result.exit_code == 1
    assert "last.csv, row 3, column 'period'" in result.output
    assert "last.csv, row 3, column 'quota_usd'" in result.output
    result = run(*base, "--forecast", "growth", "--relief", str(relief), "--user", "ops", db=db)
    assert result.exit_code == 1
    assert "relief.csv, row 2, column 'territory_id': unknown territory 'T9'" in result.output
    assert "relief.csv, row 3, column 'end': ends before it starts. Fix: swap start and end" in result.output
    assert "relief.csv, row 4, column 'start': 'soon' is not a date" in result.output


def test_last_years_exported_quotas_set_the_guardrail(grid_dir, tmp_path):
    from planner.data.dataset import load_dataset

    db = f"sqlite:///{tmp_path / 'store.db'}"
    run("add-user", "ops", "Sales Ops", "--role", "admin", db=db)
    territories = list(load_dataset(grid_dir).plan.territories)
    last = tmp_path / "quotas.csv"  # monthly, as `planner export` writes it: 100 a month each = 1,200 a year
    rows = [f"{t},2026-{m:02d},100.00" for t in territories for m in range(1, 13)]
    last.write_text("territory_id,period,quota_usd\n" + "\n".join(rows) + "\n")
    target = 1200 * len(territories)
    args = [
        "allocate",
        str(grid_dir),
        "--target",
        str(target),
        "--fiscal-year-start",
        "2027-01",
        "--name",
        "x",
    ]
    result = run(
        *args,
        "--forecast",
        "growth",
        "--last-quotas",
        str(last),
        "--guardrail",
        "0.25",
        "--user",
        "ops",
        db=db,
    )
    assert result.exit_code == 0, result.output
    annual = PlanStore(db).version(1).line().territories["annual_quota_cents"]
    assert (annual <= 150_000).all() and (annual >= 90_000).all()  # within +/-25% of last year's 1,200


def test_a_lines_file_drafts_one_quota_line_per_row_and_bad_rows_are_named(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert run("add-user", "ops", "Sales Ops", "--role", "admin", db=db).exit_code == 0
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "line,unit,target,potential,source,guardrail,basis,frequency\n"
        "new_business,usd,90000000,tam_usd,,none,,quarter\n"
        "new_logos,deals,2900,accounts,new_business,,1,\n"
    )
    common = ("--fiscal-year-start", "2027-01", "--forecast", "growth", "--user", "ops")
    result = run("allocate", "data/demo", "--lines", str(lines), "--name", "FY2027 lines", *common, db=db)
    assert result.exit_code == 0, result.output
    assert (
        "note: new_logos: 65% of territories expected at or above quota needs a quota total of"
        in result.output
    )
    version = PlanStore(db).version(1)
    assert list(version.lines) == ["new_business", "new_logos"]
    assert version.line("new_business").total_cents == 90_000_000_00
    assert set(version.line("new_business").quotas["period"]) == {"2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"}
    logos = version.line("new_logos")
    assert logos.total_cents == logos.allocation_basis["implied_total_cents"]  # basis 1: finance's goal
    assert logos.total_cents % 100 == 0 and "deals" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "line,unit,target,potential,guardrail\n"
        "new_business,usd,-5,tam_usd,\n"
        "new_logos,deals,2.5,accounts,\n"
        "renewal,usd,100,tam_usd,lots\n"
    )
    result = run("allocate", "data/demo", "--lines", str(bad), "--name", "bad", *common, db=db)
    assert result.exit_code == 1
    assert "bad.csv, row 2, column 'target'" in result.output and "must be 0 or more" in result.output
    assert "bad.csv, row 3, column 'target'" in result.output and "counts whole deals" in result.output
    assert "bad.csv, row 4, column 'guardrail': 'lots' is not a number" in result.output
    both = run("allocate", "data/demo", "--lines", str(lines), "--target", "5", "--name", "x", *common, db=db)
    assert both.exit_code == 1 and "give either --target" in both.output
    assert "Traceback" not in result.output + both.output


def test_on_postgresql_the_cli_acts_as_the_database_login_not_as_terrain_user():
    base = postgres_url()
    schema = f"cli_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        if not conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = 'stranger'").first():
            conn.exec_driver_sql("CREATE ROLE stranger LOGIN SUPERUSER PASSWORD 'stranger'")
    login = make_url(base).username
    db = f"{base}?options=-csearch_path%3D{schema}"
    stranger = (
        make_url(base).set(username="stranger", password="stranger").render_as_string(hide_password=False)
    )
    stranger = f"{stranger}?options=-csearch_path%3D{schema}"
    try:
        first = run("add-user", "ops", "Ops", "--role", "admin", "--db-login", login, db=db)
        assert first.exit_code == 0, first.output  # an empty store: the first user is the admin
        claimed = run("add-user", "fin", "Finance", "--role", "approver", "--user", "fin", db=db)
        assert claimed.exit_code == 1
        assert f"you act as your database login ('{login}' is user 'ops'), not as 'fin'" in claimed.output
        assert run("add-user", "fin", "Finance", "--role", "approver", db=db).exit_code == 0
        unknown = run("add-user", "x", "X", "--role", "viewer", "--user", "ops", db=stranger)
        assert (
            unknown.exit_code == 1
            and "the database login 'stranger' is not a plan-store user" in unknown.output
        )
        log = PlanStore(db).audit_log()
        assert log["user_id"].tolist() == ["ops", "ops"]  # both adds were done by the login's user
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()
