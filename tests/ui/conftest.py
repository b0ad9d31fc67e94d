"""The app under test runs in demo mode unless a test says otherwise (see ui/identity.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def demo_mode(monkeypatch):
    monkeypatch.setenv("TERRAIN_DEMO_MODE", "1")
