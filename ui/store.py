"""The plan store shared by the Quotas, Approvals, Exports and Comp pages.

The store is opened once per server and URL (``TERRAIN_DB_URL``, default an SQLite file
``.terrain/terrain.db``); an empty store is filled with the demo users and versions. Who
acts on it: :mod:`ui.identity`.
"""

from __future__ import annotations

import os

import streamlit as st

from planner.store import PlanStore
from planner.store.demo import seed_demo_store
from planner.store.migrate import DEFAULT_DB_URL
from ui.data import demo_dataset


@st.cache_resource(max_entries=4, show_spinner="Opening the plan store...")
def _open_store(url: str) -> PlanStore:
    store = PlanStore(url)
    seed_demo_store(store, demo_dataset())
    return store


def plan_store() -> PlanStore:
    """The store at ``TERRAIN_DB_URL`` (seeded with the demo when empty); shared, thread-safe."""
    return _open_store(os.environ.get("TERRAIN_DB_URL", DEFAULT_DB_URL))
