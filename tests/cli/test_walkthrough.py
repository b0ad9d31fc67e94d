"""The quota walkthrough of docs/quotas.md runs end to end as written, on SQLite and PostgreSQL.

On PostgreSQL the command line acts as the user mapped to the database login, so there each
``TERRAIN_USER=x`` of the walkthrough becomes a connection as the login ``x`` (the demo maps
logins to the users of the same name); everything else runs as written.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> list[str]:
    """The shell lines of the walkthrough block (the one that starts with ``export TERRAIN_DB_URL``)."""
    text = (ROOT / "docs" / "quotas.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    [block] = [b for b in blocks if b.startswith("export TERRAIN_DB_URL")]
    return [line for line in block.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_quota_walkthrough_runs_as_written(backend, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'terrain.db'}"
    else:
        base_url = postgres_url()
        schema = f"walk_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(base_url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for login in ("ops", "finance", "m01"):  # test logins: cluster-wide, made once
                if not conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{login}'").first():
                    conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN SUPERUSER PASSWORD 'walkthrough'")

        def url_as(login: str) -> str:
            base = make_url(base_url).set(username=login, password="walkthrough")
            return f"{base.render_as_string(hide_password=False)}?options=-csearch_path%3D{schema}"

        url = url_as("ops")
    env = {**os.environ, "TERRAIN_DB_URL": url, "TERRAIN_USER": "ops", "COLUMNS": "200"}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    try:
        for line in walkthrough():
            if backend == "postgresql":
                line = re.sub(r"TERRAIN_USER=(\w+)", lambda m: f"TERRAIN_DB_URL='{url_as(m[1])}'", line)
                env.pop("TERRAIN_USER", None)
            result = subprocess.run(
                ["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
            )
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
            assert "Traceback" not in result.stdout + result.stderr, line
    finally:
        if backend == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            engine.dispose()
