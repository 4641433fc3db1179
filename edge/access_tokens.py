"""The dashboard's access tokens: JWTs signed with EdDSA (PyJWT), `kid` in the header.

Claims: iss, aud, sub (the user), sid (the session), merchant, iat, exp (10 minutes), jti.
Verification pins the algorithm (so `none`, and HS256 keyed with the public key, are refused),
picks the key by `kid` among every configured one, and requires every claim. A valid
signature proves only that the token was issued: the caller (edge.auth) then loads the user
and the session, so a removed user or a logged-out session is refused at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core import errors
from core.signing_keys import ALGORITHM, SigningKey

ISSUER = "payloops"
AUDIENCE = "payloops-api"
LIFETIME = timedelta(minutes=10)
TOKEN_TYPE = "Bearer"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "merchant", "iat", "exp", "jti"]


@dataclass(frozen=True)
class Claims:
    user_id: str
    session_id: str
    merchant_id: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


class AccessTokens:
    def __init__(self, keys: tuple[SigningKey, ...]) -> None:
        self._keys = keys
        self._by_kid = {key.kid: key for key in keys}

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def jwks(self) -> list[dict[str, str]]:
        return [key.jwk() for key in self._keys]

    def issue(self, claims: Claims) -> IssuedToken:
        if not self._keys:
            raise sessions_closed()
        signer = self._keys[0]
        now = datetime.now(UTC)
        expires_at = now + LIFETIME
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": claims.user_id,
            "sid": claims.session_id,
            "merchant": claims.merchant_id,
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(
            payload, signer.private_key, algorithm=ALGORITHM, headers={"kid": signer.kid}
        )
        return IssuedToken(token, expires_at.replace(microsecond=0))

    def verify(self, token: str) -> Claims:
        if not self._keys:
            raise sessions_closed()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._by_kid.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise _invalid()
            payload = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise errors.PayLoopsError(
                errors.ACCESS_TOKEN_EXPIRED, "the access token has expired; refresh the session"
            ) from None
        except jwt.PyJWTError:
            raise _invalid() from None
        subject, session, merchant = payload["sub"], payload["sid"], payload["merchant"]
        if not all(isinstance(value, str) and value for value in (subject, session, merchant)):
            raise _invalid()
        return Claims(user_id=subject, session_id=session, merchant_id=merchant)


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: an access token rather than an API key."""
    return token.count(".") == 2


def _invalid() -> errors.PayLoopsError:
    return errors.PayLoopsError(errors.ACCESS_TOKEN_INVALID, "the access token is not valid")


def sessions_closed() -> errors.PayLoopsError:
    return errors.PayLoopsError(
        errors.SESSIONS_NOT_CONFIGURED,
        "sign-in is not configured on this platform (no JWT signing key)",
    )
