"""What a merchant is told about a failed webhook delivery attempt: one of a few classes, never
the error's own text. A raw connection error names addresses, certificates and resolvers of
the network the platform runs in (`certificate is not valid for '169.254.169.254'`, `Name or
service not known`): shown to whoever registered the URL, it maps that network for them.
The worker logs the raw detail; the attempt record and the API hold only the class.
"""

from __future__ import annotations

import socket
import ssl

import httpx

CONNECTION_REFUSED = "connection_refused"  # nothing listens at the address
TIMEOUT = "timeout"  # no connection, or no answer, within the attempt's time
TLS_ERROR = "tls_error"  # the TLS handshake failed (certificate, protocol)
DNS_ERROR = "dns_error"  # the host does not resolve
HTTP_STATUS = "http_status"  # it answered, with a status other than 2xx (in http_status)
DESTINATION_NOT_ALLOWED = "destination_not_allowed"  # the host resolves where webhooks may not go
CONNECTION_ERROR = "connection_error"  # reset, unreachable, not HTTP: any other network failure
WORKER_LOST = "worker_lost"  # the worker making the attempt stopped answering; sent again later
INTERNAL_ERROR = "internal_error"  # the attempt could not be made; sent again later

CLASSES = frozenset(
    {
        CONNECTION_REFUSED,
        TIMEOUT,
        TLS_ERROR,
        DNS_ERROR,
        HTTP_STATUS,
        DESTINATION_NOT_ALLOWED,
        CONNECTION_ERROR,
        WORKER_LOST,
        INTERNAL_ERROR,
    }
)

# Attempts recorded before the classes held the error's text; they are shown by class too.
_EARLIER_TEXTS = (
    ("connection refused", CONNECTION_REFUSED),
    ("timeout after", TIMEOUT),
    ("the attempt overran", TIMEOUT),
    ("TLS handshake failed", TLS_ERROR),
    ("the host does not resolve", DNS_ERROR),
    ("HTTP ", HTTP_STATUS),
    ("no answer from the worker", WORKER_LOST),
    ("the attempt failed", INTERNAL_ERROR),
)


def classify(error: BaseException) -> str:
    """The class of an exception raised by an HTTP attempt, from its root cause (httpx wraps
    the socket's error a few layers deep)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return CONNECTION_REFUSED
        if isinstance(cause, ssl.SSLError):
            return TLS_ERROR
        if isinstance(cause, socket.gaierror):
            return DNS_ERROR
        if isinstance(cause, TimeoutError | httpx.TimeoutException):
            return TIMEOUT
        cause = cause.__cause__ or cause.__context__
    return CONNECTION_ERROR


def shown(stored: str) -> str:
    """The class an attempt's stored error is shown as ("" for none)."""
    if not stored or stored in CLASSES:
        return stored
    for prefix, error_class in _EARLIER_TEXTS:
        if stored.startswith(prefix):
            return error_class
    if stored.endswith("does not resolve"):
        return DNS_ERROR
    if stored.endswith("not a public address"):
        return DESTINATION_NOT_ALLOWED
    return CONNECTION_ERROR
