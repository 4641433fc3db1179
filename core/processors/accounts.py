"""Processor accounts: whose credentials a payment uses at a processor.

A merchant's own enabled account for (processor, mode) wins; otherwise the platform's account
(merchant_id NULL) for that processor and mode; otherwise, if the processor needs no
credentials (its capabilities list no credential_fields), none at all. Without any of these the
merchant has no account there and routing skips the processor. Test and live never mix: a
payment made with a test key only ever uses test credentials.

Credentials are sealed with core.secrets.SecretBox before they reach the database, and opened
only by the call that sends them to the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import errors, ids
from core.db import models
from core.secrets import SecretBox

# Keys of a credentials map are field names such as "secret_key"; values are secrets.
_MAX_FIELDS = 20
_MAX_VALUE = 4096


@dataclass(frozen=True)
class Account:
    """An account as the API shows it: never its secrets."""

    id: str
    processor: str
    livemode: bool
    credential_fields: tuple[str, ...]
    enabled: bool
    created_at: datetime
    rotated_at: datetime


def credential_violations(
    processor: models.Processor | None, credentials: dict[str, str]
) -> list[errors.FieldViolation]:
    if processor is None:
        return [
            errors.FieldViolation(
                "processor", "PROCESSOR_UNKNOWN", "no processor is registered under this name"
            )
        ]
    found = []
    needed = [str(name) for name in processor.capabilities.get("credential_fields", [])]
    for name in needed:
        if not credentials.get(name):
            found.append(
                errors.FieldViolation(
                    f"credentials.{name}", "CREDENTIAL_MISSING", f"{processor.name} needs {name!r}"
                )
            )
    if len(credentials) > _MAX_FIELDS:
        found.append(
            errors.FieldViolation(
                "credentials", "CREDENTIALS_TOO_MANY", f"at most {_MAX_FIELDS} fields"
            )
        )
    for name, value in credentials.items():
        if len(value) > _MAX_VALUE:
            # The name only: a value is a secret and never goes back out in an error.
            found.append(
                errors.FieldViolation(
                    f"credentials.{name}", "CREDENTIAL_TOO_LONG", f"at most {_MAX_VALUE} characters"
                )
            )
    return found


async def create(
    session: AsyncSession,
    box: SecretBox,
    merchant_id: str | None,
    processor_name: str,
    livemode: bool,
    credentials: dict[str, str],
) -> Account:
    processor = await session.get(models.Processor, processor_name)
    if violations := credential_violations(processor, credentials):
        raise errors.invalid(violations)
    row = models.ProcessorAccount(
        id=ids.new_id("pa"),
        merchant_id=merchant_id,
        processor=processor_name,
        livemode=livemode,
        credentials=box.seal(credentials),
        credential_fields=sorted(credentials),
        enabled=True,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        raise errors.PayLoopsError(
            errors.PROCESSOR_ACCOUNT_EXISTS,
            f"an enabled {processor_name} account already exists in this mode; rotate its "
            "credentials or disable it first",
            metadata={"processor": processor_name},
        ) from error
    await session.refresh(row)
    return _account(row)


async def listed(session: AsyncSession, merchant_id: str, livemode: bool) -> list[Account]:
    rows = await session.execute(
        select(models.ProcessorAccount)
        .where(
            models.ProcessorAccount.merchant_id == merchant_id,
            models.ProcessorAccount.livemode == livemode,
        )
        .order_by(models.ProcessorAccount.created_at.desc(), models.ProcessorAccount.id)
    )
    return [_account(row) for row in rows.scalars()]


async def rotate(
    session: AsyncSession,
    box: SecretBox,
    merchant_id: str,
    livemode: bool,
    account_id: str,
    credentials: dict[str, str],
) -> Account:
    row = await _owned(session, merchant_id, livemode, account_id)
    processor = await session.get(models.Processor, row.processor)
    if violations := credential_violations(processor, credentials):
        raise errors.invalid(violations)
    row.credentials = box.seal(credentials)
    row.credential_fields = sorted(credentials)
    row.rotated_at = await session.scalar(select(func.now()))  # type: ignore[assignment]
    await session.flush()
    return _account(row)


async def disable(
    session: AsyncSession, merchant_id: str, livemode: bool, account_id: str
) -> tuple[Account, bool]:
    """The account, disabled, and whether this call disabled it (False: it already was)."""
    row = await _owned(session, merchant_id, livemode, account_id)
    # Decided by the update itself: of two concurrent calls, one disables it.
    changed = await session.execute(
        update(models.ProcessorAccount)
        .where(models.ProcessorAccount.id == row.id, models.ProcessorAccount.enabled)
        .values(enabled=False)
        .returning(models.ProcessorAccount.id)
    )
    disabled = changed.first() is not None
    await session.refresh(row)
    return _account(row), disabled


# Built once: every payment reads it (see orchestrator/activities/orders.py).
_USABLE = select(
    models.ProcessorAccount.processor,
    models.ProcessorAccount.id,
    models.ProcessorAccount.merchant_id,
).where(
    models.ProcessorAccount.enabled,
    models.ProcessorAccount.livemode == bindparam("livemode"),
    (models.ProcessorAccount.merchant_id == bindparam("merchant_id"))
    | models.ProcessorAccount.merchant_id.is_(None),
)


async def usable(
    session: AsyncSession, merchant_id: str, livemode: bool, processors: list[models.Processor]
) -> dict[str, str | None]:
    """For each processor the merchant can use in this mode, the account whose credentials its
    payments send (None when the processor needs no credentials). Processors missing from the
    result have no usable account."""
    rows = await session.execute(_USABLE, {"merchant_id": merchant_id, "livemode": livemode})
    own: dict[str, str] = {}
    platform: dict[str, str] = {}
    for name, account_id, owner in rows:
        (own if owner is not None else platform)[name] = account_id
    found: dict[str, str | None] = {}
    for processor in processors:
        account = own.get(processor.name) or platform.get(processor.name)
        if account is not None:
            found[processor.name] = account
        elif not processor.capabilities.get("credential_fields"):
            found[processor.name] = None
    return found


async def credentials(
    session: AsyncSession, box: SecretBox, account_id: str
) -> tuple[dict[str, str], bool]:
    """The opened credentials of an account and its mode, for one call to the adapter."""
    row = await session.get(models.ProcessorAccount, account_id)
    if row is None:
        raise errors.PayLoopsError(
            errors.PROCESSOR_ACCOUNT_NOT_FOUND, f"no processor account {account_id!r}"
        )
    return box.open(row.credentials), row.livemode


async def for_webhook(
    session: AsyncSession, processor: str, account_id: str
) -> models.ProcessorAccount | None:
    """The account whose secret verifies a webhook: the one named in the path, or the
    platform's (test mode first: the platform's live account, if any, is the fallback)."""
    if account_id:
        row = await session.get(models.ProcessorAccount, account_id)
        return row if row is not None and row.processor == processor else None
    return (
        (
            await session.execute(
                select(models.ProcessorAccount)
                .where(
                    models.ProcessorAccount.processor == processor,
                    models.ProcessorAccount.merchant_id.is_(None),
                    models.ProcessorAccount.enabled,
                )
                .order_by(models.ProcessorAccount.livemode)
            )
        )
        .scalars()
        .first()
    )


async def _owned(
    session: AsyncSession, merchant_id: str, livemode: bool, account_id: str
) -> models.ProcessorAccount:
    row = await session.get(models.ProcessorAccount, account_id)
    # Another merchant's account, or one of the other mode, does not exist for this caller.
    if row is None or row.merchant_id != merchant_id or row.livemode != livemode:
        raise errors.PayLoopsError(
            errors.PROCESSOR_ACCOUNT_NOT_FOUND,
            f"no processor account {account_id!r}",
            metadata={"processorAccount": account_id},
        )
    return row


def _account(row: models.ProcessorAccount) -> Account:
    return Account(
        id=row.id,
        processor=row.processor,
        livemode=row.livemode,
        credential_fields=tuple(row.credential_fields),
        enabled=row.enabled,
        created_at=row.created_at,
        rotated_at=row.rotated_at,
    )
