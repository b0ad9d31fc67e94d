"""``planner comp`` on a small data set: statements written, totals printed, bad inputs exit 1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from planner.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def comp_inputs(tmp_path: Path) -> list[str]:
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3"],
            "account_id": ["A0", "A2", "A4"],
            "close_date": ["2026-01-10", "2026-02-11", "2026-03-12"],
            "amount_usd": ["30000.00", "12000.50", "999.99"],
            "status": ["won", "won", "cancelled"],
            "cancel_date": ["", "", "2026-03-30"],
        }
    )
    deals.to_csv(tmp_path / "deals.csv", index=False)
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    quotas = pd.DataFrame(
        {
            "territory_id": ["West", "East"] * 12,
            "period": [m for m in months for _ in range(2)],
            "quota_cents": 2_000_000,
        }
    )
    quotas.to_csv(tmp_path / "quotas.csv", index=False)
    return [
        "--deals", str(tmp_path / "deals.csv"), "--quotas", str(tmp_path / "quotas.csv"),
        "--plan", str(ROOT / "data/comp/account_executive.yaml"),
        "--plan", str(ROOT / "data/comp/manager.toml"),
        "--effective-from", "2026-01-01", "--from", "2026-01", "--to", "2026-03",
    ]  # fmt: skip


def test_comp_writes_summary_lines_and_statements(grid_dir, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["comp", str(grid_dir), *comp_inputs(tmp_path), "--out", str(out)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "Account executive FY2026" in result.output and "Sales manager FY2026" in result.output
    summary = pd.read_csv(out / "summary.csv", dtype=str)
    assert set(summary["rep_id"]) == {"R1", "R2", "M1"} and len(summary) == 9
    lines = pd.read_csv(out / "lines.csv", dtype=str)
    assert set(lines["deal_id"].dropna()) >= {"D1", "D2"}
    for rep in ("R1", "R2", "M1"):
        assert (out / "statements" / f"{rep}.html").read_text().startswith("<!DOCTYPE html>")
        assert (out / "statements" / f"{rep}.csv").stat().st_size > 0


def test_comp_rejects_a_bad_plan_file_and_missing_inputs(grid_dir, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: x\nroles: [account_executive]\ncomponents: []\n")
    args = comp_inputs(tmp_path)
    args[args.index("--plan") + 1] = str(bad)
    result = runner.invoke(
        app, ["comp", str(grid_dir), *args, "--out", str(tmp_path / "o")], terminal_width=300
    )
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and "components" in result.output
    result = runner.invoke(app, ["comp", str(grid_dir), "--out", str(tmp_path / "o")], terminal_width=300)
    assert result.exit_code != 0 and "--deals" in result.output


def test_comp_credits_under_the_plan_stores_published_version(grid_dir, tmp_path):
    from datetime import date

    from planner.data.dataset import load_dataset
    from planner.plans.quota_lines import QuotaLine
    from planner.store import LineContents, PlanStore

    args = comp_inputs(tmp_path)
    quotas = pd.read_csv(tmp_path / "quotas.csv")
    dataset = load_dataset(grid_dir)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = PlanStore(url)
    result = runner.invoke(app, ["comp", str(grid_dir), *args[2:], "--db", url, "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "no published version" in result.output
    store.add_user(None, "ops", "Ops", "admin")
    store.add_user("ops", "fin", "Finance", "approver")
    territories = pd.DataFrame({"potential_usd": 1.0, "forecast_usd": 1.0}, index=dataset.plan.territories)
    info = store.create_version(
        "ops",
        name="FY2026",
        plan=dataset.plan,
        reps=dataset.reps[["name", "manager_id"]],
        lines=[LineContents(QuotaLine(), territories, quotas, int(quotas["quota_cents"].sum()))],
        effective_from=date(2026, 1, 1),
    )
    for user, action in (("ops", "submit"), ("fin", "approve"), ("ops", "publish")):
        store.transition(user, info.version_id, action)
    from_files, from_store = tmp_path / "files", tmp_path / "store"
    assert runner.invoke(app, ["comp", str(grid_dir), *args, "--out", str(from_files)]).exit_code == 0
    without_quotas = args[:2] + args[4:]  # drop --quotas: the store gives the approved plan
    result = runner.invoke(
        app, ["comp", str(grid_dir), *without_quotas, "--db", url, "--out", str(from_store)]
    )
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(
        pd.read_csv(from_files / "summary.csv"), pd.read_csv(from_store / "summary.csv")
    )


def test_both_demo_commands_pay_the_same(tmp_path):
    """The built-in demo plans and the seeded demo store are one set of numbers."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert runner.invoke(app, ["quota", "seed-demo", "--db", url]).exit_code == 0
    built_in, stored = tmp_path / "built-in", tmp_path / "stored"
    for out, extra in ((built_in, []), (stored, ["--db", url])):
        result = runner.invoke(
            app, ["comp", "--demo", "--from", "2026-06", "--to", "2026-08", *extra, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
    summaries = [pd.read_csv(out / "summary.csv") for out in (built_in, stored)]
    columns = ["rep_id", "month", "credited_usd", "quota_usd", "earnings_usd", "payout_usd"]
    pd.testing.assert_frame_equal(summaries[0][columns], summaries[1][columns])
    assert summaries[0]["month"].unique().tolist() == ["2026-06", "2026-07", "2026-08"]
    assert summaries[0]["payout_usd"].sum() > 0


def test_comp_dates_and_months_are_checked_with_the_option_named(tmp_path):
    cases = [
        (["--from", "2026-13"], "--from is '2026-13', not a month; write it as YYYY-MM"),
        (["--to", "soon"], "--to is 'soon', not a month"),
        (["--from", "2026-05", "--to", "2026-02"], "--from 2026-05 is after --to 2026-02"),
        (["--effective-from", "2026-02-30"], "--effective-from is '2026-02-30', not a date"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["comp", "--demo", *extra, "--out", str(tmp_path)], terminal_width=300)
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output
