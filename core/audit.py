"""The audit log: who changed what, when, from which address, under which correlation id.

An entry is added in the same transaction as the change it records, so there is no change
without its entry and no entry for a change that was rolled back. Details hold what changed
(a role, a name, a routing version), never a secret, a password, a token or a key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import ids
from core.db import models
from core.logs import correlation_id


class ActorType(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    # The platform operator (the admin key).
    ADMIN = "admin"
    # Nobody proven: a failed sign-in.
    ANONYMOUS = "anonymous"


class AuditAction(StrEnum):
    API_KEY_CREATED = "api_key.created"
    API_KEY_ROLLED = "api_key.rolled"
    API_KEY_REVOKED = "api_key.revoked"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_REMOVED = "user.removed"
    SIGNED_IN = "session.signed_in"
    SIGN_IN_FAILED = "session.sign_in_failed"
    SIGNED_OUT = "session.signed_out"
    # A refresh token was presented twice: the whole session was revoked.
    REFRESH_TOKEN_REUSED = "session.refresh_token_reused"
    ROUTING_UPDATED = "routing.updated"
    ROUTING_ROLLED_BACK = "routing.rolled_back"
    PROCESSOR_REGISTERED = "processor.registered"
    PROCESSOR_ACCOUNT_CREATED = "processor_account.created"
    PROCESSOR_ACCOUNT_CREDENTIALS_ROTATED = "processor_account.credentials_rotated"
    PROCESSOR_ACCOUNT_DISABLED = "processor_account.disabled"
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
    WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
    WEBHOOK_ENDPOINT_SECRET_ROTATED = "webhook_endpoint.secret_rotated"
    MERCHANT_CREATED = "merchant.created"


@dataclass(frozen=True)
class Actor:
    """Who acted, as the log shows it."""

    type: ActorType
    # The user's or the key's id; empty for the admin and for anonymous callers.
    id: str = ""
    # What a person recognises: the user's e-mail, the key's prefix.
    label: str = ""
    client_address: str = ""


def record(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    *,
    merchant_id: str | None,
    livemode: bool | None,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
) -> models.AuditEntry:
    """Adds an entry to `session`'s transaction. `livemode` None: the entry belongs to both
    modes (a user, a sign-in) and shows in either mode's log. `merchant_id` None: the
    platform operator's own change, in no merchant's log."""
    entry = models.AuditEntry(
        id=ids.new_id("aud"),
        merchant_id=merchant_id,
        livemode=livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        client_address=actor.client_address,
        correlation_id=correlation_id.get() or "",
        details=details or {},
    )
    session.add(entry)
    return entry
