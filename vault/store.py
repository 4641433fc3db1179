"""The vault's records: storing a card, handing it out for one processor call (audited, the
CVC wiped by a first authorization), wiping expired CVCs, re-wrapping under a new KEK."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vaulted_cards import CardData
from vault.cards import Card
from vault.config import VaultSettings
from vault.crypto import Envelope, fingerprint
from vault.db.models import Detokenization, VaultedCard
from vault.ids import new_payment_method_id


@dataclass(frozen=True)
class Owner:
    merchant_id: str
    livemode: bool


@dataclass(frozen=True)
class Use:
    """One processor call a card is handed out for."""

    service: str
    processor: str
    attempt_key: str
    first_authorization: bool


def vault_of(settings: VaultSettings, sessions: async_sessionmaker[AsyncSession]) -> Vault:
    return Vault(
        sessions,
        Envelope(settings.keks),
        settings.fingerprint_key,
        timedelta(seconds=settings.cvc_ttl_seconds),
    )


class Vault:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        envelope: Envelope,
        fingerprint_key: bytes,
        cvc_ttl: timedelta,
    ) -> None:
        self._sessions = sessions
        self._envelope = envelope
        self._fingerprint_key = fingerprint_key
        self._cvc_ttl = cvc_ttl

    async def store(self, owner: Owner, card: Card) -> VaultedCard:
        record_id = new_payment_method_id()
        sealed = self._envelope.seal(record_id, card.number, card.holder_name, card.cvc)
        row = VaultedCard(
            id=record_id,
            merchant_id=owner.merchant_id,
            livemode=owner.livemode,
            brand=card.brand,
            bin=card.bin,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            fingerprint=fingerprint(self._fingerprint_key, owner.merchant_id, card.number),
            kek_id=sealed.kek_id,
            wrapped_key=sealed.wrapped_key,
            card=sealed.card,
            cvc=sealed.cvc,
            cvc_expires_at=datetime.now(UTC) + self._cvc_ttl if sealed.cvc else None,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return row

    async def record_of(self, payment_method: str, owner: Owner) -> VaultedCard | None:
        """The card's record (brand, last four, expiry, fingerprint: nothing encrypted is
        opened); None when it is not this owner's."""
        async with self._sessions() as session:
            return (
                await session.execute(
                    select(VaultedCard).where(
                        VaultedCard.id == payment_method,
                        VaultedCard.merchant_id == owner.merchant_id,
                        VaultedCard.livemode == owner.livemode,
                    )
                )
            ).scalar_one_or_none()

    async def card_for(self, payment_method: str, owner: Owner, use: Use) -> CardData | None:
        """The card, audited; None when it is not this owner's. The row is locked, so of two
        concurrent first authorizations only one gets the CVC."""
        async with self._sessions.begin() as session:
            row = (
                await session.execute(
                    select(VaultedCard)
                    .where(
                        VaultedCard.id == payment_method,
                        VaultedCard.merchant_id == owner.merchant_id,
                        VaultedCard.livemode == owner.livemode,
                    )
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            cvc_live = row.cvc_expires_at is not None and row.cvc_expires_at > datetime.now(UTC)
            release_cvc = use.first_authorization and cvc_live
            opened = self._envelope.open(
                row.id, row.kek_id, row.wrapped_key, row.card, row.cvc if release_cvc else None
            )
            if use.first_authorization or not cvc_live:
                row.cvc, row.cvc_expires_at = None, None
            session.add(
                Detokenization(
                    service=use.service,
                    payment_method=row.id,
                    merchant_id=owner.merchant_id,
                    livemode=owner.livemode,
                    processor=use.processor,
                    attempt_key=use.attempt_key,
                    first_authorization=use.first_authorization,
                    cvc_released=bool(opened.cvc),
                )
            )
            return CardData(
                number=opened.number,
                exp_month=row.exp_month,
                exp_year=row.exp_year,
                cvc=opened.cvc,
                holder_name=opened.holder_name,
            )

    async def wipe_expired_cvcs(self) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(VaultedCard)
                .where(
                    VaultedCard.cvc.is_not(None), VaultedCard.cvc_expires_at <= datetime.now(UTC)
                )
                .values(cvc=None, cvc_expires_at=None)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def rewrap_batch(self, size: int) -> int:
        """Re-wraps up to `size` records still under an older KEK; the number done. Rows being
        re-wrapped elsewhere (another rewrap run, a detokenization) are skipped, not waited for;
        each row's new wrapped key is written with its KEK id in one update, so a reader sees
        one consistent pair."""
        current = self._envelope.current.id
        async with self._sessions.begin() as session:
            rows = (
                await session.execute(
                    select(VaultedCard.id, VaultedCard.kek_id, VaultedCard.wrapped_key)
                    .where(VaultedCard.kek_id != current)
                    .limit(size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for record_id, kek_id, wrapped_key in rows:
                await session.execute(
                    update(VaultedCard)
                    .where(VaultedCard.id == record_id)
                    .values(
                        kek_id=current,
                        wrapped_key=self._envelope.rewrap(record_id, kek_id, wrapped_key),
                    )
                )
        return len(rows)

    async def count_under_older_keks(self) -> int:
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(VaultedCard)
                .where(VaultedCard.kek_id != self._envelope.current.id)
            )
        return int(found or 0)
