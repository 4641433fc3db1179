"""The resources of PayLoops (`client.orders`, `client.refunds`, …): each method is one operation
of the API, its arguments placed where the REST binding wants them.

Ids are positional, everything else keyword-only; an argument left at None is not sent (the
server's default applies). Enum values may be given in any case ("manual"). Every POST takes
`idempotency_key`: without one the client makes a fresh key for the call (kept across its own
retries). The async resources are generated from this module (cli/sdk_codegen/unasync.py
says how it must be written).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from payloops.sdk import _operations as ops
from payloops.sdk import models
from payloops.sdk._pages import Page
from payloops.sdk._resource import Requester, Resource, as_body, enum, field_mask, given

PaymentMethodParam = Mapping[str, Any]


class Orders(Resource):
    def create(
        self,
        *,
        amount: int,
        currency: str,
        capture_method: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        return_url: str | None = None,
        customer: str | None = None,
        idempotency_key: str | None = None,
    ) -> models.Order:
        """An order in status requires_payment_method. `amount` is in minor units (4999 =
        $49.99); `capture_method` is "automatic" (the default) or "manual"."""
        return self._call(
            ops.CREATE_ORDER,
            body=given(
                amount=amount,
                currency=currency,
                capture_method=enum(capture_method),
                description=description,
                metadata=metadata,
                return_url=return_url,
                customer=customer,
            ),
            idempotency_key=idempotency_key,
        )

    def retrieve(self, order_id: str) -> models.Order:
        return self._call(ops.GET_ORDER, path={"order": order_id})

    def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        status: str | None = None,
        processor: str | None = None,
        currency: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        metadata_key: str | None = None,
        metadata_value: str | None = None,
        amount_min: int | None = None,
        amount_max: int | None = None,
        failure_code: str | None = None,
        query: str | None = None,
    ) -> Page[models.Order]:
        """One page of orders, newest first; the other arguments filter. `amount_min` and
        `amount_max` are minor units of `currency`, which they need; `query` finds an order by
        its id, a processor reference of one of its attempts, or the correlation id of the
        request that created or paid it."""
        return self._page(
            ops.LIST_ORDERS,
            lambda answer: answer.orders,
            query=given(
                page_size=page_size,
                page_token=page_token or None,
                status=enum(status),
                processor=processor,
                currency=currency,
                created_after=created_after,
                created_before=created_before,
                metadata_key=metadata_key,
                metadata_value=metadata_value,
                amount_min=amount_min,
                amount_max=amount_max,
                failure_code=failure_code,
                query=query,
            ),
        )

    def list_all(self, **filters: Any) -> Iterator[models.Order]:
        """Every order `list(**filters)` finds, fetching the pages as the iteration goes."""
        return self._every(self.list, **filters)

    def pay(
        self,
        order_id: str,
        *,
        payment_method: PaymentMethodParam | str,
        off_session: bool | None = None,
        idempotency_key: str | None = None,
    ) -> models.Order:
        """Pays the order, such as with `payment_method={"type": "card", "token":
        "pm_card_visa"}` (a bare token means a card). Returns when the order is succeeded,
        failed, requires_action (send the customer to `next_action.redirect_url`) or
        requires_capture, or still processing after a bounded wait. A decline is not an
        exception: the order comes back failed with its `failure_code`."""
        method = (
            {"type": "card", "token": payment_method}
            if isinstance(payment_method, str)
            else payment_method
        )
        return self._call(
            ops.PAY_ORDER,
            path={"order": order_id},
            body=given(payment_method=method, off_session=off_session),
            idempotency_key=idempotency_key,
        )

    def capture(
        self, order_id: str, *, amount: int | None = None, idempotency_key: str | None = None
    ) -> models.Order:
        """Captures an order in requires_capture: all of it, or `amount` of it."""
        return self._call(
            ops.CAPTURE_ORDER,
            path={"order": order_id},
            body=given(amount=amount),
            idempotency_key=idempotency_key,
        )

    def cancel(self, order_id: str, *, idempotency_key: str | None = None) -> models.Order:
        return self._call(
            ops.CANCEL_ORDER, path={"order": order_id}, body={}, idempotency_key=idempotency_key
        )


class Refunds(Resource):
    def create(
        self,
        order_id: str,
        *,
        amount: int | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> models.Refund:
        """Refunds a paid order: all that is left of it, or `amount`."""
        return self._call(
            ops.CREATE_REFUND,
            path={"order": order_id},
            body=given(amount=amount, reason=reason),
            idempotency_key=idempotency_key,
        )

    def retrieve(self, refund_id: str) -> models.Refund:
        return self._call(ops.GET_REFUND, path={"refund": refund_id})

    def list(self, order_id: str) -> Page[models.Refund]:
        """The refunds of one order."""
        return self._page(ops.LIST_REFUNDS, lambda answer: answer.refunds, path={"order": order_id})


class WebhookEndpointDeliveries(Resource):
    def list(
        self, endpoint_id: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[models.EventDelivery]:
        """One page of the deliveries to one endpoint, newest first, with their attempts."""
        return self._page(
            ops.LIST_WEBHOOK_ENDPOINT_DELIVERIES,
            lambda answer: answer.deliveries,
            path={"webhook_endpoint": endpoint_id},
            query=given(page_size=page_size, page_token=page_token or None),
        )

    def list_all(self, endpoint_id: str, **filters: Any) -> Iterator[models.EventDelivery]:
        """Every delivery to the endpoint, fetching the pages as the iteration goes."""
        return self._every(functools.partial(self.list, endpoint_id), **filters)


class WebhookEndpoints(Resource):
    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.deliveries = WebhookEndpointDeliveries(requester)

    def create(
        self, *, url: str, enabled_events: Sequence[str], idempotency_key: str | None = None
    ) -> models.WebhookEndpoint:
        """A webhook endpoint; its `secret` (whsec_…) is in this answer only."""
        return self._call(
            ops.CREATE_WEBHOOK_ENDPOINT,
            body={"url": url, "enabled_events": enabled_events},
            idempotency_key=idempotency_key,
        )

    def list(self) -> Page[models.WebhookEndpoint]:
        return self._page(ops.LIST_WEBHOOK_ENDPOINTS, lambda answer: answer.webhook_endpoints)

    def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        enabled_events: Sequence[str] | None = None,
        status: str | None = None,
    ) -> models.WebhookEndpoint:
        """Changes the fields given; `status` "disabled" stops deliveries."""
        changes = given(url=url, enabled_events=enabled_events, status=enum(status))
        return self._call(
            ops.UPDATE_WEBHOOK_ENDPOINT,
            path={"webhook_endpoint.id": endpoint_id},
            query={"update_mask": field_mask(changes)},
            body=changes,
        )

    def delete(self, endpoint_id: str) -> None:
        self._call(ops.DELETE_WEBHOOK_ENDPOINT, path={"webhook_endpoint": endpoint_id})

    def rotate_secret(
        self,
        endpoint_id: str,
        *,
        grace_period: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> models.WebhookEndpoint:
        """A new secret (in this answer only); the old one keeps signing for `grace_period`."""
        return self._call(
            ops.ROTATE_WEBHOOK_ENDPOINT_SECRET,
            path={"webhook_endpoint": endpoint_id},
            body=given(grace_period=grace_period),
            idempotency_key=idempotency_key,
        )

    def send_test_event(
        self, endpoint_id: str, *, idempotency_key: str | None = None
    ) -> models.EventDelivery:
        """Sends the endpoint a `webhook_endpoint.test` event now; returns its delivery."""
        return self._call(
            ops.SEND_TEST_EVENT,
            path={"webhook_endpoint": endpoint_id},
            body={},
            idempotency_key=idempotency_key,
        )


class EventDeliveries(Resource):
    def list(self, event_id: str) -> Page[models.EventDelivery]:
        """Every delivery of one event, to each endpoint, with its attempts."""
        return self._page(
            ops.LIST_EVENT_DELIVERIES, lambda answer: answer.deliveries, path={"event": event_id}
        )


class Events(Resource):
    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.deliveries = EventDeliveries(requester)

    def retrieve(self, event_id: str) -> models.Event:
        return self._call(ops.GET_EVENT, path={"event": event_id})

    def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        type: str | None = None,
        order: str | None = None,
    ) -> Page[models.Event]:
        """One page of events, newest first; `type` (such as "order.succeeded") and `order`
        (an order's own events and its refunds', however old) filter."""
        return self._page(
            ops.LIST_EVENTS,
            lambda answer: answer.events,
            query=given(page_size=page_size, page_token=page_token or None, type=type, order=order),
        )

    def list_all(self, **filters: Any) -> Iterator[models.Event]:
        return self._every(self.list, **filters)

    def redeliver(
        self,
        event_id: str,
        *,
        webhook_endpoint: str | None = None,
        idempotency_key: str | None = None,
    ) -> builtins.list[models.EventDelivery]:
        """Delivers the event again, to one endpoint or to every endpoint that wants it."""
        answer = self._call(
            ops.REDELIVER_EVENT,
            path={"event": event_id},
            body=given(webhook_endpoint=webhook_endpoint),
            idempotency_key=idempotency_key,
        )
        return answer.deliveries


class RoutingVersions(Resource):
    def list(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[models.RoutingConfig]:
        """One page of the saved versions of the key's mode, newest first."""
        return self._page(
            ops.LIST_ROUTING_CONFIG_VERSIONS,
            lambda answer: answer.routing_configs,
            query=given(page_size=page_size, page_token=page_token or None),
        )

    def list_all(self, **filters: Any) -> Iterator[models.RoutingConfig]:
        return self._every(self.list, **filters)

    def retrieve(self, version: int) -> models.RoutingConfig:
        """One version; 0 is the built-in default. Diff two by comparing what this returns."""
        return self._call(ops.GET_ROUTING_CONFIG_VERSION, path={"version": str(version)})


