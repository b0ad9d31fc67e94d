"""The life of a plan version as a state machine.

::

    draft --submit--> proposed --approve--> approved --publish--> published
      ^                  |
      +-----return-------+

A version is editable (quotas, proposals) only while ``draft`` or ``proposed``.
``approved`` and ``published`` versions are immutable; a new version starts from a copy.
The comp calculator and exports read ``published`` versions.
"""

from __future__ import annotations

from enum import StrEnum

from planner.errors import WorkflowError


class Status(StrEnum):
    """Status of a plan version."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    APPROVED = "approved"
    PUBLISHED = "published"


TRANSITIONS: dict[tuple[Status, str], Status] = {
    (Status.DRAFT, "submit"): Status.PROPOSED,
    (Status.PROPOSED, "return"): Status.DRAFT,
    (Status.PROPOSED, "approve"): Status.APPROVED,
    (Status.APPROVED, "publish"): Status.PUBLISHED,
}
EDITABLE = frozenset({Status.DRAFT, Status.PROPOSED})
ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))


def next_status(status: Status, action: str) -> Status:
    """Return the status after ``action``; raise :class:`WorkflowError` naming the legal actions."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        legal = [a for (s, a) in TRANSITIONS if s == status]
        hint = f"legal now: {', '.join(legal)}" if legal else "no further transitions; copy it to a new draft"
        raise WorkflowError(f"cannot {action} a {status.value} version ({hint})") from None


def require_editable(status: Status, what: str) -> None:
    """Raise :class:`WorkflowError` unless a version in ``status`` may be changed."""
    if status not in EDITABLE:
        raise WorkflowError(
            f"cannot {what}: the version is {status.value} and immutable; copy it to a new draft first"
        )
