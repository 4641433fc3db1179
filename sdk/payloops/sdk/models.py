"""What the PayLoops API returns, as frozen dataclasses. GENERATED from gen/openapi.json
by `python -m cli.sdk_codegen` (`make gen`): do not edit.

Amounts and other int64 values are `int`; enum values are lower-case strings (an unset
one is ""); timestamps are timezone-aware `datetime`s; durations are `timedelta`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from payloops.sdk._wire import OUTPUT_ONLY, WIRE


@dataclass(frozen=True)
class ApiKey:
    """A key a program uses to call the API for one merchant, in one mode."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `key_…`."""

    name: str = field(default="", metadata={WIRE: "string"})
    """A name the merchant chose to recognise the key by (at most 100 characters)."""

    livemode: bool = field(default=False, metadata={WIRE: "bool"})
    """Live mode (`sk_live_…`) rather than test mode (`sk_test_…`). On create, a key may only
    create keys of its own mode.
    """

    read_only: bool = field(default=False, metadata={WIRE: "bool"})
    """The key may only read: every call that changes something answers 403 API_KEY_READ_ONLY.
    Secret keys only: a publishable key with it is refused (READ_ONLY_NOT_FOR_PUBLISHABLE).
    """

    kind: str = field(default="", metadata={WIRE: "enum"})
    """SECRET (the default on create) or PUBLISHABLE; a rolled key keeps its kind.

    One of: secret, publishable.
    """

    prefix: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The key's first characters, enough to recognise it."""

    secret: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The whole key: only in the responses of create and roll."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was created."""

    last_used_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was last used (kept up to date within a few seconds)."""

    expire_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it stops working (set when it was rolled); absent: never."""

    revoke_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was revoked; absent: not revoked."""


@dataclass(frozen=True)
class Attempt:
    """One try at one processor."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """Processor name, such as "sandbox"."""

    outcome: str = field(default="", metadata={WIRE: "enum"})
    """Outcome of the attempt.

    One of: pending, succeeded, authorized, requires_action, declined, failed, canceled.
    """

    decline_code: str = field(default="", metadata={WIRE: "string"})
    """Processor-independent decline code, such as "insufficient_funds"; empty unless DECLINED or
    FAILED.
    """

    decline_message: str = field(default="", metadata={WIRE: "string"})
    """Human-readable decline or failure message."""

    latency: timedelta | None = field(default=None, metadata={WIRE: "duration"})
    """Time the processor took to answer the authorization."""

    attempt_key: str = field(default="", metadata={WIRE: "string"})
    """The idempotency key sent to the processor for this attempt."""

    processor_reference: str = field(default="", metadata={WIRE: "string"})
    """The processor's own reference for the payment, when it gave one."""

    create_time: datetime | None = field(default=None, metadata={WIRE: "timestamp"})
    """When the attempt was made."""

    failover_reason: str = field(default="", metadata={WIRE: "string"})
    """Why the payment moved on to another processor after this attempt, such as "soft_decline",
    "not_sent", "outcome_unknown"; empty for the attempt that settled the order.
    """

    compensation: str = field(default="", metadata={WIRE: "string"})
    """Set when this attempt was charged although another one won, and PayLoops undid it: "voided"
    or "refunded".
    """


@dataclass(frozen=True)
class AuditActor:
    """Who made a change."""

    type: str = field(default="", metadata={WIRE: "enum"})
    """The kind of caller.

    One of: user, api_key, admin, anonymous.
    """

    id: str = field(default="", metadata={WIRE: "string"})
    """The user's or the key's id (`usr_…`, `key_…`); empty for the operator and for anonymous
    callers.
    """

    label: str = field(default="", metadata={WIRE: "string"})
    """What a person recognises: the key's prefix (`sk_test_AbCd`), the user's e-mail."""


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `aud_…`."""

    action: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """What happened, `<object>.<verb>`: `api_key.created`, `routing.updated`,
    `webhook_endpoint.secret_rotated`... (docs/audit.md lists them all).
    """

    actor: AuditActor | None = field(
        default=None, metadata={WIRE: "message:AuditActor", OUTPUT_ONLY: True}
    )
    """Who did it."""

    target: AuditTarget | None = field(
        default=None, metadata={WIRE: "message:AuditTarget", OUTPUT_ONLY: True}
    )
    """What it was done to."""

    client_address: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The IP address the request came from (the peer Envoy saw); empty when unknown."""

    correlation_id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The request's correlation id (the X-Correlation-ID it sent, or the one PayLoops gave it).
    """

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """The mode the change was made in; absent when it belongs to both modes."""

    details: dict[str, Any] = field(
        default_factory=dict, metadata={WIRE: "json", OUTPUT_ONLY: True}
    )
    """What changed, in a few fields of the action's own (a key's name, a routing version, a
    webhook endpoint's event types). Never a secret, a credential or a key.
    """

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the change was made."""


@dataclass(frozen=True)
class AuditTarget:
    """What a change was made to."""

    type: str = field(default="", metadata={WIRE: "string"})
    """The kind of object: `api_key`, `routing_config`, `processor_account`, `webhook_endpoint`,
    `merchant`, `user`...
    """

    id: str = field(default="", metadata={WIRE: "string"})
    """Its id (a routing configuration's: its version)."""


@dataclass(frozen=True)
class AvailableProcessor:
    """A processor a merchant can route to, as the merchant sees it."""

    name: str = field(default="", metadata={WIRE: "string"})
    """Processor name, as routing rules and processor accounts name it."""

    capabilities: ProcessorCapabilities | None = field(
        default=None, metadata={WIRE: "message:ProcessorCapabilities"}
    )
    """What the processor supports, and the credential fields an account needs."""

    account_source: str = field(default="", metadata={WIRE: "enum"})
    """Whose account its payments would use in this mode.

    One of: own, platform, not_needed, none.
    """

    processor_account: str = field(default="", metadata={WIRE: "string"})
    """The merchant's own account, when account_source is OWN."""

    health: ProcessorHealth | None = field(
        default=None, metadata={WIRE: "message:ProcessorHealth", OUTPUT_ONLY: True}
    )
    """The processor's circuit breaker now: whether routing sends payments to it."""


