"""Versioned plans in a database: quotas, proposals, approvals, roles and the audit log.

See :class:`planner.store.store.PlanStore`. SQLite by default, PostgreSQL by URL.
"""

from planner.store.contents import LineContents
from planner.store.records import PlanVersion, User, VersionInfo, VersionLine
from planner.store.roles import Role
from planner.store.store import PlanStore
from planner.store.workflow import Status

__all__ = [
    "LineContents",
    "PlanStore",
    "PlanVersion",
    "Role",
    "Status",
    "User",
    "VersionInfo",
    "VersionLine",
]
