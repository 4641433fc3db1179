"""The read model and the edge's own state, in PostgreSQL. The schema is owned by the Alembic
migrations in core/db/migrations; these classes mirror it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.contracts.vocabulary import BreakerState


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the hot path's statements that skip the ORM's machinery."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    default_processor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        Index("api_keys_merchant_page", "merchant_id", "livemode", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, enough to recognise a key in a list without revealing it.
    prefix: Mapped[str] = mapped_column(String(16))
    livemode: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "secret" (sk_…) or "publishable" (pk_…, for browsers: core/api_keys.py).
    kind: Mapped[str] = mapped_column(String(16), server_default="secret")
    name: Mapped[str] = mapped_column(String(100), server_default="")
    read_only: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Written in batches by the edge (edge/key_usage.py), not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the key is rolled: it keeps working until then.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who signs in to the dashboard for one merchant, with a role (core/roles.py)."""

    __tablename__ = "users"
    __table_args__ = (
        Index(
            "users_email_active",
            "email",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index("users_merchant_page", "merchant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    # Lower-cased.
    email: Mapped[str] = mapped_column(String(254))
    # argon2id, in its own encoded form (parameters and salt included).
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """One sign-in: the family of refresh tokens it hands out, revoked as one."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("user_sessions_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("refresh_tokens_session", "session_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("user_sessions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Exchanged for the next token: presenting it again revokes the session.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    """A failed sign-in, counted per e-mail and per client address to throttle guessing."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("sign_in_failures_subject", "subject", "failed_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEntry(Base):
    """Who changed what, when, from where (core/audit.py writes them)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_merchant_page", "merchant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str | None] = mapped_column(String(32))
    livemode: Mapped[bool | None] = mapped_column(Boolean)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32), server_default="")
    actor_label: Mapped[str] = mapped_column(String(254), server_default="")
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), server_default="")
    target_id: Mapped[str] = mapped_column(String(128), server_default="")
    client_address: Mapped[str] = mapped_column(String(64), server_default="")
    correlation_id: Mapped[str] = mapped_column(String(128), server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Processor(Base):
    """A registered gateway adapter: where it listens and how long a call may take."""

    __tablename__ = "processors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    target: Mapped[str] = mapped_column(String(255))
    deadline_ms: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tls: Mapped[bool] = mapped_column(Boolean, default=False)
    # Extra CA certificates to trust for TLS (PEM), for an adapter with a private CA.
    tls_ca_pem: Mapped[str] = mapped_column(Text, default="")
    # GetCapabilities as the adapter answered it at registration (payloops.v1
    # ProcessorCapabilities in JSON); credential_fields decides who may route to it.
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessorAccount(Base):
    """A merchant's credentials at a processor (merchant_id NULL: the platform's own account,
    used for merchants without one and for webhooks on the bare path). Encrypted at rest."""

    __tablename__ = "processor_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"))
    processor: Mapped[str] = mapped_column(String(64))
    livemode: Mapped[bool] = mapped_column(Boolean)
    # core.secrets.SecretBox.seal of the credentials map.
    credentials: Mapped[bytes] = mapped_column(LargeBinary)
    # The keys of the credentials, shown instead of the values.
    credential_fields: Mapped[list[str]] = mapped_column(JSONB, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    rotated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessorEvent(Base):
    """A verified gateway webhook, recorded once by the gateway's event id."""

    __tablename__ = "processor_events"

    processor: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32), default="")
    event_type: Mapped[str] = mapped_column(String(100), default="")
    attempt_key: Mapped[str] = mapped_column(String(255), default="")
    order_id: Mapped[str] = mapped_column(String(32), default="")
    # "delivered" (the payment's workflow was told), "unmatched" (no such payment here).
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("orders_merchant_page", "merchant_id", "livemode", "created_at", "id"),
        # Analytics reads the partial hours at a window's edges, and the rollup's refresh the
        # hours it recomputes, from this index alone (edge/analytics.py, analytics_rollup.py).
        Index(
            "orders_merchant_figures",
            "merchant_id",
            "livemode",
            "created_at",
            postgresql_include=[
                "amount",
                "currency",
                "status",
                "failure_code",
                "decided_processor",
                "payment_latency_ms",
                "failed_over",
            ],
        ),
        Index(
            "orders_merchant_currency_page",
            "merchant_id",
            "livemode",
            "currency",
            "created_at",
            "id",
        ),
        Index(
            "orders_merchant_failure_page",
            "merchant_id",
            "livemode",
            "failure_code",
            "created_at",
            "id",
            postgresql_where=text("failure_code <> ''"),
        ),
        Index(
            "orders_created_correlation_id",
            "created_correlation_id",
            postgresql_where=text("created_correlation_id <> ''"),
        ),
        Index(
            "orders_paid_correlation_id",
            "paid_correlation_id",
            postgresql_where=text("paid_correlation_id <> ''"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    livemode: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    capture_method: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSONB, default=dict)
    return_url: Mapped[str] = mapped_column(Text, default="")
    # Lower-case Order.Status name; written only by the payment workflow's activities.
    status: Mapped[str] = mapped_column(String(32))
    amount_capturable: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    # Reserved by refunds in flight; amount_refunded + amount_refund_pending <= amount_received
    # is a CHECK constraint, so concurrent refunds can never overshoot.
    amount_refund_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    capture_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_reason: Mapped[str] = mapped_column(String(64), default="")
    failure_code: Mapped[str] = mapped_column(String(64), default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    next_action_url: Mapped[str] = mapped_column(Text, default="")
    # The RoutingDecision: config version, rule, candidates with reasons.
    routing: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    # The payment's whole route (orchestrator RoutePlan), as routing decided it once.
    route_plan: Mapped[dict[str, object] | None] = mapped_column(JSONB, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set on create only: who pays; a saved payment method must be this customer's.
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    # Its attempts, summed up for analytics each time one is written (summarize_attempts in
    # orchestrator/activities/orders.py): the processor of the last one ("" before any), the
    # latency of those with a result added up (NULL: none yet), and whether one failed over.
    decided_processor: Mapped[str] = mapped_column(String(64), default="")
    payment_latency_ms: Mapped[int | None] = mapped_column(Integer)
    failed_over: Mapped[bool] = mapped_column(Boolean, default=False)
    # The X-Correlation-Id of the request that created the order, and of the one that started
    # its payment (set by the edge): what a merchant quoting a request searches by.
    created_correlation_id: Mapped[str] = mapped_column(String(128), default="")
    paid_correlation_id: Mapped[str] = mapped_column(String(128), default="")


class OrderFiguresHourly(Base):
    """Payment analytics' hourly rollup of the orders (edge/analytics_rollup.py keeps it): per
    merchant, mode, grouping ('' for none, processor, status, failure_code), UTC hour, the
    group's value and currency, exact counts and amounts."""

    __tablename__ = "order_figures_hourly"

    merchant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    livemode: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)
    authorized: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    failovers: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    authorized_amount: Mapped[Decimal] = mapped_column(Numeric)
    failover_amount: Mapped[Decimal] = mapped_column(Numeric)


class OrderLatencyHourly(Base):
    """The same hours' payment latencies, per grouping (currency one of them) and group: how
    many orders fell in each histogram bucket (edge/latency_histogram.py), as parallel arrays
    in ascending bucket order."""

    __tablename__ = "order_latency_hourly"

    merchant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    livemode: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    buckets: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    counts: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))


