"""The vault's tables, in its own schema `vault` (its own role owns it; the platform's role is
given no access). The one table of the platform's it reads is `api_keys`, to accept publishable
keys: its role is granted SELECT on just the columns that need."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "vault"
VERSION_TABLE = "alembic_version"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class VaultedCard(Base):
    """A card, envelope-encrypted (vault.crypto); only what a receipt shows is in clear."""

    __tablename__ = "cards"
    __table_args__ = (
        Index("cards_kek", "kek_id"),
        Index("cards_fingerprint", "merchant_id", "livemode", "fingerprint"),
        Index("cards_cvc_expiry", "cvc_expires_at", postgresql_where="cvc IS NOT NULL"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    livemode: Mapped[bool] = mapped_column(Boolean)
    brand: Mapped[str] = mapped_column(String(16))
    bin: Mapped[str] = mapped_column(String(6))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(32))
    # Which KEK wraps the data key: `payloops vault rewrap` moves every record to the first.
    kek_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # Number and holder name, AES-GCM under the data key.
    card: Mapped[bytes] = mapped_column(LargeBinary)
    # The CVC, apart: null once the first authorization used it, or once it expired.
    cvc: Mapped[bytes | None] = mapped_column(LargeBinary)
    cvc_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Detokenization(Base):
    """One card handed out: to which service, for which processor call, when."""

    __tablename__ = "detokenizations"
    __table_args__ = (Index("detokenizations_payment_method", "payment_method"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(String(32))
    livemode: Mapped[bool] = mapped_column(Boolean)
    processor: Mapped[str] = mapped_column(String(64))
    attempt_key: Mapped[str] = mapped_column(String(200))
    first_authorization: Mapped[bool] = mapped_column(Boolean)
    # Whether the answer carried the CVC (then wiped).
    cvc_released: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# The platform's table of API keys, as far as the vault may read it (not part of its schema:
# its migrations never touch it).
api_keys = Table(
    "api_keys",
    MetaData(schema="public"),
    Column("id", String(32), primary_key=True),
    Column("merchant_id", String(32)),
    Column("key_hash", String(64)),
    Column("livemode", Boolean),
    Column("kind", String(16)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
)
