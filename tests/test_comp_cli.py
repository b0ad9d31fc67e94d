"""``planner comp`` on a small data set: statements written, totals printed, bad inputs exit 1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from planner.cli import app

ROOT = Path(__file__).resolve().parents[1]
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
