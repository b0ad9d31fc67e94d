"""The plan store shared by the Quotas and Approvals pages, and who is acting.

The store is opened once per server and URL (``TERRAIN_DB_URL``, default an SQLite file
``.terrain/terrain.db``); an empty store is filled with the demo users and versions. The
acting user is chosen in the sidebar: there is no login here, so a team deployment puts
single sign-on in front of the app and maps people to these user ids; roles are enforced
in the core whatever the UI shows.
"""

from __future__ import annotations

import os

import streamlit as st

from planner.store import PlanStore, User
from planner.store.demo import seed_demo_store
from planner.store.migrate import DEFAULT_DB_URL
from ui import state
from ui.data import demo_dataset


@st.cache_resource(max_entries=4, show_spinner="Opening the plan store...")
def _open_store(url: str) -> PlanStore:
    store = PlanStore(url)
    seed_demo_store(store, demo_dataset())
    return store


def plan_store() -> PlanStore:
    """The store at ``TERRAIN_DB_URL`` (seeded with the demo when empty); shared, thread-safe."""
    return _open_store(os.environ.get("TERRAIN_DB_URL", DEFAULT_DB_URL))


def acting_user(store: PlanStore) -> User:
    """Sidebar picker of the acting user; returns the chosen :class:`User`."""
    users = {user.user_id: user for user in store.users()}
    labels = {uid: f"{u.name} ({u.role.value})" for uid, u in users.items()}
    default = list(users).index("ops") if "ops" in users else 0
    chosen = st.sidebar.selectbox(
        "Acting as", list(users), index=default, format_func=labels.get, key=state.USER
    )
    st.sidebar.caption("Roles are enforced in the planner core; a deployment puts sign-on in front.")
    return users[chosen]
