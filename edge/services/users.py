"""UserService: a merchant's dashboard users. Who may call what is edge.access's (any
signed-in user lists; an owner creates, changes roles, removes; no API key); the platform's
admin key creates a merchant's first owner. Users belong to the merchant, not to a mode:
their audit entries show in both modes' logs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit, errors, ids, passwords
from core.audit import AuditAction
from core.db import models
from core.roles import Role
from core.users import email_violations, normalized_email, role_of
from edge import user_sessions
from edge.auth import admin_actor, authenticate, authenticate_admin
from edge.context import ServicerContext
from edge.page_tokens import Cursor, PageTokens, page_size
from payloops.v1 import users_pb2, users_pb2_grpc

TARGET_TYPE = "user"


class UserService(users_pb2_grpc.UserServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        page_tokens: PageTokens,
        admin_api_keys: tuple[str, ...],
    ) -> None:
        self._sessions = sessions
        self._page_tokens = page_tokens
        self._admin_api_keys = admin_api_keys

    async def CreateUser(
        self, request: users_pb2.CreateUserRequest, context: ServicerContext
    ) -> users_pb2.User:
        async with self._sessions.begin() as session:
            if request.merchant:
                # The platform operator making a merchant's first owner.
                authenticate_admin(context, self._admin_api_keys)
                actor = admin_actor(context)
                merchant_id = request.merchant
            else:
                caller = await authenticate(session, context)
                actor, merchant_id = caller.actor, caller.merchant_id
            email = normalized_email(request.user.email)
            role = role_of(users_pb2.User.Role.Name(request.user.role))
            _check_new_user(email, role, request.password)
            assert role is not None
            if await session.get(models.Merchant, merchant_id) is None:
                raise errors.PayLoopsError(
                    errors.MERCHANT_NOT_FOUND,
                    "no such merchant",
                    metadata={"merchant": merchant_id},
                )
            if await _active_user_by_email(session, email) is not None:
                raise _user_exists()
            user = models.User(
                id=ids.new_id("usr"),
                merchant_id=merchant_id,
                email=email,
                password_hash=await passwords.hash_password(request.password),
                role=role.value,
            )
            session.add(user)
            try:
                await session.flush()
            except IntegrityError:
                # Another request made the same e-mail's user in the meantime.
                raise _user_exists() from None
            await session.refresh(user)
            audit.record(
                session,
                actor,
                AuditAction.USER_CREATED,
                merchant_id=merchant_id,
                livemode=None,
                target_type=TARGET_TYPE,
                target_id=user.id,
                details={"email": email, "role": role.value},
            )
            return user_message(user)

    async def ListUsers(
        self, request: users_pb2.ListUsersRequest, context: ServicerContext
    ) -> users_pb2.ListUsersResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            size = page_size(request.page_size)
            scope = f"users|{caller.merchant_id}"
            after = (
                self._page_tokens.decode(request.page_token, scope) if request.page_token else None
            )
            query = select(models.User).where(
                models.User.merchant_id == caller.merchant_id, models.User.removed_at.is_(None)
            )
            if after is not None:
                query = query.where(
                    tuple_(models.User.created_at, models.User.id)
                    > tuple_(after.created_at, after.order_id)
                )
            query = query.order_by(models.User.created_at, models.User.id).limit(size + 1)
            rows = list((await session.execute(query)).scalars())
        page = rows[:size]
        response = users_pb2.ListUsersResponse(users=[user_message(user) for user in page])
        if len(rows) > size:
            response.next_page_token = self._page_tokens.encode(
                Cursor(page[-1].created_at, page[-1].id), scope
            )
        return response

    async def SetUserRole(
        self, request: users_pb2.SetUserRoleRequest, context: ServicerContext
    ) -> users_pb2.User:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            role = role_of(users_pb2.User.Role.Name(request.role))
            if role is None:
                raise errors.invalid([_role_required("role")])
            users = await _locked_active_users(session, caller.merchant_id)
            user = _find(users, request.user)
            if user.role == role.value:
                return user_message(user)
            if role is not Role.OWNER:
                _keep_an_owner(users, user)
            previous, user.role = user.role, role.value
            audit.record(
                session,
                caller.actor,
                AuditAction.USER_ROLE_CHANGED,
                merchant_id=caller.merchant_id,
                livemode=None,
                target_type=TARGET_TYPE,
                target_id=user.id,
                details={"email": user.email, "from": previous, "to": role.value},
            )
            return user_message(user)

    async def RemoveUser(
        self, request: users_pb2.RemoveUserRequest, context: ServicerContext
    ) -> users_pb2.User:
        async with self._sessions.begin() as session:
            caller = await authenticate(session, context)
            users = await _locked_active_users(session, caller.merchant_id)
            user = _find(users, request.user)
            _keep_an_owner(users, user)
            user.removed_at = datetime.now(UTC)
            await user_sessions.revoke_all_of(session, user.id, user_sessions.REVOKED_USER_REMOVED)
            audit.record(
                session,
                caller.actor,
                AuditAction.USER_REMOVED,
                merchant_id=caller.merchant_id,
                livemode=None,
                target_type=TARGET_TYPE,
                target_id=user.id,
                details={"email": user.email, "role": user.role},
            )
            return user_message(user)


def user_message(user: models.User) -> users_pb2.User:
    message = users_pb2.User(
        id=user.id,
        email=user.email,
        role=users_pb2.User.Role.Value(user.role.upper()),
        merchant=user.merchant_id,
    )
    message.create_time.FromDatetime(user.created_at)
    if user.removed_at is not None:
        message.remove_time.FromDatetime(user.removed_at)
    return message


def _check_new_user(email: str, role: Role | None, password: str) -> None:
    found = [
        *email_violations(email, "user.email"),
        *([_role_required("user.role")] if role is None else []),
        *passwords.violations(password),
    ]
    if found:
        raise errors.invalid(found)


def _role_required(field: str) -> errors.FieldViolation:
    return errors.FieldViolation(field, "ROLE_REQUIRED", "must be OWNER, DEVELOPER or VIEWER")


def _user_exists() -> errors.PayLoopsError:
    return errors.PayLoopsError(errors.USER_EXISTS, "a user with this e-mail already exists")


async def _active_user_by_email(session: AsyncSession, email: str) -> models.User | None:
    return await session.scalar(
        select(models.User).where(models.User.email == email, models.User.removed_at.is_(None))
    )


async def _locked_active_users(session: AsyncSession, merchant_id: str) -> list[models.User]:
    """Every active user of the merchant, locked: two owners demoting or removing each other
    at once must not leave the merchant without an owner."""
    query = (
        select(models.User)
        .where(models.User.merchant_id == merchant_id, models.User.removed_at.is_(None))
        .order_by(models.User.id)
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())


def _find(users: list[models.User], user_id: str) -> models.User:
    for user in users:
        if user.id == user_id:
            return user
    raise errors.PayLoopsError(errors.USER_NOT_FOUND, "no such user", metadata={"user": user_id})


def _keep_an_owner(users: list[models.User], changed: models.User) -> None:
    owners = [user for user in users if user.role == Role.OWNER.value]
    if owners == [changed]:
        raise errors.PayLoopsError(
            errors.LAST_OWNER,
            "this is the merchant's last owner; make another user an owner first",
        )
