"""SessionService: the dashboard's sign-in (e-mail and password → an access JWT and a refresh
token), refresh with rotation and reuse detection, logout, and the JWKS. None of it takes an
Authorization header: the request's own fields are the credentials.

A failed sign-in is written (its throttling count and its audit entry) and committed before
the refusal is answered; the password is never stored, logged or audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit, errors, passwords
from core.audit import Actor, ActorType, AuditAction
from core.db import models
from core.users import MAX_EMAIL_LENGTH, normalized_email
from edge import refresh_cookie, user_sessions
from edge.access_tokens import TOKEN_TYPE, AccessTokens, Claims, sessions_closed
from edge.auth import check_session_usable, client_address
from edge.context import ServicerContext
from edge.services.users import user_message
from edge.sign_in_throttle import SignInThrottle
from edge.user_sessions import PresentedToken, RefreshGrant
from payloops.v1 import sessions_pb2, sessions_pb2_grpc

TARGET_TYPE = "session"


class SessionService(sessions_pb2_grpc.SessionServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        access_tokens: AccessTokens,
        throttle: SignInThrottle,
    ) -> None:
        self._sessions = sessions
        self._tokens = access_tokens
        self._throttle = throttle
        # Made now, not on the first unknown e-mail (whose answer would be slower).
        self._dummy_hash = passwords.dummy_hash()

    async def CreateSession(
        self, request: sessions_pb2.CreateSessionRequest, context: ServicerContext
    ) -> sessions_pb2.Session:
        if not self._tokens.configured:
            raise sessions_closed()
        email = normalized_email(request.email)
        _check_credentials_shape(email, request.password)
        address = client_address(context)
        async with self._sessions.begin() as session:
            await self._throttle.check(session, email, address)
            user = await session.scalar(
                select(models.User).where(
                    models.User.email == email, models.User.removed_at.is_(None)
                )
            )
            # The same work whether or not the e-mail is known (see passwords.dummy_hash).
            matched = await passwords.verify(
                user.password_hash if user else self._dummy_hash, request.password
            )
            if user is None or not matched:
                await self._throttle.record_failure(session, email, address)
                audit.record(
                    session,
                    Actor(ActorType.ANONYMOUS, client_address=address),
                    AuditAction.SIGN_IN_FAILED,
                    merchant_id=user.merchant_id if user else None,
                    livemode=None,
                    target_type="user" if user else "",
                    target_id=user.id if user else "",
                    # Only a known user's own e-mail: what was typed may be a password
                    # entered in the wrong field.
                    details={"email": user.email} if user else {},
                )
                answer = None
            else:
                answer = await self._signed_in(session, user, address, request.password)
        if answer is None:
            raise errors.PayLoopsError(
                errors.SIGN_IN_FAILED, "the e-mail address or the password is wrong"
            )
        _set_refresh_cookie(answer)
        return answer

    async def _signed_in(
        self, session: AsyncSession, user: models.User, address: str, password: str
    ) -> sessions_pb2.Session:
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = await passwords.hash_password(password)
        await self._throttle.forget_email(session, user.email)
        opened = user_sessions.open_session(session, user)
        # The session's row first: its refresh token refers to it.
        await session.flush()
        grant = user_sessions.grant_refresh_token(session, opened)
        audit.record(
            session,
            _user_actor(user, address),
            AuditAction.SIGNED_IN,
            merchant_id=user.merchant_id,
            livemode=None,
            target_type=TARGET_TYPE,
            target_id=opened.id,
        )
        return self._session_message(user, opened, grant)

    async def RefreshSession(
        self, request: sessions_pb2.RefreshSessionRequest, context: ServicerContext
    ) -> sessions_pb2.Session:
        if not self._tokens.configured:
            raise sessions_closed()
        address = client_address(context)
        token = request.refresh_token or refresh_cookie.presented(context.invocation_metadata())
        async with self._sessions.begin() as session:
            found = await self._presented(session, token)
            if found.row.used_at is not None:
                # Someone else holds a copy of this session's tokens: end it for everyone.
                if user_sessions.revoke(found.session, user_sessions.REVOKED_FOR_REUSE):
                    audit.record(
                        session,
                        Actor(ActorType.ANONYMOUS, client_address=address),
                        AuditAction.REFRESH_TOKEN_REUSED,
                        merchant_id=found.user.merchant_id,
                        livemode=None,
                        target_type=TARGET_TYPE,
                        target_id=found.session.id,
                        details={"email": found.user.email},
                    )
                answer = None
            else:
                check_session_usable(found.user, found.session)
                if found.row.expires_at <= datetime.now(UTC):
                    raise errors.PayLoopsError(
                        errors.REFRESH_TOKEN_EXPIRED, "the refresh token has expired; sign in again"
                    )
                found.row.used_at = datetime.now(UTC)
                grant = user_sessions.grant_refresh_token(session, found.session)
                answer = self._session_message(found.user, found.session, grant)
        if answer is None:
            raise errors.PayLoopsError(
                errors.REFRESH_TOKEN_REUSED,
                "this refresh token was already used; the session has been revoked, sign in again",
            )
        _set_refresh_cookie(answer)
        return answer

    async def LogoutSession(
        self, request: sessions_pb2.LogoutSessionRequest, context: ServicerContext
    ) -> sessions_pb2.LogoutSessionResponse:
        token = request.refresh_token or refresh_cookie.presented(context.invocation_metadata())
        # Whatever the token: a browser that asked to sign out keeps no token.
        refresh_cookie.clear_cookie()
        async with self._sessions.begin() as session:
            found = await user_sessions.presented(session, token) if token else None
            if found is not None and user_sessions.revoke(
                found.session, user_sessions.REVOKED_BY_LOGOUT
            ):
                audit.record(
                    session,
                    _user_actor(found.user, client_address(context)),
                    AuditAction.SIGNED_OUT,
                    merchant_id=found.user.merchant_id,
                    livemode=None,
                    target_type=TARGET_TYPE,
                    target_id=found.session.id,
                )
        return sessions_pb2.LogoutSessionResponse()

    async def GetJwks(
        self, request: sessions_pb2.GetJwksRequest, context: ServicerContext
    ) -> sessions_pb2.JsonWebKeySet:
        return sessions_pb2.JsonWebKeySet(
            keys=[sessions_pb2.JsonWebKey(**jwk) for jwk in self._tokens.jwks()]
        )

    async def _presented(self, session: AsyncSession, token: str) -> PresentedToken:
        found = await user_sessions.presented(session, token) if token else None
        if found is None:
            raise errors.PayLoopsError(
                errors.REFRESH_TOKEN_INVALID, "the refresh token is not valid"
            )
        return found

    def _session_message(
        self, user: models.User, user_session: models.UserSession, grant: RefreshGrant
    ) -> sessions_pb2.Session:
        access = self._tokens.issue(Claims(user.id, user_session.id, user.merchant_id))
        message = sessions_pb2.Session(
            access_token=access.token,
            token_type=TOKEN_TYPE,
            expires_in=round((access.expires_at - datetime.now(UTC)).total_seconds()),
            refresh_token=grant.token,
            user=user_message(user),
        )
        message.expire_time.FromDatetime(access.expires_at)
        message.refresh_token_expire_time.FromDatetime(grant.expires_at)
        return message


def _set_refresh_cookie(answer: sessions_pb2.Session) -> None:
    refresh_cookie.set_cookie(
        answer.refresh_token, answer.refresh_token_expire_time.ToDatetime(tzinfo=UTC)
    )


def _user_actor(user: models.User, address: str) -> Actor:
    return Actor(ActorType.USER, user.id, user.email, address)


def _check_credentials_shape(email: str, password: str) -> None:
    """Only what bounds the work: any e-mail and password of sane length are checked against
    the database (the password policy applies when one is set, not when one is tried)."""
    found = []
    if not email or len(email) > MAX_EMAIL_LENGTH:
        found.append(
            errors.FieldViolation(
                "email", "EMAIL_INVALID", f"must be 1 to {MAX_EMAIL_LENGTH} characters"
            )
        )
    if not password:
        found.append(errors.FieldViolation("password", "PASSWORD_REQUIRED", "is required"))
    elif len(password) > passwords.MAX_LENGTH:
        found.append(
            errors.FieldViolation(
                "password",
                "PASSWORD_TOO_LONG",
                f"must be at most {passwords.MAX_LENGTH} characters",
            )
        )
    if found:
        raise errors.invalid(found)