# The hours a change of an order made stale, appended by a trigger on orders. No key: two
# payments of one merchant must never wait for each other on it.
order_figures_dirty = Table(
    "order_figures_dirty",
    Base.metadata,
    Column("merchant_id", String(32), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("hour", DateTime(timezone=True), nullable=False),
    Index("order_figures_dirty_merchant", "merchant_id", "livemode"),
)


class Customer(Base):
    """Someone who pays a merchant, in one mode. Deleted ones stay (orders name them) and
    are NOT_FOUND."""

    __tablename__ = "customers"
    __table_args__ = (
        Index("customers_merchant_page", "merchant_id", "livemode", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    livemode: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CustomerPaymentMethod(Base):
    """A vault token saved for a customer, with what a receipt shows of its card (from the
    vault; never the number)."""

    __tablename__ = "customer_payment_methods"
    __table_args__ = (
        UniqueConstraint("customer_id", "fingerprint", name="customer_payment_methods_card"),
    )

    payment_method: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    livemode: Mapped[bool] = mapped_column(Boolean)
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(128))
    # Of the first customer-present payment; sent with merchant-initiated ones.
    network_transaction_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        Index(
            "attempts_processor_reference",
            "processor_reference",
            postgresql_where=text("processor_reference <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    processor: Mapped[str] = mapped_column(String(64))
    attempt_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Lower-case Attempt.Outcome name.
    outcome: Mapped[str] = mapped_column(String(32))
    decline_code: Mapped[str] = mapped_column(String(64), default="")
    decline_message: Mapped[str] = mapped_column(Text, default="")
    processor_reference: Mapped[str] = mapped_column(String(255), default="")
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    failover_reason: Mapped[str] = mapped_column(String(64), default="")
    compensation: Mapped[str] = mapped_column(String(32), default="")
    account_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyRecord(Base):
    """One merchant's Idempotency-Key in one mode: claimed while the call runs, then its
    stored response. The same key string in the other mode is another key."""

    __tablename__ = "idempotency_keys"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    livemode: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    # "in_progress" while the first call runs, "done" once its response is stored.
    state: Mapped[str] = mapped_column(String(16))
    # 0 (OK) with the serialized response message, or a gRPC code with a google.rpc.Status.
    response_code: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RoutingConfigVersion(Base):
    """Every version of a merchant's routing configuration in one mode; the highest is
    current. Test and live each have their own."""

    __tablename__ = "routing_configs"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    livemode: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    config: Mapped[dict[str, object]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessorHealth(Base):
    """A processor's circuit breaker, shared by every worker through the database."""

    __tablename__ = "processor_health"

    processor: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=BreakerState.CLOSED)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    probe_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    # Its order's.
    livemode: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(32))
    # pending | succeeded | failed
    status: Mapped[str] = mapped_column(String(16))
    failure_code: Mapped[str] = mapped_column(String(64), default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    processor: Mapped[str] = mapped_column(String(64))
    processor_reference: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Event(Base):
    """Something that happened to a merchant's object, with the object as the API shows it."""

    __tablename__ = "events"
    __table_args__ = (
        Index("events_merchant_page", "merchant_id", "livemode", "created_at", "id"),
        # One order's events, in the page's order (ListEvents?order=…).
        Index(
            "events_order_page",
            "merchant_id",
            "livemode",
            "order_id",
            "created_at",
            "id",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    livemode: Mapped[bool] = mapped_column(Boolean)
    type: Mapped[str] = mapped_column(String(64))
    # The order the event is about (an order's change, or one of its refunds'); "" for others.
    order_id: Mapped[str] = mapped_column(String(32), server_default="")
    object: Mapped[dict[str, object]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    livemode: Mapped[bool] = mapped_column(Boolean)
    url: Mapped[str] = mapped_column(Text)
    enabled_events: Mapped[list[str]] = mapped_column(JSONB)
    # enabled | disabled | deleted
    status: Mapped[str] = mapped_column(String(16))
    disabled_reason: Mapped[str] = mapped_column(String(100), default="")
    # core.secrets.SecretBox.seal({"current": …, "previous": …})
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EventDelivery(Base):
    """One event's way to one endpoint (a durable delivery workflow drives it)."""

    __tablename__ = "event_deliveries"
    __table_args__ = (Index("event_deliveries_endpoint_page", "endpoint_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    # pending | succeeded | failed
    status: Mapped[str] = mapped_column(String(16))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("event_deliveries.id"), primary_key=True)
    attempt_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    http_status: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
