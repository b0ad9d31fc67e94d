"""Who may do what: roles and the permission check the store runs before every action.

Roles (checked in the core, so the CLI, the app and scripts obey the same rules):

- ``admin`` (sales operations): creates and copies versions, edits draft quotas,
  submits, returns, approves and publishes versions, proposes and decides for any team,
  asks for and decides comp adjustments, manages users;
- ``manager``: proposes quota adjustments for territories of their own team only (the
  territories whose reps report to the manager's ``rep_id``) and withdraws their own;
  asks for comp adjustments for reps of their own team;
- ``approver`` (finance): accepts or rejects proposals, returns or approves versions,
  approves or rejects comp adjustments (never their own);
- ``viewer``: reads everything, changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

from planner.errors import PermissionDenied


class Role(StrEnum):
    """A user's role."""

    ADMIN = "admin"
    MANAGER = "manager"
    APPROVER = "approver"
    VIEWER = "viewer"


PERMISSIONS: dict[str, frozenset[Role]] = {
    "manage_users": frozenset({Role.ADMIN}),
    "create_version": frozenset({Role.ADMIN}),
    "edit_quota": frozenset({Role.ADMIN}),
    "propose": frozenset({Role.ADMIN, Role.MANAGER}),
    "withdraw": frozenset({Role.ADMIN, Role.MANAGER}),
    "decide": frozenset({Role.ADMIN, Role.APPROVER}),
    "submit": frozenset({Role.ADMIN}),
    "return": frozenset({Role.ADMIN, Role.APPROVER}),
    "approve": frozenset({Role.ADMIN, Role.APPROVER}),
    "publish": frozenset({Role.ADMIN}),
    "request_adjustment": frozenset({Role.ADMIN, Role.MANAGER}),
    "decide_adjustment": frozenset({Role.ADMIN, Role.APPROVER}),
}


def require(user_id: str, role: Role, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` may perform ``action``."""
    allowed = PERMISSIONS[action]
    if role not in allowed:
        who = ", ".join(sorted(r.value for r in allowed))
        raise PermissionDenied(f"user '{user_id}' ({role.value}) may not {action}: only {who} may")


def require_team(user_id: str, role: Role, territory_id: str, team: frozenset[str]) -> None:
    """Raise :class:`PermissionDenied` when a manager acts on a territory outside their team."""
    if role is Role.MANAGER and territory_id not in team:
        raise PermissionDenied(
            f"manager '{user_id}' may only act on their own team's territories "
            f"({', '.join(sorted(team)) or 'none'}), not {territory_id}"
        )
