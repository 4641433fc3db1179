"""CustomerService: a merchant's customers and the vaulted payment methods saved for them, in
the API key's mode. The edge never sees card data: what it keeps of a saved card (brand, last
four, expiry, fingerprint) it asks the vault for, with its own service credential. Another
merchant's customer, one of the other mode, or a deleted one, is NOT_FOUND."""

from __future__ import annotations

from google.protobuf import empty_pb2
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors, ids
from core.db import models
from core.vaulted_cards import is_vaulted
from edge import validation
from edge.auth import Caller, authenticate
from edge.context import ServicerContext, request_header
from edge.idempotency import Claim, Idempotency
from edge.page_tokens import Cursor, PageTokens, page_size
from payloops.v1 import customers_pb2, customers_pb2_grpc
from payloops.vault.v1 import vault_pb2
from vault.client import VaultClient, VaultUnavailable

UPDATABLE = ("email", "name", "description", "metadata")


class CustomerService(customers_pb2_grpc.CustomerServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        idempotency: Idempotency,
        page_tokens: PageTokens,
        vault: VaultClient | None,
    ) -> None:
        self._sessions = sessions
        self._idempotency = idempotency
        self._page_tokens = page_tokens
        self._vault = vault

    async def CreateCustomer(
        self, request: customers_pb2.CreateCustomerRequest, context: ServicerContext
    ) -> customers_pb2.Customer:
        key = request_header(context.invocation_metadata(), "idempotency-key")
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            if found := validation.customer_violations(request.customer, UPDATABLE):
                raise errors.invalid(found)
            claim = None
            if key is not None:
                claimed = await self._idempotency.claim(
                    session, caller, key, "CreateCustomer", request, customers_pb2.Customer
                )
                if not isinstance(claimed, Claim):
                    return claimed
                claim = claimed
            wanted = request.customer
            row = models.Customer(
                id=ids.new_id("cus"),
                merchant_id=caller.merchant_id,
                livemode=caller.livemode,
                email=wanted.email,
                name=wanted.name,
                description=wanted.description,
                metadata_=dict(wanted.metadata),
            )
            session.add(row)
            await session.flush()
            await session.refresh(row)
            created = customer_message(row)
            if claim is not None:
                await self._idempotency.store(session, claim, created)
        return created

    async def GetCustomer(
        self, request: customers_pb2.GetCustomerRequest, context: ServicerContext
    ) -> customers_pb2.Customer:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            return customer_message(await find(session, caller, request.customer))

    async def ListCustomers(
        self, request: customers_pb2.ListCustomersRequest, context: ServicerContext
    ) -> customers_pb2.ListCustomersResponse:
        size = page_size(request.page_size)
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            scope = f"customers|{caller.merchant_id}|{caller.livemode}"
            after = (
                self._page_tokens.decode(request.page_token, scope) if request.page_token else None
            )
            query = select(models.Customer).where(
                models.Customer.merchant_id == caller.merchant_id,
                models.Customer.livemode == caller.livemode,
                models.Customer.deleted_at.is_(None),
            )
            if after is not None:
                query = query.where(
                    tuple_(models.Customer.created_at, models.Customer.id)
                    < tuple_(after.created_at, after.order_id)
                )
            query = query.order_by(models.Customer.created_at.desc(), models.Customer.id.desc())
            rows = list((await session.execute(query.limit(size + 1))).scalars())
        page = rows[:size]
        response = customers_pb2.ListCustomersResponse(
            customers=[customer_message(row) for row in page]
        )
        if len(rows) > size:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].created_at, page[-1].id), scope
            )
        return response

    async def UpdateCustomer(
        self, request: customers_pb2.UpdateCustomerRequest, context: ServicerContext
    ) -> customers_pb2.Customer:
        wanted = request.customer
        paths = list(request.update_mask.paths) or [
            path
            for path, given in (
                ("email", bool(wanted.email)),
                ("name", bool(wanted.name)),
                ("description", bool(wanted.description)),
                ("metadata", bool(wanted.metadata)),
            )
            if given
        ]
        found = [
            errors.FieldViolation(
                "update_mask",
                "UPDATE_MASK_INVALID",
                f"{path!r} cannot be changed; only {UPDATABLE}",
            )
            for path in paths
            if path not in UPDATABLE
        ]
        found += validation.customer_violations(wanted, paths)
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            if found:
                raise errors.invalid(found)
            row = await find(session, caller, wanted.id, for_update=True)
            if "email" in paths:
                row.email = wanted.email
            if "name" in paths:
                row.name = wanted.name
            if "description" in paths:
                row.description = wanted.description
            if "metadata" in paths:
                row.metadata_ = dict(wanted.metadata)
            if paths:
                row.updated_at = func.now()
            await session.flush()
            await session.refresh(row)
            return customer_message(row)

    async def DeleteCustomer(
        self, request: customers_pb2.DeleteCustomerRequest, context: ServicerContext
    ) -> empty_pb2.Empty:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            row = await find(session, caller, request.customer, for_update=True)
            row.deleted_at = func.now()
            # Its saved methods are freed: the cards stay in the vault, usable again.
            await session.execute(
                delete(models.CustomerPaymentMethod).where(
                    models.CustomerPaymentMethod.customer_id == row.id
                )
            )
        return empty_pb2.Empty()

    async def AttachPaymentMethod(
        self, request: customers_pb2.AttachPaymentMethodRequest, context: ServicerContext
    ) -> customers_pb2.CustomerPaymentMethod:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            await find(session, caller, request.customer)
        facts = await self._facts(caller, request.payment_method)
        async with self._sessions.begin() as session:
            customer = await find(session, caller, request.customer, for_update=True)
            await _refuse_attached(session, customer.id, request.payment_method, facts.fingerprint)
            row = models.CustomerPaymentMethod(
                payment_method=request.payment_method,
                customer_id=customer.id,
                merchant_id=caller.merchant_id,
                livemode=caller.livemode,
                brand=facts.brand,
                last4=facts.last4,
                exp_month=facts.exp_month,
                exp_year=facts.exp_year,
                fingerprint=facts.fingerprint,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError:
                # Another attach of the same method or card won the race.
                raise _attached_concurrently() from None
            await session.refresh(row)
            return payment_method_message(row)

    async def ListCustomerPaymentMethods(
        self, request: customers_pb2.ListCustomerPaymentMethodsRequest, context: ServicerContext
    ) -> customers_pb2.ListCustomerPaymentMethodsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            customer = await find(session, caller, request.customer)
            rows = await session.execute(
                select(models.CustomerPaymentMethod)
                .where(models.CustomerPaymentMethod.customer_id == customer.id)
                .order_by(
                    models.CustomerPaymentMethod.created_at.desc(),
                    models.CustomerPaymentMethod.payment_method.desc(),
                )
            )
            return customers_pb2.ListCustomerPaymentMethodsResponse(
                payment_methods=[payment_method_message(row) for row in rows.scalars()]
            )

    async def DetachPaymentMethod(
        self, request: customers_pb2.DetachPaymentMethodRequest, context: ServicerContext
    ) -> empty_pb2.Empty:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            customer = await find(session, caller, request.customer, for_update=True)
            removed = await session.execute(
                delete(models.CustomerPaymentMethod)
                .where(
                    models.CustomerPaymentMethod.customer_id == customer.id,
                    models.CustomerPaymentMethod.payment_method == request.payment_method,
                )
                .returning(models.CustomerPaymentMethod.payment_method)
            )
            if removed.first() is None:
                raise errors.PayLoopsError(
                    errors.CUSTOMER_PAYMENT_METHOD_NOT_FOUND,
                    "the customer has no such saved payment method",
                    metadata={"customer": customer.id},
                )
        return empty_pb2.Empty()

    async def _facts(self, caller: Caller, payment_method: str) -> vault_pb2.PaymentMethodFacts:
        if not is_vaulted(payment_method):
            raise errors.invalid(
                [
                    errors.FieldViolation(
                        "payment_method",
                        "PAYMENT_METHOD_NOT_VAULTED",
                        "only a card vaulted with PayLoops (pm_vault_…) can be saved",
                    )
                ]
            )
        if self._vault is None:
            raise _vault_unavailable()
        try:
            return await self._vault.facts_of(
                payment_method=payment_method,
                merchant_id=caller.merchant_id,
                livemode=caller.livemode,
            )
        except LookupError:
            raise errors.PayLoopsError(
                errors.PAYMENT_METHOD_NOT_FOUND,
                "no such payment method for this merchant in this mode",
            ) from None
        except VaultUnavailable:
            raise _vault_unavailable() from None


async def find(
    session: AsyncSession, caller: Caller, customer_id: str, for_update: bool = False
) -> models.Customer:
    """The caller's customer in the caller's mode; anything else looks like a missing one."""
    query = select(models.Customer).where(
        models.Customer.id == customer_id,
        models.Customer.merchant_id == caller.merchant_id,
        models.Customer.livemode == caller.livemode,
        models.Customer.deleted_at.is_(None),
    )
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise errors.PayLoopsError(
            errors.CUSTOMER_NOT_FOUND,
            f"no customer {customer_id!r}",
            metadata={"customer": customer_id},
        )
    return row


async def saved_method_for(
    session: AsyncSession, order: models.Order, payment_method: str
) -> models.CustomerPaymentMethod | None:
    """The saved method the order is paid with; None for a method saved for nobody, which
    pays any order. A method saved for a customer pays only that customer's orders: not
    another customer's, nor an order that names no customer (the merchant would be charging a
    saved card without saying whose payment it is)."""
    saved = (
        await session.execute(
            select(models.CustomerPaymentMethod).where(
                models.CustomerPaymentMethod.payment_method == payment_method,
                models.CustomerPaymentMethod.merchant_id == order.merchant_id,
                models.CustomerPaymentMethod.livemode == order.livemode,
            )
        )
    ).scalar_one_or_none()
    if saved is not None and saved.customer_id != order.customer_id:
        raise errors.PayLoopsError(
            errors.PAYMENT_METHOD_CUSTOMER_MISMATCH,
            "this payment method is saved for a customer who is not the order's",
            metadata={"order": order.id},
        )
    return saved


def not_saved(order: models.Order) -> errors.PayLoopsError:
    """An off-session payment without the customer needs their consent on file: a method
    saved for the order's customer."""
    return errors.PayLoopsError(
        errors.PAYMENT_METHOD_NOT_SAVED,
        "an off-session payment needs a payment method saved for the order's customer",
        metadata={"order": order.id},
    )


async def _refuse_attached(
    session: AsyncSession, customer_id: str, payment_method: str, fingerprint: str
) -> None:
    """The same card saved twice for one customer is a duplicate (the merchant gets the saved
    method's id, to use it instead); a method saved for another customer stays theirs."""
    same_card = (
        await session.execute(
            select(models.CustomerPaymentMethod.payment_method).where(
                models.CustomerPaymentMethod.customer_id == customer_id,
                models.CustomerPaymentMethod.fingerprint == fingerprint,
            )
        )
    ).scalar_one_or_none()
    if same_card is not None:
        raise errors.PayLoopsError(
            errors.PAYMENT_METHOD_DUPLICATE,
            "this card is already saved for the customer",
            metadata={"customer": customer_id, "payment_method": same_card},
        )
    elsewhere = await session.get(models.CustomerPaymentMethod, payment_method)
    if elsewhere is not None:
        raise errors.PayLoopsError(
            errors.PAYMENT_METHOD_ATTACHED_ELSEWHERE,
            "this payment method is saved for another customer",
        )


def _attached_concurrently() -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.PAYMENT_METHOD_ATTACHED_ELSEWHERE,
        "this payment method or its card was saved by a concurrent request",
    )


def _vault_unavailable() -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.VAULT_UNAVAILABLE, "the card vault cannot be reached; try again"
    )


def customer_message(row: models.Customer) -> customers_pb2.Customer:
    message = customers_pb2.Customer(
        id=row.id,
        email=row.email,
        name=row.name,
        description=row.description,
        metadata=row.metadata_,
        livemode=row.livemode,
    )
    message.create_time.FromDatetime(row.created_at)
    message.update_time.FromDatetime(row.updated_at)
    return message


def payment_method_message(
    row: models.CustomerPaymentMethod,
) -> customers_pb2.CustomerPaymentMethod:
    message = customers_pb2.CustomerPaymentMethod(
        id=row.payment_method,
        customer=row.customer_id,
        brand=row.brand,
        last4=row.last4,
        exp_month=row.exp_month,
        exp_year=row.exp_year,
        fingerprint=row.fingerprint,
    )
    message.create_time.FromDatetime(row.created_at)
    return message
