"""Access tokens without a mesh: the kid is the RFC 7638 thumbprint, tokens verify with any
configured key (rotation), and what is not exactly a token of ours is refused."""

from __future__ import annotations

import pytest

from core import errors
from core.signing_keys import SigningKey, SigningKeyInvalid, new_key, parse_keys
from edge.access_tokens import AccessTokens, Claims, looks_like_jwt

CLAIMS = Claims(user_id="usr_1", session_id="ses_1", merchant_id="mer_1")


def test_the_kid_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037 appendix A.1 (the key) and A.3 (its thumbprint).
    key = SigningKey.parse("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    assert key.x == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert key.jwk() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.x,
        "kid": key.kid,
        "alg": "EdDSA",
        "use": "sig",
    }


def test_a_token_of_the_old_key_verifies_while_both_keys_are_configured() -> None:
    old, new = new_key(), new_key()
    before = AccessTokens(parse_keys((old,)))
    token = before.issue(CLAIMS).token
    adding = AccessTokens(parse_keys((old, new)))
    rotated = AccessTokens(parse_keys((new, old)))
    for tokens in (adding, rotated):
        assert tokens.verify(token) == CLAIMS
    assert [jwk["kid"] for jwk in rotated.jwks()] == [
        SigningKey.parse(new).kid,
        SigningKey.parse(old).kid,
    ]
    # Once the old key is dropped, what it signed is refused.
    with pytest.raises(errors.PayLoopsError) as refused:
        AccessTokens(parse_keys((new,))).verify(token)
    assert refused.value.kind is errors.ACCESS_TOKEN_INVALID
    assert AccessTokens(parse_keys((new,))).verify(rotated.issue(CLAIMS).token) == CLAIMS


def test_without_a_key_sessions_are_closed() -> None:
    closed = AccessTokens(())
    for attempt in (lambda: closed.issue(CLAIMS), lambda: closed.verify("a.b.c")):
        with pytest.raises(errors.PayLoopsError) as refused:
            attempt()
        assert refused.value.kind is errors.SESSIONS_NOT_CONFIGURED


@pytest.mark.parametrize("text", ["", "not base64 !", "c2hvcnQ", new_key() + "AAAA"])
def test_a_malformed_signing_key_is_refused_without_quoting_it(text: str) -> None:
    with pytest.raises(SigningKeyInvalid) as refused:
        SigningKey.parse(text)
    assert not text or text not in str(refused.value)


def test_what_looks_like_a_jwt() -> None:
    assert looks_like_jwt(AccessTokens(parse_keys((new_key(),))).issue(CLAIMS).token)
    assert not looks_like_jwt("sk_test_abc")
