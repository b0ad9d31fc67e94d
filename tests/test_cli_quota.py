"""`planner quota`: allocate on a data set, propose, decide, approve, publish, log, through the CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from planner.cli import app
from planner.store import PlanStore, Status

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
    assert version.total_quota_cents == 12_000_000
    assert version.quotas.groupby("territory_id").size().eq(12).all()
    assert "quota rises with potential" in result.output

    territory = version.territories.index[0]
    result = run("propose", "1", territory, "5000", "--reason", "new logo", "--user", "ops", db=db)
    assert result.exit_code == 0, result.output
    result = run("approve", "1", "--user", "fin", db=db)
    assert result.exit_code == 1 and "cannot approve a draft" in result.output
    assert run("submit", "1", "--user", "ops", db=db).exit_code == 0
    result = run("approve", "1", "--user", "fin", db=db)
    assert result.exit_code == 1 and "1 proposal(s) still pending" in result.output
    result = run("decide", "1", "--accept", "--comment", "ok", "--user", "fin", db=db)
    assert result.exit_code == 0, result.output
    assert run("approve", "1", "--user", "fin", db=db).exit_code == 0
    assert run("publish", "1", "--user", "ops", db=db).exit_code == 0
    assert store.info(1).status is Status.PUBLISHED
    assert store.version(1).territories.loc[territory, "annual_quota_cents"] == 500_000
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
