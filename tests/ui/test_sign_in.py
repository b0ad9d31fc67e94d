"""Sign-in through a real OpenID Connect provider, in headless Chromium, and the gate under AppTest.

The provider is panva/oidc-provider started by ``scripts/start-oidc.sh`` (its development
login form takes any login name; the account's email is ``<login>@terrain.test``, which the
demo store's users carry). The app is started with an ``[auth]`` secrets file and without
demo mode: who acts is whoever signed in.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks import page as driver

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]


def auth_section(origin: str, issuer: str, client_secret: str) -> dict:
    return {
        "redirect_uri": f"{origin}/oauth2callback",
        "cookie_secret": secrets.token_hex(32),
        "client_id": "terrain",
        "client_secret": client_secret,
        "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
        "client_kwargs": {"prompt": "login"},
    }


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory):
    if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
        pytest.skip("needs Debian chromium at /usr/bin/chromium")
    folder = tmp_path_factory.mktemp("sign-in")
    app_port, idp_port = driver.free_port(), driver.free_port()
    origin, client_secret = f"http://127.0.0.1:{app_port}", secrets.token_hex(16)
    started = subprocess.run(
        ["bash", "scripts/start-oidc.sh", str(idp_port), "terrain", client_secret, origin],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert started.returncode == 0, started.stderr
    issuer = started.stdout.strip().splitlines()[-1]
    section = auth_section(origin, issuer, client_secret)
    lines = ["[auth]"] + [f'{k} = "{v}"' for k, v in section.items() if k != "client_kwargs"]
    (folder / "secrets.toml").write_text("\n".join([*lines, 'client_kwargs = { prompt = "login" }', ""]))
    try:
        with driver.running_app(
            f"sqlite:///{folder / 'terrain.db'}",
            port=app_port,
            extra_args=("--secrets.files", str(folder / "secrets.toml")),
            demo_mode=False,
        ) as url:
            yield url
    finally:
        pid = ROOT / ".terrain" / "oidc" / f"{idp_port}.pid"
        subprocess.run(["kill", pid.read_text().strip()], check=False)


def sign_in(page, url: str, path: str, login: str) -> None:
    """Open ``path``, sign in through the provider's login form as ``login``, come back to ``path``."""
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=login]").wait_for(timeout=60_000)
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.get_by_role("button", name="Continue").click(timeout=60_000)  # the provider's consent
    page.get_by_text("Signed in as").first.wait_for(timeout=120_000)
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")


def test_a_manager_and_an_approver_sign_in_and_see_only_what_they_may_do(signed_app):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1200})
        page = context.new_page()
        page.goto(f"{signed_app}/quotas", wait_until="domcontentloaded")
        page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
        before = page.get_by_role("button").all_inner_texts()
        assert "Submit proposals" not in before and "Approve" not in before  # nothing before signing in

        sign_in(page, signed_app, "quotas", "m01")
        page.get_by_text("Acting as Sam Patel (manager), as signed in.").wait_for(timeout=120_000)
        page.get_by_role("button", name="Submit proposals").wait_for(timeout=60_000)
        time.sleep(2)
        manager_buttons = page.get_by_role("button").all_inner_texts()
        acting_pickers = page.get_by_text("Acting as", exact=True).count()
        page.screenshot(path=str(ARTIFACTS / "signed-in-manager.png"), full_page=False)
        stale = context.new_page()  # a second tab of the same person, left open
        stale.goto(f"{signed_app}/quotas", wait_until="domcontentloaded")
        stale.get_by_role("button", name="Submit proposals").wait_for(timeout=120_000)
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Yes, sign me out").click(timeout=60_000)  # the provider's logout
        page.goto(f"{signed_app}/quotas", wait_until="domcontentloaded")
        page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
        stale.get_by_role("button", name="Submit proposals").click()  # acting through the stale tab
        stale.get_by_text("You signed out (in another tab or window).").wait_for(timeout=60_000)
        # the run that refused ends by removing the page's stale elements; a button that stays fails here
        stale.get_by_role("button", name="Submit proposals").wait_for(state="detached", timeout=60_000)
        stale_buttons = stale.get_by_role("button").all_inner_texts()
        stale.close()

        sign_in(page, signed_app, "approvals", "finance")
        page.get_by_text("Acting as Finance (approver), as signed in.").wait_for(timeout=120_000)
        page.get_by_role("button", name="Accept").first.wait_for(timeout=60_000)
        time.sleep(2)
        approver_buttons = page.get_by_role("button").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "signed-in-approver.png"), full_page=False)
        browser.close()
    assert acting_pickers == 0  # nobody chooses who they are
    assert "Submit proposals" not in stale_buttons and "Sign in" in stale_buttons
    assert "Approve" not in manager_buttons and "Return" not in manager_buttons
    assert {"Accept", "Reject", "Approve v2", "Return v2"} <= set(approver_buttons)


def test_with_sign_in_configured_nothing_shows_or_acts_before_signing_in(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRAIN_DB_URL", f"sqlite:///{tmp_path / 'terrain.db'}")
    monkeypatch.setenv("TERRAIN_DEMO_MODE", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.secrets["auth"] = auth_section("http://127.0.0.1:8501", "http://127.0.0.1:9", "x" * 32)
    at.run()
    at.switch_page("app_pages/quotas.py").run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.selectbox and not at.sidebar.warning
    assert "Sign in with your organisation's account" in at.markdown[0].value