@dataclass(frozen=True)
class CurrencyAmount:
    """An amount in one currency, in minor units."""

    currency: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """ISO 4217 code, upper case."""

    amount: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """In the currency's minor units."""


@dataclass(frozen=True)
class CurrencyVolume:
    """What a bucket's orders of one currency amount to, in minor units."""

    currency: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """ISO 4217 code, upper case."""

    amount: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """The amounts of all of the bucket's orders in this currency."""

    succeeded_amount: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """The amounts of those authorized (status SUCCEEDED or REQUIRES_CAPTURE)."""

    count: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Orders in this currency."""


@dataclass(frozen=True)
class Customer:
    """Someone who pays the merchant."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `cus_…`."""

    email: str = field(default="", metadata={WIRE: "string"})
    """E-mail address, at most 254 characters."""

    name: str = field(default="", metadata={WIRE: "string"})
    """Full name, at most 200 characters."""

    description: str = field(default="", metadata={WIRE: "string"})
    """Free text, at most 1000 characters."""

    metadata: dict[str, str] = field(default_factory=dict, metadata={WIRE: "map:string"})
    """Merchant's own key/value pairs, as on orders."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """True for customers made with a live key."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the customer was created."""

    update_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the customer last changed."""


@dataclass(frozen=True)
class CustomerPaymentMethod:
    """A vaulted payment method saved for a customer: what a receipt shows of its card."""

    id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The vault token, `pm_vault_…`."""

    customer: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The customer it is saved for, `cus_…`."""

    brand: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Card brand, such as "visa"."""

    last4: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Last four digits of the card number."""

    exp_month: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Expiry month, 1 to 12."""

    exp_year: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Expiry year."""

    fingerprint: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Same card, same fingerprint (per merchant)."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was attached."""


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of an event to an endpoint."""

    attempt_number: int = field(default=0, metadata={WIRE: "int"})
    """1 for the first attempt."""

    create_time: datetime | None = field(default=None, metadata={WIRE: "timestamp"})
    """When it was sent."""

    http_status: int = field(default=0, metadata={WIRE: "int"})
    """The endpoint's HTTP status; 0 when it did not answer."""

    latency: timedelta | None = field(default=None, metadata={WIRE: "duration"})
    """How long it took."""

    error: str = field(default="", metadata={WIRE: "string"})
    """What went wrong, as a class (never the error's own text): connection_refused, timeout,
    tls_error, dns_error, http_status (the status is in http_status), destination_not_allowed,
    connection_error, worker_lost or internal_error; empty on 2xx.
    """


@dataclass(frozen=True)
class Event:
    """Something that happened to one of the merchant's objects."""

    id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Server-generated identifier, `evt_…`: the same in every delivery of this event, so a
    receiver can drop duplicates.
    """

    type: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """order.succeeded, order.failed, order.requires_action, order.requires_capture,
    order.captured, order.canceled, refund.succeeded, refund.failed, webhook_endpoint.disabled.
    """

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it happened."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """Test or live."""

    object: dict[str, Any] = field(default_factory=dict, metadata={WIRE: "json", OUTPUT_ONLY: True})
    """The object after the change, exactly as the API returns it (an Order, a Refund or a
    WebhookEndpoint).
    """


@dataclass(frozen=True)
class EventDelivery:
    """An event's way to one endpoint: retried with backoff for up to 3 days until answered 2xx."""

    id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Server-generated identifier, `evd_…`."""

    event: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The event's id."""

    webhook_endpoint: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The endpoint's id."""

    status: str = field(default="", metadata={WIRE: "enum", OUTPUT_ONLY: True})
    """Current status.

    One of: pending, succeeded, failed.
    """

    attempts: list[DeliveryAttempt] = field(
        default_factory=list, metadata={WIRE: "list:message:DeliveryAttempt", OUTPUT_ONLY: True}
    )
    """Every attempt, oldest first."""

    next_attempt_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the next attempt is due, while PENDING."""

    event_type: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The event's type, such as "order.succeeded"."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the delivery was first started."""


@dataclass(frozen=True)
class FailoverTarget:
    """Processors tried in order. "*" stands for every other enabled processor, by name."""

    processors: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Processor names."""


@dataclass(frozen=True)
class FirstChoiceShare:
    """A processor's chance of being tried first."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """Processor name."""

    share: float = field(default=0.0, metadata={WIRE: "float"})
    """Probability from 0 to 1."""


@dataclass(frozen=True)
class GetPaymentAnalyticsResponse:
    """Response for AnalyticsService.GetPaymentAnalytics."""

    buckets: list[PaymentAnalyticsBucket] = field(
        default_factory=list, metadata={WIRE: "list:message:PaymentAnalyticsBucket"}
    )
    """The non-empty buckets, by start time, then by group. A time bucket or a group with no order
    is absent (its counts would all be zero).
    """


@dataclass(frozen=True)
class Health:
    """Health of the edge and the parts it depends on."""

    status: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """"ok" when every check passed, "degraded" when no worker polls the task queue (the edge
    serves; payments wait for a worker). A database or Temporal the edge cannot reach answers
    503 DEPENDENCY_UNAVAILABLE instead.
    """

    checks: dict[str, str] = field(
        default_factory=dict, metadata={WIRE: "map:string", OUTPUT_ONLY: True}
    )
    """Per dependency ("database", "temporal", and "worker": a worker polls the task queue): "ok"
    or a short error ("no_poller" for a worker missing).
    """