class Routing(Resource):
    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.versions = RoutingVersions(requester)

    def retrieve(self) -> models.RoutingConfig:
        return self._call(ops.GET_ROUTING_CONFIG)

    def update(self, config: models.RoutingConfig | Mapping[str, Any]) -> models.RoutingConfig:
        """Replaces the routing configuration: a RoutingConfig (such as one retrieved and
        changed with dataclasses.replace) or its JSON form."""
        return self._call(ops.UPDATE_ROUTING_CONFIG, body=as_body(config))

    def rollback(self, version: int, *, idempotency_key: str | None = None) -> models.RoutingConfig:
        """Makes a new version equal to `version` (0: the built-in default)."""
        return self._call(
            ops.ROLLBACK_ROUTING_CONFIG,
            path={"version": str(version)},
            body={},
            idempotency_key=idempotency_key,
        )

    def simulate(
        self,
        *,
        payment: Mapping[str, Any],
        routing_config: models.RoutingConfig | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> models.SimulateRoutingResponse:
        """Where `payment` (amount, currency, card_network, card_funding, card_country,
        payment_method_type, metadata, payment_method) would go: by the active configuration,
        or by the draft `routing_config`."""
        return self._call(
            ops.SIMULATE_ROUTING,
            body=given(
                payment=payment,
                routing_config=None if routing_config is None else as_body(routing_config),
            ),
            idempotency_key=idempotency_key,
        )

    def what_if(
        self,
        *,
        routing_config: models.RoutingConfig | Mapping[str, Any],
        days: int | None = None,
        idempotency_key: str | None = None,
    ) -> models.WhatIfRoutingResponse:
        """The last `days` (default 7) of the key's mode's payments replayed through the draft
        `routing_config`: split and expected success rate, actual against draft."""
        return self._call(
            ops.WHAT_IF_ROUTING,
            body=given(routing_config=as_body(routing_config), days=days),
            idempotency_key=idempotency_key,
        )


class Processors(Resource):
    def create(
        self,
        *,
        name: str,
        target: str,
        deadline: timedelta | None = None,
        tls: bool | None = None,
        tls_ca_pem: str | None = None,
        idempotency_key: str | None = None,
    ) -> models.Processor:
        """Registers a processor adapter at `target` (host:port of its gRPC server)."""
        return self._call(
            ops.CREATE_PROCESSOR,
            body=given(name=name, target=target, deadline=deadline, tls=tls, tls_ca_pem=tls_ca_pem),
            idempotency_key=idempotency_key,
        )

    def list(self) -> Page[models.Processor]:
        return self._page(ops.LIST_PROCESSORS, lambda answer: answer.processors)


class ProcessorAccounts(Resource):
    def create(
        self,
        *,
        processor: str,
        credentials: Mapping[str, str],
        idempotency_key: str | None = None,
    ) -> models.ProcessorAccount:
        """The merchant's own account at a gateway; the credentials are never shown again."""
        return self._call(
            ops.CREATE_PROCESSOR_ACCOUNT,
            body={"processor": processor, "credentials": credentials},
            idempotency_key=idempotency_key,
        )

    def list(self) -> Page[models.ProcessorAccount]:
        return self._page(ops.LIST_PROCESSOR_ACCOUNTS, lambda answer: answer.processor_accounts)

    def available_processors(self) -> Page[models.AvailableProcessor]:
        """The processors the merchant can route to in this mode, with the credential fields
        an account at each needs, whose account its payments would use, and its circuit
        breaker (`health`: the platform's, the same for every merchant)."""
        return self._page(ops.LIST_AVAILABLE_PROCESSORS, lambda answer: answer.processors)

    def rotate_credentials(
        self,
        account_id: str,
        *,
        credentials: Mapping[str, str],
        idempotency_key: str | None = None,
    ) -> models.ProcessorAccount:
        return self._call(
            ops.ROTATE_PROCESSOR_ACCOUNT_CREDENTIALS,
            path={"processor_account": account_id},
            body={"credentials": credentials},
            idempotency_key=idempotency_key,
        )

    def disable(
        self, account_id: str, *, idempotency_key: str | None = None
    ) -> models.ProcessorAccount:
        return self._call(
            ops.DISABLE_PROCESSOR_ACCOUNT,
            path={"processor_account": account_id},
            body={},
            idempotency_key=idempotency_key,
        )


class ApiKeys(Resource):
    def create(
        self,
        *,
        name: str | None = None,
        kind: str | None = None,
        livemode: bool | None = None,
        read_only: bool | None = None,
        idempotency_key: str | None = None,
    ) -> models.ApiKey:
        """A new key; its `secret` is in this answer only. `kind` is "secret" (the default) or
        "publishable"."""
        return self._call(
            ops.CREATE_API_KEY,
            body=given(name=name, kind=enum(kind), livemode=livemode, read_only=read_only),
            idempotency_key=idempotency_key,
        )

    def list(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[models.ApiKey]:
        return self._page(
            ops.LIST_API_KEYS,
            lambda answer: answer.api_keys,
            query=given(page_size=page_size, page_token=page_token or None),
        )

    def list_all(self, **filters: Any) -> Iterator[models.ApiKey]:
        return self._every(self.list, **filters)

    def roll(
        self,
        key_id: str,
        *,
        overlap: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> models.ApiKey:
        """A new key replacing this one, which keeps working for `overlap`."""
        return self._call(
            ops.ROLL_API_KEY,
            path={"api_key": key_id},
            body=given(overlap=overlap),
            idempotency_key=idempotency_key,
        )

    def revoke(self, key_id: str, *, idempotency_key: str | None = None) -> models.ApiKey:
        return self._call(
            ops.REVOKE_API_KEY, path={"api_key": key_id}, body={}, idempotency_key=idempotency_key
        )


class Users(Resource):
    def create(
        self,
        *,
        email: str,
        role: str,
        password: str,
        merchant: str | None = None,
        idempotency_key: str | None = None,
    ) -> models.User:
        """A dashboard user; `role` is "owner", "developer" or "viewer"."""
        return self._call(
            ops.CREATE_USER,
            body=given(
                user={"email": email, "role": enum(role)}, password=password, merchant=merchant
            ),
            idempotency_key=idempotency_key,
        )

    def list(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[models.User]:
        return self._page(
            ops.LIST_USERS,
            lambda answer: answer.users,
            query=given(page_size=page_size, page_token=page_token or None),
        )

    def list_all(self, **filters: Any) -> Iterator[models.User]:
        return self._every(self.list, **filters)

    def set_role(
        self, user_id: str, *, role: str, idempotency_key: str | None = None
    ) -> models.User:
        return self._call(
            ops.SET_USER_ROLE,
            path={"user": user_id},
            body={"role": enum(role)},
            idempotency_key=idempotency_key,
        )

    def remove(self, user_id: str, *, idempotency_key: str | None = None) -> models.User:
        return self._call(
            ops.REMOVE_USER, path={"user": user_id}, body={}, idempotency_key=idempotency_key
        )


class Sessions(Resource):
    def create(self, *, email: str, password: str) -> models.Session:
        """Signs a dashboard user in: pass the answer's `access_token` as a client's api_key."""
        return self._call(ops.CREATE_SESSION, body={"email": email, "password": password})

    def refresh(self, *, refresh_token: str) -> models.Session:
        return self._call(ops.REFRESH_SESSION, body={"refresh_token": refresh_token})

    def logout(self, *, refresh_token: str) -> None:
        self._call(ops.LOGOUT_SESSION, body={"refresh_token": refresh_token})

    def jwks(self) -> models.JsonWebKeySet:
        """The public keys that verify access tokens."""
        return self._call(ops.GET_JWKS)


class AuditLog(Resource):
    def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        action: str | None = None,
        target_id: str | None = None,
    ) -> Page[models.AuditEntry]:
        """One page of the merchant's audit log, newest first."""
        return self._page(
            ops.LIST_AUDIT_ENTRIES,
            lambda answer: answer.audit_entries,
            query=given(
                page_size=page_size,
                page_token=page_token or None,
                action=action,
                target_id=target_id,
            ),
        )

    def list_all(self, **filters: Any) -> Iterator[models.AuditEntry]:
        return self._every(self.list, **filters)


class CustomerPaymentMethods(Resource):
    def attach(
        self, customer_id: str, *, payment_method: str, idempotency_key: str | None = None
    ) -> models.CustomerPaymentMethod:
        """Saves a vaulted card (pm_vault_…) for the customer."""
        return self._call(
            ops.ATTACH_PAYMENT_METHOD,
            path={"customer": customer_id},
            body={"payment_method": payment_method},
            idempotency_key=idempotency_key,
        )

    def list(self, customer_id: str) -> Page[models.CustomerPaymentMethod]:
        return self._page(
            ops.LIST_CUSTOMER_PAYMENT_METHODS,
            lambda answer: answer.payment_methods,
            path={"customer": customer_id},
        )

    def detach(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str | None = None
    ) -> None:
        self._call(
            ops.DETACH_PAYMENT_METHOD,
            path={"customer": customer_id, "payment_method": payment_method_id},
            body={},
            idempotency_key=idempotency_key,
        )


class Customers(Resource):
    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.payment_methods = CustomerPaymentMethods(requester)

    def create(
        self,
        *,
        email: str | None = None,
        name: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> models.Customer:
        return self._call(
            ops.CREATE_CUSTOMER,
            body=given(email=email, name=name, description=description, metadata=metadata),
            idempotency_key=idempotency_key,
        )

    def retrieve(self, customer_id: str) -> models.Customer:
        return self._call(ops.GET_CUSTOMER, path={"customer": customer_id})

    def list(
        self, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[models.Customer]:
        return self._page(
            ops.LIST_CUSTOMERS,
            lambda answer: answer.customers,
            query=given(page_size=page_size, page_token=page_token or None),
        )

    def list_all(self, **filters: Any) -> Iterator[models.Customer]:
        return self._every(self.list, **filters)

    def update(
        self,
        customer_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> models.Customer:
        """Changes the fields given ("" clears a text field, {} the metadata)."""
        changes = given(email=email, name=name, description=description, metadata=metadata)
        return self._call(
            ops.UPDATE_CUSTOMER,
            path={"customer.id": customer_id},
            query={"update_mask": field_mask(changes)},
            body=changes,
        )

    def delete(self, customer_id: str) -> None:
        self._call(ops.DELETE_CUSTOMER, path={"customer": customer_id})


class Tokens(Resource):
    def create(
        self, *, card: Mapping[str, object], idempotency_key: str | None = None
    ) -> models.VaultedPaymentMethod:
        """Vaults a card (`number`, `exp_month`, `exp_year`, `cvc`, `holder_name`) with a
        publishable key (pk_…): the answer's `id` (pm_vault_…) pays an order."""
        return self._call(ops.CREATE_TOKEN, body={"card": card}, idempotency_key=idempotency_key)


class Analytics(Resource):
    def payments(
        self,
        *,
        start_time: datetime,
        end_time: datetime,
        interval: str | None = None,
        group_by: str | None = None,
    ) -> models.GetPaymentAnalyticsResponse:
        """Figures over the orders created in [start_time, end_time) (at most 90 days): per
        `interval` ("hour", "day"; none: totals) and per `group_by` ("processor", "currency",
        "status", "failure_code"; none: no split)."""
        return self._call(
            ops.GET_PAYMENT_ANALYTICS,
            query=given(
                start_time=start_time,
                end_time=end_time,
                interval=enum(interval),
                group_by=enum(group_by),
            ),
        )


class Merchants(Resource):
    def create(
        self, *, name: str, live: bool | None = None, idempotency_key: str | None = None
    ) -> models.Merchant:
        """A merchant and its first keys (the operator's admin key only)."""
        return self._call(
            ops.CREATE_MERCHANT,
            body=given(merchant={"name": name}, live=live),
            idempotency_key=idempotency_key,
        )


class Health(Resource):
    def retrieve(self) -> models.Health:
        return self._call(ops.GET_HEALTH)


class ApiResources:
    """Every resource of the API, as the client's attributes."""

    def __init__(self, requester: Requester) -> None:
        self.orders = Orders(requester)
        self.refunds = Refunds(requester)
        self.webhook_endpoints = WebhookEndpoints(requester)
        self.events = Events(requester)
        self.routing = Routing(requester)
        self.processors = Processors(requester)
        self.processor_accounts = ProcessorAccounts(requester)
        self.api_keys = ApiKeys(requester)
        self.users = Users(requester)
        self.sessions = Sessions(requester)
        self.audit_log = AuditLog(requester)
        self.analytics = Analytics(requester)
        self.customers = Customers(requester)
        self.tokens = Tokens(requester)
        self.merchants = Merchants(requester)
        self.health = Health(requester)
