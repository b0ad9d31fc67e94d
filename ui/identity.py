"""Who is acting: a user signed in through the identity provider, or (demo mode) anyone.

With an ``[auth]`` section in ``.streamlit/secrets.toml`` the app signs people in with
OpenID Connect (``st.login``); the email the provider vouches for maps to a plan-store user
(``users.email``), and nobody can choose who they are. Without one the app is in demo
mode, says so on every page, and lets the sidebar pick the acting user; against a store
that has a published plan it refuses to act unless the operator started it with
``TERRAIN_DEMO_MODE=1`` (``scripts/run-app.sh`` does, for the shipped demo).

Signing out ends every page of that person on this server: a stale page still open in
another tab refuses to act and asks to sign in again.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from planner.store import PlanStore, Status, User
from ui import state

DEMO_FLAG = "TERRAIN_DEMO_MODE"
SIGNED_IN_AT = "identity_signed_in_at"  #: session state: when this session first saw its user


@st.cache_resource
def _sign_outs() -> dict[str, float]:
    """When each email last signed out on this server (shared by every session)."""
    return {}


def sign_in_configured() -> bool:
    """Whether an identity provider is configured (``[auth]`` in the app's secrets)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def banner() -> None:
    """Every page: the sign-in gate and the signed-in person, or the demo-mode warning."""
    if not sign_in_configured():
        st.sidebar.warning("Demo mode: anyone can act as anyone (no identity provider is configured).")
        return
    if not st.user.get("is_logged_in", False):
        st.title("Terrain")
        st.write("Sign in with your organisation's account to plan territories and quotas.")
        if st.button("Sign in", type="primary", key="sign_in"):
            st.login()
        st.stop()
    email = str(st.user.get("email") or "")
    started = st.session_state.setdefault(SIGNED_IN_AT, time.time())
    if _sign_outs().get(email, 0.0) >= started:
        st.error("You signed out (in another tab or window). Sign in again to go on.")
        if st.button("Sign in", type="primary", key="sign_in_again"):
            st.logout()  # clears the old identity cookie; the next page asks the provider again
        st.stop()
    st.sidebar.caption(f"Signed in as {st.user.get('name') or email} ({email})")
    if st.sidebar.button("Sign out", key="sign_out"):
        _sign_outs()[email] = time.time()
        st.logout()


def acting_user(store: PlanStore) -> User:
    """The user who acts on the plan store: the signed-in one, or (demo mode) the sidebar's pick."""
    if sign_in_configured():
        email = str(st.user.get("email") or "")
        user = store.user_by_email(email) if email else None
        if user is None:
            st.error(
                f"You are signed in as {email or 'someone without an email'}, who is not a plan-store user; "
                "ask an admin to add you (planner quota add-user ... --email)."
            )
            st.stop()
        st.sidebar.caption(f"Acting as {user.name} ({user.role.value}), as signed in.")
        return user
    if os.environ.get(DEMO_FLAG) != "1" and any(v.status is Status.PUBLISHED for v in store.versions()):
        st.error(
            "This plan store holds published plans, and without sign-in anyone could act as anyone. "
            "Configure an identity provider (docs/app.md#sign-in), or start the app with "
            f"{DEMO_FLAG}=1 to accept demo mode on this store."
        )
        st.stop()
    users = {user.user_id: user for user in store.users()}
    labels = {uid: f"{u.name} ({u.role.value})" for uid, u in users.items()}
    default = list(users).index("ops") if "ops" in users else 0
    chosen = st.sidebar.selectbox(
        "Acting as", list(users), index=default, format_func=labels.get, key=state.USER
    )
    return users[chosen]