@dataclass(frozen=True)
class JsonWebKey:
    """One public key (RFC 7517 section 4, RFC 8037 for Ed25519)."""

    kty: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Key type: "OKP"."""

    crv: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Curve: "Ed25519"."""

    x: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The public key, base64url without padding."""

    kid: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Key id: the RFC 7638 thumbprint of the key, as in the `kid` header of the tokens it signed.
    """

    alg: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Algorithm: "EdDSA"."""

    use: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Use: "sig"."""


@dataclass(frozen=True)
class JsonWebKeySet:
    """A JWK Set (RFC 7517 section 5): the field names are the RFC's."""

    keys: list[JsonWebKey] = field(
        default_factory=list, metadata={WIRE: "list:message:JsonWebKey", OUTPUT_ONLY: True}
    )
    """The keys, the signing one first."""


@dataclass(frozen=True)
class ListApiKeysResponse:
    """Response for ApiKeyService.ListApiKeys."""

    api_keys: list[ApiKey] = field(default_factory=list, metadata={WIRE: "list:message:ApiKey"})
    """The keys, newest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Token for the next page; empty on the last page."""


@dataclass(frozen=True)
class ListAuditEntriesResponse:
    """Response for AuditLogService.ListAuditEntries."""

    audit_entries: list[AuditEntry] = field(
        default_factory=list, metadata={WIRE: "list:message:AuditEntry"}
    )
    """The entries, newest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Token for the next page; empty on the last page."""


@dataclass(frozen=True)
class ListAvailableProcessorsResponse:
    """Response for ProcessorAccountService.ListAvailableProcessors."""

    processors: list[AvailableProcessor] = field(
        default_factory=list, metadata={WIRE: "list:message:AvailableProcessor"}
    )
    """The processors, by name."""

    livemode: bool = field(default=False, metadata={WIRE: "bool"})
    """The mode the list is for: the API key's (or the session's PayLoops-Mode)."""


@dataclass(frozen=True)
class ListCustomerPaymentMethodsResponse:
    """Response for CustomerService.ListCustomerPaymentMethods."""

    payment_methods: list[CustomerPaymentMethod] = field(
        default_factory=list, metadata={WIRE: "list:message:CustomerPaymentMethod"}
    )
    """The saved payment methods, newest first."""


@dataclass(frozen=True)
class ListCustomersResponse:
    """Response for CustomerService.ListCustomers."""

    customers: list[Customer] = field(
        default_factory=list, metadata={WIRE: "list:message:Customer"}
    )
    """The customers, newest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Pass as `page_token` for the next page; empty on the last one."""


@dataclass(frozen=True)
class ListEventDeliveriesResponse:
    """Response for EventService.ListEventDeliveries and RedeliverEvent."""

    deliveries: list[EventDelivery] = field(
        default_factory=list, metadata={WIRE: "list:message:EventDelivery"}
    )
    """One per endpoint the event went to (or was sent to again)."""


@dataclass(frozen=True)
class ListEventsResponse:
    """Response for EventService.ListEvents."""

    events: list[Event] = field(default_factory=list, metadata={WIRE: "list:message:Event"})
    """The events, newest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Token for the next page; empty on the last page."""


@dataclass(frozen=True)
class ListOrdersResponse:
    """Response for OrderService.ListOrders."""

    orders: list[Order] = field(default_factory=list, metadata={WIRE: "list:message:Order"})
    """The orders, newest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Token for the next page; empty on the last page."""


@dataclass(frozen=True)
class ListProcessorAccountsResponse:
    """Response for ProcessorAccountService.ListProcessorAccounts."""

    processor_accounts: list[ProcessorAccount] = field(
        default_factory=list, metadata={WIRE: "list:message:ProcessorAccount"}
    )
    """The merchant's accounts in the API key's mode, newest first."""


@dataclass(frozen=True)
class ListProcessorsResponse:
    """Response for ProcessorService.ListProcessors."""

    processors: list[Processor] = field(
        default_factory=list, metadata={WIRE: "list:message:Processor"}
    )
    """Every registered processor."""


@dataclass(frozen=True)
class ListRefundsResponse:
    """Response for RefundService.ListRefunds."""

    refunds: list[Refund] = field(default_factory=list, metadata={WIRE: "list:message:Refund"})
    """The order's refunds, oldest first."""


@dataclass(frozen=True)
class ListRoutingConfigVersionsResponse:
    """One page of routing configuration versions, newest first."""

    routing_configs: list[RoutingConfig] = field(
        default_factory=list, metadata={WIRE: "list:message:RoutingConfig"}
    )
    """The versions, each a whole configuration."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Set when there are more versions: pass it as `page_token`."""


@dataclass(frozen=True)
class ListUsersResponse:
    """Response for UserService.ListUsers."""

    users: list[User] = field(default_factory=list, metadata={WIRE: "list:message:User"})
    """The users, oldest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Token for the next page; empty on the last page."""


@dataclass(frozen=True)
class ListWebhookEndpointDeliveriesResponse:
    """Response for WebhookEndpointService.ListWebhookEndpointDeliveries."""

    deliveries: list[EventDelivery] = field(
        default_factory=list, metadata={WIRE: "list:message:EventDelivery"}
    )
    """Newest first."""

    next_page_token: str = field(default="", metadata={WIRE: "string"})
    """Token for the next page; empty on the last one."""


@dataclass(frozen=True)
class ListWebhookEndpointsResponse:
    """Response for WebhookEndpointService.ListWebhookEndpoints."""

    webhook_endpoints: list[WebhookEndpoint] = field(
        default_factory=list, metadata={WIRE: "list:message:WebhookEndpoint"}
    )
    """The endpoints, newest first."""


@dataclass(frozen=True)
class LogoutSessionResponse:
    """Response for SessionService.LogoutSession."""


