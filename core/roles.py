"""What a dashboard user may do, by role. API keys are not users: a secret key may do what a
developer may (a read-only key what a viewer may), except manage users."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role (payloops.v1.User.Role, lower-cased)."""

    # Everything, including managing the merchant's users.
    OWNER = "owner"
    # Keys, webhooks, routing, processor accounts, payments: everything but users.
    DEVELOPER = "developer"
    # Reads only, in both modes.
    VIEWER = "viewer"