@dataclass(frozen=True)
class Merchant:
    """A business that takes payments through PayLoops."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `mer_…`."""

    name: str = field(default="", metadata={WIRE: "string"})
    """Its name, as the operator knows it (1 to 200 characters)."""

    api_keys: list[ApiKey] = field(
        default_factory=list, metadata={WIRE: "list:message:ApiKey", OUTPUT_ONLY: True}
    )
    """Its first API keys, each with its `secret`: only in the response of create."""


@dataclass(frozen=True)
class NextAction:
    """What the customer must do before the payment can go on."""

    redirect_url: str = field(default="", metadata={WIRE: "string"})
    """Send the customer's browser to this URL to complete 3-D Secure."""


@dataclass(frozen=True)
class Order:
    """An order: an amount the merchant wants paid, and what happened when it was paid."""

    id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Server-generated identifier, `ord_…`."""

    amount: int = field(default=0, metadata={WIRE: "int"})
    """Amount to pay in minor units of `currency` (cents for USD, yen for JPY). Must be positive.
    """

    currency: str = field(default="", metadata={WIRE: "string"})
    """ISO 4217 alphabetic currency code, such as "USD". Case-insensitive on input."""

    capture_method: str = field(default="", metadata={WIRE: "enum"})
    """AUTOMATIC (default) or MANUAL.

    One of: automatic, manual.
    """

    description: str = field(default="", metadata={WIRE: "string"})
    """Free text shown to the merchant, at most 1000 characters."""

    metadata: dict[str, str] = field(default_factory=dict, metadata={WIRE: "map:string"})
    """Merchant's own key/value pairs: at most 50 keys, keys up to 40 characters, values up to 500.
    Never put card numbers here: they are rejected.
    """

    return_url: str = field(default="", metadata={WIRE: "string"})
    """Where the customer's browser goes after a 3-D Secure challenge (http or https URL, no spaces
    or control characters).
    """

    status: str = field(default="", metadata={WIRE: "enum", OUTPUT_ONLY: True})
    """Current status.

    One of: requires_payment_method, processing, requires_action, requires_capture, succeeded,
    failed, canceled.
    """

    amount_capturable: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Amount authorized and waiting for capture, in minor units."""

    amount_received: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Amount captured, in minor units."""

    amount_refunded: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Amount refunded, in minor units. Never exceeds `amount_received`."""

    attempts: list[Attempt] = field(
        default_factory=list, metadata={WIRE: "list:message:Attempt", OUTPUT_ONLY: True}
    )
    """Payment attempts in the order they were made."""

    next_action: NextAction | None = field(
        default=None, metadata={WIRE: "message:NextAction", OUTPUT_ONLY: True}
    )
    """What the customer must do next; set only in status REQUIRES_ACTION."""

    failure_code: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Stable code of the reason the order failed, such as "generic_decline"; empty otherwise.
    Routing's own: "routing_no_match" (no rule matched), "no_processor_available" (every
    processor the rule names was skipped; `routing` says why), "no_live_processor" (a live
    payment whose rule names only test-only or unregistered processors),
    "payment_method_unsupported" (no processor the rule names can use the payment method: a
    token only other gateways issued, or a vaulted card and no gateway that takes card data).
    """

    failure_message: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Human-readable explanation of `failure_code`."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """True for orders made with a live key, false for test keys."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the order was created."""

    update_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the order last changed."""

    routing: RoutingDecision | None = field(
        default=None, metadata={WIRE: "message:RoutingDecision", OUTPUT_ONLY: True}
    )
    """How the payment was routed; empty until it is paid."""

    amount_refund_pending: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Amount of refunds still in progress, in minor units: reserved, so that refunds never add up
    to more than `amount_received`.
    """

    capture_before: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """In REQUIRES_CAPTURE: when the authorization is voided if not captured."""

    cancellation_reason: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Why the order was canceled: "requested_by_merchant", "authorization_expired", …."""

    customer: str = field(default="", metadata={WIRE: "string"})
    """The customer paying, `cus_…` (optional, set on create only). An order with a customer can be
    paid only with a payment method saved for that customer or one saved for nobody; an order
    without one cannot be paid with a method saved for a customer
    (PAYMENT_METHOD_CUSTOMER_MISMATCH).
    """


@dataclass(frozen=True)
class PaymentAnalyticsBucket:
    """The figures of the orders created in one time bucket and one group."""

    start_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """Start of the time bucket (the window's start without an interval; the first bucket may start
    before the window: only the window's orders are in it).
    """

    end_time: datetime | None = field(default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True})
    """End of the time bucket (exclusive; the window's end without an interval)."""

    group: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The group's value (a processor name, a currency, a status name, a failure code); empty
    without group_by, or for orders without one (never sent to a processor, no failure code).
    """

    total_count: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Orders created in the bucket, whatever their status."""

    succeeded_count: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Orders whose payment was authorized: status SUCCEEDED or REQUIRES_CAPTURE."""

    failed_count: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Orders whose payment failed: status FAILED."""

    success_rate: float = field(default=0.0, metadata={WIRE: "float", OUTPUT_ONLY: True})
    """succeeded_count / (succeeded_count + failed_count), from 0 to 1; absent when both are 0 (no
    payment decided yet).
    """

    volumes: list[CurrencyVolume] = field(
        default_factory=list, metadata={WIRE: "list:message:CurrencyVolume", OUTPUT_ONLY: True}
    )
    """Amounts per currency, never added across currencies; by currency code."""

    latency_p50: timedelta | None = field(
        default=None, metadata={WIRE: "duration", OUTPUT_ONLY: True}
    )
    """Median payment latency: the time the order's attempts spent at processors, added up over its
    attempts with a result; absent when no order of the bucket has one. From a histogram of the
    latencies: within 5 % (+1 ms) of the exact value.
    """

    latency_p95: timedelta | None = field(
        default=None, metadata={WIRE: "duration", OUTPUT_ONLY: True}
    )
    """95th percentile of the same payment latency, as approximate."""

    failover_count: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Orders authorized after a failover: an earlier attempt failed and a later one succeeded.
    """

    failover_saved: list[CurrencyAmount] = field(
        default_factory=list, metadata={WIRE: "list:message:CurrencyAmount", OUTPUT_ONLY: True}
    )
    """What failover saved: the amounts of those orders, per currency, by currency code."""


@dataclass(frozen=True)
class Processor:
    """A registered gateway adapter."""

    name: str = field(default="", metadata={WIRE: "string"})
    """Name routing rules use, lower case: letters, digits and dashes, such as "stripe"."""

    target: str = field(default="", metadata={WIRE: "string"})
    """The adapter's gRPC address, host:port."""

    deadline: timedelta | None = field(default=None, metadata={WIRE: "duration"})
    """How long one call to it may take; 50 ms to 120 s, default 5 s."""

    tls: bool = field(default=False, metadata={WIRE: "bool"})
    """Connect with TLS (the system's roots, or the CA certificates it was registered with)."""

    enabled: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """Whether routing may use it."""

    capabilities: ProcessorCapabilities | None = field(
        default=None, metadata={WIRE: "message:ProcessorCapabilities", OUTPUT_ONLY: True}
    )
    """What the adapter said about itself in GetCapabilities when it was registered."""


@dataclass(frozen=True)
class ProcessorAccount:
    """A merchant's account at one processor, as the API shows it: never its credentials."""

    id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Identifier, "pa_…"."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """The processor's registered name."""

    credential_fields: list[str] = field(
        default_factory=list, metadata={WIRE: "list:string", OUTPUT_ONLY: True}
    )
    """The names of the credentials stored, without their values."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """Test or live: the mode of the API key that created it."""

    enabled: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """False once disabled."""

    webhook_path: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Where to point the gateway's webhooks for this account (a path on the API)."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was added."""

    rotate_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When its credentials last changed."""


@dataclass(frozen=True)
class ProcessorCapabilities:
    """A processor's capabilities, as its adapter reports them."""

    currencies: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """ISO 4217 codes accepted; empty means every currency."""

    card_networks: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Card networks accepted."""

    manual_capture: bool = field(default=False, metadata={WIRE: "bool"})
    """Supports manual capture."""

    partial_capture: bool = field(default=False, metadata={WIRE: "bool"})
    """Supports capturing less than the authorized amount."""

    partial_refund: bool = field(default=False, metadata={WIRE: "bool"})
    """Supports partial and repeated refunds."""

    three_d_secure: bool = field(default=False, metadata={WIRE: "bool"})
    """Runs 3-D Secure challenges."""

    credential_fields: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Credential fields a merchant's account must provide."""

    test_only: bool = field(default=False, metadata={WIRE: "bool"})
    """A test-only gateway (the sandbox): live payments are never routed to it."""

    accepts_raw_cards: bool = field(default=False, metadata={WIRE: "bool"})
    """Takes card data from the PayLoops vault: vaulted cards can be routed to it."""

    token_prefixes: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Prefixes of the gateway's own payment-method tokens: a token is routed only to the gateways
    whose prefixes it starts with. Empty, with `accepts_raw_cards` false: the gateway declared
    no forms (written before they existed), and takes any token that is not a vaulted card.
    """


@dataclass(frozen=True)
class ProcessorHealth:
    """A processor's circuit breaker. It is the platform's, the same for every merchant (a gateway
    that is down is down for all of them), and it counts calls that got no answer: the processor
    could not be reached, or its outcome is unknown. A decline is an answer. After a run of such
    failures the breaker opens and routing skips the processor; when its cool-down ends, the
    next payment routed there probes it, and any answer closes it again.
    """

    state: str = field(default="", metadata={WIRE: "enum", OUTPUT_ONLY: True})
    """CLOSED, OPEN or HALF_OPEN.

    One of: closed, open, half_open.
    """

    consecutive_failures: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """The failures in a row the breaker has counted towards opening (within a short window); zero
    once the processor answers.
    """

    open_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the breaker last opened; unset when CLOSED."""

    retry_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When routing may try the processor again: the end of the cool-down (OPEN) or of the probe's
    lease (HALF_OPEN). Unset when CLOSED.
    """

    probe_ready: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """`retry_time` has passed: the next payment routed to the processor probes it. False when
    CLOSED, cooling down, or while a probe is under way.
    """

    update_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the breaker last changed (a failure counted, opened, probed or closed); unset for a
    processor that has never failed.
    """


@dataclass(frozen=True)
class Refund:
    """A refund of (part of) an order's payment."""

    id: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Server-generated identifier, `re_…`."""

    order: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The refunded order, `ord_…`."""

    amount: int = field(default=0, metadata={WIRE: "int"})
    """Minor units; 0 on input refunds all that remains."""

    currency: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The order's currency."""

    reason: str = field(default="", metadata={WIRE: "string"})
    """Why: "requested_by_customer" (default), "duplicate" or "fraudulent"."""

    status: str = field(default="", metadata={WIRE: "enum", OUTPUT_ONLY: True})
    """Current status.

    One of: pending, succeeded, failed.
    """

    failure_code: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Stable code of why it failed, such as "charge_already_refunded"; empty otherwise."""

    failure_message: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Human-readable explanation of `failure_code`."""

    processor: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The processor that refunds it."""

    processor_reference: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The processor's identifier of the refund."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was requested."""

    update_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it last changed."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """The mode of its order: true for live, false for test."""


@dataclass(frozen=True)
class RoutingCandidate:
    """One processor considered for a payment."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """Processor name."""

    decision: str = field(default="", metadata={WIRE: "string"})
    """"candidate" when it was in line to be tried, "skipped" when it was left out."""

    reason: str = field(default="", metadata={WIRE: "string"})
    """Why: "rule_order", "split_draw", "success_rate", "fallback", "circuit_half_open" (a fallback
    whose circuit breaker is past its cool-down: tried only if reached, and its answer closes
    the breaker), or for skipped ones "not_configured", "disabled", "test_only" (a test-only
    gateway, such as the sandbox, never takes a live payment), "no_account", "circuit_open",
    "currency_unsupported", "payment_method_unsupported" (it cannot use the payment method:
    another gateway's token, or a vaulted card at a gateway that takes no card data).
    """


@dataclass(frozen=True)
class RoutingConditions:
    """What a payment must look like for a rule to match. Unset fields do not constrain."""

    currencies: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """ISO 4217 codes."""

    amount_min: int = field(default=0, metadata={WIRE: "int"})
    """Smallest amount in minor units, inclusive."""

    amount_max: int = field(default=0, metadata={WIRE: "int"})
    """Largest amount in minor units, inclusive; 0 means no upper bound."""

    card_networks: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Card networks: visa, mastercard, amex, rupay, discover, jcb, unionpay, diners."""

    card_funding: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """credit, debit or prepaid."""

    card_countries: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """ISO 3166-1 alpha-2 issuing countries."""

    payment_method_types: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Payment method types, such as "card"."""

    metadata: dict[str, str] = field(default_factory=dict, metadata={WIRE: "map:string"})
    """Order metadata keys that must equal these values."""


@dataclass(frozen=True)
class RoutingConfig:
    """Rules are evaluated in order; the first whose conditions all match routes the payment."""

    version: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Version number, incremented by every update; 0 is the built-in default."""

    rules: list[RoutingRule] = field(
        default_factory=list, metadata={WIRE: "list:message:RoutingRule"}
    )
    """The rules, first match wins. A payment no rule matches fails with ROUTING_NO_MATCH."""

    mode: str = field(default="", metadata={WIRE: "enum"})
    """PRIORITY (default) or SUCCESS_RATE.

    One of: priority, success_rate.
    """

    unknown_outcome_policy: str = field(default="", metadata={WIRE: "enum"})
    """FAILOVER (default) or WAIT.

    One of: failover, wait.
    """

    max_attempts: int = field(default=0, metadata={WIRE: "int"})
    """Most processors tried for one payment: 1 to 10, default 3."""

    payment_budget: timedelta | None = field(default=None, metadata={WIRE: "duration"})
    """Most time one payment may take across all attempts: 1 s to 10 min, default 60 s."""

    resolution_budget: timedelta | None = field(default=None, metadata={WIRE: "duration"})
    """How long an unknown outcome is resolved before the policy applies: 1 to 120 s, default 10 s.
    """

    update_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When this version was made."""


@dataclass(frozen=True)
class RoutingDecision:
    """Which routing configuration and rule routed an order, and what became of each processor."""

    config_version: int = field(default=0, metadata={WIRE: "int"})
    """Version of the merchant's routing configuration."""

    rule: str = field(default="", metadata={WIRE: "string"})
    """Name of the rule that matched."""

    candidates: list[RoutingCandidate] = field(
        default_factory=list, metadata={WIRE: "list:message:RoutingCandidate"}
    )
    """Every processor considered, in order."""


@dataclass(frozen=True)
class RoutingRule:
    """One routing rule: conditions, all of which must hold, and a target."""

    name: str = field(default="", metadata={WIRE: "string"})
    """A name, unique in the config, recorded on the orders it routes."""

    conditions: RoutingConditions | None = field(
        default=None, metadata={WIRE: "message:RoutingConditions"}
    )
    """Conditions combined with AND; an empty set matches every payment."""

    failover: FailoverTarget | None = field(default=None, metadata={WIRE: "message:FailoverTarget"})
    """An ordered failover list."""

    split: VolumeSplit | None = field(default=None, metadata={WIRE: "message:VolumeSplit"})
    """A weighted split; the drawn processor is followed by the others as fallbacks."""


@dataclass(frozen=True)
class Session:
    """A signed-in session's tokens."""

    access_token: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The access token: a JWT (EdDSA) to send as `Authorization: Bearer …`, valid until
    `expire_time` (10 minutes).
    """

    token_type: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """"Bearer"."""

    expires_in: int = field(default=0, metadata={WIRE: "int", OUTPUT_ONLY: True})
    """Seconds the access token is valid for."""

    expire_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the access token stops working."""

    refresh_token: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The refresh token (`rt_…`), for one RefreshSession: keep it secret, like a password."""

    refresh_token_expire_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the refresh token stops working (7 days, and never past the session's 30 days)."""

    user: User | None = field(default=None, metadata={WIRE: "message:User", OUTPUT_ONLY: True})
    """Who signed in."""


@dataclass(frozen=True)
class SimulateRoutingResponse:
    """Where a simulated payment would go."""

    config_version: int = field(default=0, metadata={WIRE: "int"})
    """Version of the configuration used; 0 for a draft or the built-in default."""

    draft: bool = field(default=False, metadata={WIRE: "bool"})
    """Whether a draft from the request was used."""

    rule: str = field(default="", metadata={WIRE: "string"})
    """Name of the rule that matched; empty when none did."""

    candidates: list[RoutingCandidate] = field(
        default_factory=list, metadata={WIRE: "list:message:RoutingCandidate"}
    )
    """Every processor considered: first those in line, in the order they would be tried, then
    those left out, each with its reason, exactly as an order's `routing.candidates`.
    """

    failure_code: str = field(default="", metadata={WIRE: "string"})
    """Why the payment would fail without any processor tried ("routing_no_match",
    "no_processor_available", "no_live_processor", "payment_method_unsupported"); empty when
    some processor would be tried.
    """

    max_attempts: int = field(default=0, metadata={WIRE: "int"})
    """At most this many of the candidates are tried."""

    first_choice_shares: list[FirstChoiceShare] = field(
        default_factory=list, metadata={WIRE: "list:message:FirstChoiceShare"}
    )
    """Where the first try may land when routing draws (a split's weights, success-rate
    exploration); the order in `candidates` is the most likely one.
    """


@dataclass(frozen=True)
class User:
    """A person who signs in to one merchant's dashboard."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `usr_…`."""

    email: str = field(default="", metadata={WIRE: "string"})
    """The e-mail address the user signs in with (stored lower-cased, at most 254 characters); one
    active user per address.
    """

    role: str = field(default="", metadata={WIRE: "enum"})
    """What the user may do.

    One of: owner, developer, viewer.
    """

    merchant: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The merchant the user belongs to, `mer_…`."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the user was created."""

    remove_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When the user was removed; absent: active."""


@dataclass(frozen=True)
class VaultedCard:
    """What a vaulted card shows."""

    brand: str = field(default="", metadata={WIRE: "string"})
    """visa, mastercard, amex, discover, jcb, diners, unionpay or rupay."""

    last4: str = field(default="", metadata={WIRE: "string"})
    """The last four digits."""

    bin: str = field(default="", metadata={WIRE: "string"})
    """The first six digits (the bank identification number)."""

    exp_month: int = field(default=0, metadata={WIRE: "int"})
    """Expiry month, 1 to 12."""

    exp_year: int = field(default=0, metadata={WIRE: "int"})
    """Expiry year."""

    fingerprint: str = field(default="", metadata={WIRE: "string"})
    """The same card gives the same fingerprint for one merchant (to spot a card seen before); two
    merchants never get the same fingerprint for one card.
    """


@dataclass(frozen=True)
class VaultedPaymentMethod:
    """A payment method the vault holds: what is safe to show of the card it stands for."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `pm_vault_` and 24 letters and digits."""

    type: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """"card"."""

    card: VaultedCard | None = field(
        default=None, metadata={WIRE: "message:VaultedCard", OUTPUT_ONLY: True}
    )
    """The card."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """A live-mode token (made with a `pk_live_…` key) rather than a test one."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was created."""


@dataclass(frozen=True)
class VolumeSplit:
    """Volume routing: each payment draws one processor with these weights."""

    targets: list[WeightedProcessor] = field(
        default_factory=list, metadata={WIRE: "list:message:WeightedProcessor"}
    )
    """Weights are whole percentages and must sum to 100."""


@dataclass(frozen=True)
class WebhookEndpoint:
    """An HTTPS endpoint of the merchant that receives events."""

    id: str = field(default="", metadata={WIRE: "string"})
    """Server-generated identifier, `we_…`."""

    url: str = field(default="", metadata={WIRE: "string"})
    """Where events are POSTed: https to a public address; in test mode also http or https to what
    the platform's operator allows (a local receiver). Never the platform's own listeners or
    link-local and metadata addresses. No spaces or control characters.
    """

    enabled_events: list[str] = field(default_factory=list, metadata={WIRE: "list:string"})
    """Event types it receives, such as "order.succeeded", or "*" for all."""

    status: str = field(default="", metadata={WIRE: "enum"})
    """ENABLED or DISABLED.

    One of: enabled, disabled.
    """

    disabled_reason: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """Why PayLoops disabled it, such as "failing_since:2026-11-30T10:00:00Z"."""

    secret: str = field(default="", metadata={WIRE: "string", OUTPUT_ONLY: True})
    """The signing secret, `whsec_…`: only in the responses of create and rotate_secret."""

    livemode: bool = field(default=False, metadata={WIRE: "bool", OUTPUT_ONLY: True})
    """Test or live, from the API key that created it."""

    create_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it was added."""

    update_time: datetime | None = field(
        default=None, metadata={WIRE: "timestamp", OUTPUT_ONLY: True}
    )
    """When it last changed."""


@dataclass(frozen=True)
class WeightedProcessor:
    """A processor and its share of a split."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """Processor name."""

    weight: int = field(default=0, metadata={WIRE: "int"})
    """Percentage, 1 to 100."""


@dataclass(frozen=True)
class WhatIfProcessorRate:
    """A processor's observed record over the attempts of the replayed payments."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """Processor name."""

    attempts: int = field(default=0, metadata={WIRE: "int"})
    """Finished attempts."""

    successes: int = field(default=0, metadata={WIRE: "int"})
    """Those that succeeded or were authorized (or asked for 3-D Secure)."""

    success_rate: float = field(default=0.0, metadata={WIRE: "float"})
    """successes / attempts."""


@dataclass(frozen=True)
class WhatIfRoutingResponse:
    """What a draft configuration would have done with recent payments."""

    start_time: datetime | None = field(default=None, metadata={WIRE: "timestamp"})
    """Start of the replayed window."""

    payments: int = field(default=0, metadata={WIRE: "int"})
    """Payments replayed (routed orders of the window, newest first, at most the cap)."""

    truncated: bool = field(default=False, metadata={WIRE: "bool"})
    """True when the window held more routed payments than the cap; the newest were replayed."""

    splits: list[WhatIfSplit] = field(
        default_factory=list, metadata={WIRE: "list:message:WhatIfSplit"}
    )
    """Per processor and currency: actual against draft."""

    processor_rates: list[WhatIfProcessorRate] = field(
        default_factory=list, metadata={WIRE: "list:message:WhatIfProcessorRate"}
    )
    """Observed success rate per processor, over the replayed payments' attempts."""

    actual_expected_success_rate: float = field(default=0.0, metadata={WIRE: "float"})
    """Expected first-attempt success rate of the payments as they were routed, from the observed
    rates: the mean, over payments whose first processor has a rate, of that rate.
    """

    draft_expected_success_rate: float = field(default=0.0, metadata={WIRE: "float"})
    """The same estimate for the draft's first choices."""


@dataclass(frozen=True)
class WhatIfSplit:
    """Payments of one currency at one processor, as routed and as the draft would route them."""

    processor: str = field(default="", metadata={WIRE: "string"})
    """Processor tried first; empty for payments no processor took (or would take)."""

    currency: str = field(default="", metadata={WIRE: "string"})
    """ISO 4217 code."""

    actual_payments: int = field(default=0, metadata={WIRE: "int"})
    """Payments routed there first."""

    actual_amount: int = field(default=0, metadata={WIRE: "int"})
    """Their amount in minor units."""

    draft_payments: int = field(default=0, metadata={WIRE: "int"})
    """Payments the draft would route there first."""

    draft_amount: int = field(default=0, metadata={WIRE: "int"})
    """Their amount in minor units."""


# Every model by its schema name, for the decoder's message:<schema> kinds.
MODELS: dict[str, type[Any]] = {
    "ApiKey": ApiKey,
    "Attempt": Attempt,
    "AuditActor": AuditActor,
    "AuditEntry": AuditEntry,
    "AuditTarget": AuditTarget,
    "AvailableProcessor": AvailableProcessor,
    "CurrencyAmount": CurrencyAmount,
    "CurrencyVolume": CurrencyVolume,
    "Customer": Customer,
    "CustomerPaymentMethod": CustomerPaymentMethod,
    "DeliveryAttempt": DeliveryAttempt,
    "Event": Event,
    "EventDelivery": EventDelivery,
    "FailoverTarget": FailoverTarget,
    "FirstChoiceShare": FirstChoiceShare,
    "GetPaymentAnalyticsResponse": GetPaymentAnalyticsResponse,
    "Health": Health,
    "JsonWebKey": JsonWebKey,
    "JsonWebKeySet": JsonWebKeySet,
    "ListApiKeysResponse": ListApiKeysResponse,
    "ListAuditEntriesResponse": ListAuditEntriesResponse,
    "ListAvailableProcessorsResponse": ListAvailableProcessorsResponse,
    "ListCustomerPaymentMethodsResponse": ListCustomerPaymentMethodsResponse,
    "ListCustomersResponse": ListCustomersResponse,
    "ListEventDeliveriesResponse": ListEventDeliveriesResponse,
    "ListEventsResponse": ListEventsResponse,
    "ListOrdersResponse": ListOrdersResponse,
    "ListProcessorAccountsResponse": ListProcessorAccountsResponse,
    "ListProcessorsResponse": ListProcessorsResponse,
    "ListRefundsResponse": ListRefundsResponse,
    "ListRoutingConfigVersionsResponse": ListRoutingConfigVersionsResponse,
    "ListUsersResponse": ListUsersResponse,
    "ListWebhookEndpointDeliveriesResponse": ListWebhookEndpointDeliveriesResponse,
    "ListWebhookEndpointsResponse": ListWebhookEndpointsResponse,
    "LogoutSessionResponse": LogoutSessionResponse,
    "Merchant": Merchant,
    "NextAction": NextAction,
    "Order": Order,
    "PaymentAnalyticsBucket": PaymentAnalyticsBucket,
    "Processor": Processor,
    "ProcessorAccount": ProcessorAccount,
    "ProcessorCapabilities": ProcessorCapabilities,
    "ProcessorHealth": ProcessorHealth,
    "Refund": Refund,
    "RoutingCandidate": RoutingCandidate,
    "RoutingConditions": RoutingConditions,
    "RoutingConfig": RoutingConfig,
    "RoutingDecision": RoutingDecision,
    "RoutingRule": RoutingRule,
    "Session": Session,
    "SimulateRoutingResponse": SimulateRoutingResponse,
    "User": User,
    "VaultedCard": VaultedCard,
    "VaultedPaymentMethod": VaultedPaymentMethod,
    "VolumeSplit": VolumeSplit,
    "WebhookEndpoint": WebhookEndpoint,
    "WeightedProcessor": WeightedProcessor,
    "WhatIfProcessorRate": WhatIfProcessorRate,
    "WhatIfRoutingResponse": WhatIfRoutingResponse,
    "WhatIfSplit": WhatIfSplit,
}

__all__ = [
    "ApiKey",
    "Attempt",
    "AuditActor",
    "AuditEntry",
    "AuditTarget",
    "AvailableProcessor",
    "CurrencyAmount",
    "CurrencyVolume",
    "Customer",
    "CustomerPaymentMethod",
    "DeliveryAttempt",
    "Event",
    "EventDelivery",
    "FailoverTarget",
    "FirstChoiceShare",
    "GetPaymentAnalyticsResponse",
    "Health",
    "JsonWebKey",
    "JsonWebKeySet",
    "ListApiKeysResponse",
    "ListAuditEntriesResponse",
    "ListAvailableProcessorsResponse",
    "ListCustomerPaymentMethodsResponse",
    "ListCustomersResponse",
    "ListEventDeliveriesResponse",
    "ListEventsResponse",
    "ListOrdersResponse",
    "ListProcessorAccountsResponse",
    "ListProcessorsResponse",
    "ListRefundsResponse",
    "ListRoutingConfigVersionsResponse",
    "ListUsersResponse",
    "ListWebhookEndpointDeliveriesResponse",
    "ListWebhookEndpointsResponse",
    "LogoutSessionResponse",
    "Merchant",
    "NextAction",
    "Order",
    "PaymentAnalyticsBucket",
    "Processor",
    "ProcessorAccount",
    "ProcessorCapabilities",
    "ProcessorHealth",
    "Refund",
    "RoutingCandidate",
    "RoutingConditions",
    "RoutingConfig",
    "RoutingDecision",
    "RoutingRule",
    "Session",
    "SimulateRoutingResponse",
    "User",
    "VaultedCard",
    "VaultedPaymentMethod",
    "VolumeSplit",
    "WebhookEndpoint",
    "WeightedProcessor",
    "WhatIfProcessorRate",
    "WhatIfRoutingResponse",
    "WhatIfSplit",
]
