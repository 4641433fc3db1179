"""A wire-level fake of the Stripe HTTP API, for the real `stripe` SDK.

    with FakeStripe() as fake:
        client = stripe.StripeClient(fake.secret_key, base_addresses={"api": fake.base_url})

What it speaks, as Stripe does: form-encoded bracket bodies (`metadata[k]=v`, `expand[0]=x`),
query strings for GET, `Authorization: Bearer sk_test_…` (401 otherwise), JSON answers with
`Request-Id`, errors as `{"error": {type, code, decline_code, message, param, payment_intent}}`,
idempotency (same key + same parameters replays with `Idempotent-Replayed: true` and
`Original-Request`; different parameters are a 400 `idempotency_error`; a duplicate still in
flight is a 409; validation failures, 401s and 429s are not stored, 402s and endpoint 500s are),
and webhooks: every change POSTs a signed event envelope to `webhook_url` when one is set, and is
kept in `events` either way.

Endpoints: PaymentIntents create (with confirm) / retrieve / update / confirm / capture / cancel
/ list / search; Refunds create / retrieve / list. State and rules live in stripe_world.py.

Test-only surface, none of it Stripe's:
* `GET /_fake/3ds/{pi}`: the challenge page the 3DS redirect URL points at; with
  `?outcome=succeed|fail` (GET or POST) it settles the PaymentIntent and redirects to the
  return_url with `payment_intent`, `payment_intent_client_secret` and `redirect_status`;
* `inject(...)`: faults for the next requests (FaultKind), `refuse_connections()` (the port
  stops listening, so connecting fails), `search_lag_s` (search does not see recent changes);
* `requests`: every request as received (method, path, headers, form), for assertions.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import logging
import queue
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.stripe_world import (
    API_VERSION,
    Charge,
    Intent,
    Refund,
    StripeHTTPError,
    StripeWorld,
    invalid_request,
    new_id,
)

log = logging.getLogger(__name__)

SECRET_KEY = "sk_test_fake_payloops_000000000000"
WEBHOOK_SECRET = "whsec_fake_payloops_0000000000"


# -- forms -----------------------------------------------------------------------------------------

_BRACKET_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def parse_form(text: str) -> dict[str, Any]:
    """`a[b][0]=x&c[]=y` to {"a": {"b": ["x"]}, "c": ["y"]}: the SDK's encoding, read back."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _BRACKET_KEY.fullmatch(raw_key)
        if match is None:
            raise invalid_request(f"Invalid parameter name: {raw_key}")
        path = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node: dict[str, Any] = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # `x[]=`: append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid_request(f"Conflicting parameter: {raw_key}")
                node = child
    converted = _lists(root)
    assert isinstance(converted, dict)
    return converted


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


# -- faults ----------------------------------------------------------------------------------------


class FaultKind(StrEnum):
    DELAY = "delay"  # handle the request, then wait `delay_s` before answering
    SERVER_ERROR = "server_error"  # 500 api_error, request not handled
    RATE_LIMIT = "rate_limit"  # 429 rate_limit, request not handled
    HTML_502 = "html_502"  # a proxy's HTML 502, request not handled
    CHARGE_THEN_500 = "charge_then_500"  # handled (money moved), then a 500 (kept as the
    # idempotent result, as Stripe keeps 500s raised inside an endpoint)


@dataclass
class Fault:
    kind: FaultKind
    times: int = 1
    method: str | None = None  # None: any
    path: str | None = None  # regex, full match; None: any /v1 path
    delay_s: float = 0.0
    # Runs after the request was handled, before the answer (say, refuse_connections).
    then: Callable[[], None] | None = None

    def applies(self, method: str, path: str) -> bool:
        if self.times <= 0 or self.method not in (None, method):
            return False
        if self.path is None:
            return path.startswith("/v1/")
        return re.fullmatch(self.path, path) is not None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    form: dict[str, Any]  # body for POST, query for GET
    body: str
    status: int = 0  # filled in once answered
    replayed: bool = False

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class Event:
    id: str
    type: str
    body: bytes
    signature: str  # the Stripe-Signature header value
    delivered: list[int] = field(default_factory=list)  # HTTP statuses of delivery attempts

    @property
    def envelope(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class _Stored:
    fingerprint: tuple[str, str, str]
    status: int
    body: bytes
    request_id: str


_IN_FLIGHT = object()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header: t=<unix>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class FakeStripe:
    """The fake, on 127.0.0.1 and an ephemeral port. Start and stop it with `with`."""

    def __init__(
        self,
        *,
        accounts: dict[str, str] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str = WEBHOOK_SECRET,
    ) -> None:
        # secret key -> account id; objects and idempotency keys are per account.
        self.accounts = accounts or {SECRET_KEY: "acct_fake_default"}
        self.secret_key = next(iter(self.accounts))
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.world = StripeWorld(self._emit, lambda: self.base_url)
        self.events: list[Event] = []
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._stored: dict[tuple[str, str], _Stored | object] = {}
        self._lock = threading.Lock()
        self._current = threading.local()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._deliveries: queue.Queue[Event | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeStripe:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._listen()
        self._sender = threading.Thread(
            target=self._send_events, name="fake-stripe-webhooks", daemon=True
        )
        self._sender.start()

    def stop(self) -> None:
        self._stop_listening()
        self._deliveries.put(None)
        if self._sender is not None:
            self._sender.join(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-stripe",
            daemon=True,
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    # -- control ---------------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        times: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        delay_s: float = 0.0,
        then: Callable[[], None] | None = None,
    ) -> Fault:
        fault = Fault(kind, times, method, path, delay_s, then)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def refuse_connections(self) -> None:
        """Stops listening: connecting fails (refused) until accept_connections()."""
        self._stop_listening()

    def accept_connections(self) -> None:
        if self._server is None:
            self._listen()

    @contextlib.contextmanager
    def refusing(self) -> Iterator[None]:
        self.refuse_connections()
        try:
            yield
        finally:
            self.accept_connections()

    @property
    def search_lag_s(self) -> float:
        return self.world.search_lag_s

    @search_lag_s.setter
    def search_lag_s(self, value: float) -> None:
        self.world.search_lag_s = value

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests whose path fully matches the regex `path`."""
        return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]

    def intents(self) -> list[Intent]:
        return list(self.world.intents.values())

    def intents_with(self, metadata_key: str, value: str) -> list[Intent]:
        return [i for i in self.intents() if i.metadata.get(metadata_key) == value]

    def charges(self) -> list[Charge]:
        return list(self.world.charges.values())

    def refunds(self) -> list[Refund]:
        return list(self.world.refunds.values())

    def events_of(self, event_type: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.type == event_type]

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        return sign(payload, self.webhook_secret, timestamp)

    # -- webhooks --------------------------------------------------------------------------

    def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        current = getattr(self._current, "request", None)
        envelope: dict[str, Any] = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {
                "id": getattr(self._current, "request_id", None),
                "idempotency_key": current.idempotency_key if current else None,
            },
            "type": event_type,
            "data": {"object": obj},
        }
        body = json.dumps(envelope).encode()
        event = Event(envelope["id"], event_type, body, self.sign(body))
        with self._lock:
            self.events.append(event)
        self._deliveries.put(event)

    def _send_events(self) -> None:
        while (event := self._deliveries.get()) is not None:
            url = self.webhook_url
            if not url:
                continue
            request = urllib.request.Request(
                url,
                data=event.body,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": event.signature,
                    "User-Agent": "Stripe/1.0 (fake)",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    event.delivered.append(response.status)
            except Exception as error:  # a test's receiver may be gone: keep going
                event.delivered.append(getattr(error, "code", 0))

    # -- requests --------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(method, path):
                    fault.times -= 1
                    return fault
        return None

    def handle(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        record = RecordedRequest(handler.command, url.path, headers, {}, body)
        with self._lock:
            self._requests.append(record)
        try:
            record.form = parse_form(body if handler.command == "POST" else url.query)
        except StripeHTTPError as error:
            self._answer_error(handler, record, error)
            return
        if url.path.startswith("/_fake/3ds/"):
            # A browser: the answer may come in the query (a link) or a posted form.
            answer = {**parse_form(url.query), **record.form}
            self._three_d_secure(
                handler, record, answer.get("outcome"), url.path.removeprefix("/_fake/3ds/")
            )
            return
        account = self._authenticate(handler, record)
        if account is None:
            return
        fault = self._take_fault(handler.command, url.path)
        if fault is not None and fault.kind is FaultKind.SERVER_ERROR:
            self._answer_json(
                handler,
                record,
                500,
                {"error": {"type": "api_error", "message": "An unknown error occurred (fake)."}},
            )
            return
        if fault is not None and fault.kind is FaultKind.RATE_LIMIT:
            self._answer_json(
                handler,
                record,
                429,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit",
                        "message": "Too many requests hit the API too quickly (fake).",
                    }
                },
            )
            return
        if fault is not None and fault.kind is FaultKind.HTML_502:
            self._answer(
                handler,
                record,
                502,
                b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                "text/html",
            )
            return
        status, payload, extra = self._idempotent(handler.command, url.path, record, account, fault)
        if fault is not None and fault.then is not None:
            fault.then()
        if fault is not None and fault.kind is FaultKind.DELAY:
            time.sleep(fault.delay_s)
        self._answer(handler, record, status, payload, "application/json", extra)

    def _authenticate(self, handler: _Handler, record: RecordedRequest) -> str | None:
        auth = record.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        account = self.accounts.get(key)
        if account is not None:
            return account
        message = (
            "You did not provide an API key."
            if not key
            else f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}"
        )
        self._answer_json(
            handler, record, 401, {"error": {"type": "invalid_request_error", "message": message}}
        )
        return None

    def _idempotent(
        self, method: str, path: str, record: RecordedRequest, account: str, fault: Fault | None
    ) -> tuple[int, bytes, dict[str, str]]:
        key = record.idempotency_key if method == "POST" else None
        request_id = "req_" + secrets.token_hex(7)
        if key is not None and len(key) > 255:
            error = invalid_request("Idempotency keys are at most 255 characters.")
            return error.status, _error_body(error), {"Request-Id": request_id}
        fingerprint = (method, path, json.dumps(record.form, sort_keys=True))
        scope = (account, key or "")
        if key is not None:
            with self._lock:
                stored = self._stored.get(scope)
                if stored is None:
                    self._stored[scope] = _IN_FLIGHT
            if stored is _IN_FLIGHT:
                return (
                    409,
                    json.dumps(
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "There is currently another in-progress request "
                                f"using this Idempotency-Key ({key}). Please retry later.",
                            }
                        }
                    ).encode(),
                    {"Request-Id": request_id},
                )
            if isinstance(stored, _Stored):
                if stored.fingerprint != fingerprint:
                    return (
                        400,
                        json.dumps(
                            {
                                "error": {
                                    "type": "idempotency_error",
                                    "message": "Keys for idempotent requests can only be used "
                                    "with the same parameters they were first used with. Try "
                                    f"using a key other than '{key}' if you meant to execute a "
                                    "different request.",
                                }
                            }
                        ).encode(),
                        {"Request-Id": request_id},
                    )
                record.replayed = True
                return (
                    stored.status,
                    stored.body,
                    {
                        "Request-Id": request_id,
                        "Idempotent-Replayed": "true",
                        "Original-Request": stored.request_id,
                    },
                )
        self._current.request, self._current.request_id = record, request_id
        keep = True
        try:
            status, payload = 200, json.dumps(self._route(method, path, account, record.form))
        except StripeHTTPError as error:
            status, payload, keep = error.status, _error_body(error).decode(), error.stored
        except Exception:  # a bug in the fake: say so loudly, never leave the key in flight
            log.exception("fake stripe failed on %s %s", method, path)
            status, keep = 500, False
            payload = json.dumps({"error": {"type": "api_error", "message": "fake bug"}})
        finally:
            self._current.request = self._current.request_id = None
        if fault is not None and fault.kind is FaultKind.CHARGE_THEN_500:
            status, keep = 500, True
            payload = json.dumps(
                {"error": {"type": "api_error", "message": "An unknown error occurred (fake)."}}
            )
        if key is not None:
            with self._lock:
                if keep:
                    self._stored[scope] = _Stored(fingerprint, status, payload.encode(), request_id)
                else:
                    self._stored.pop(scope, None)
        return status, payload.encode(), {"Request-Id": request_id}

    def _route(self, method: str, path: str, account: str, form: dict[str, Any]) -> dict[str, Any]:
        w = self.world
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["v1", "payment_intents"]:
                return w.create_intent(account, form)
            case "GET", ["v1", "payment_intents"]:
                return w.list_intents(account, form)
            case "GET", ["v1", "payment_intents", "search"]:
                return w.search_intents(account, form)
            case "GET", ["v1", "payment_intents", intent_id]:
                return w.retrieve_intent(account, intent_id, form)
            case "POST", ["v1", "payment_intents", intent_id]:
                return w.update_intent(account, intent_id, form)
            case "POST", ["v1", "payment_intents", intent_id, "confirm"]:
                return w.confirm_intent(account, intent_id, form)
            case "POST", ["v1", "payment_intents", intent_id, "capture"]:
                return w.capture_intent(account, intent_id, form)
            case "POST", ["v1", "payment_intents", intent_id, "cancel"]:
                return w.cancel_intent(account, intent_id, form)
            case "POST", ["v1", "refunds"]:
                return w.create_refund(account, form)
            case "GET", ["v1", "refunds"]:
                return w.list_refunds(account, form)
            case "GET", ["v1", "refunds", refund_id]:
                return w.retrieve_refund(account, refund_id, form)
        raise invalid_request(f"Unrecognized request URL ({method}: {path}).", status=404)

    def _three_d_secure(
        self, handler: _Handler, record: RecordedRequest, outcome: Any, intent_id: str
    ) -> None:
        if handler.command == "GET" and outcome is None:
            link = html.escape(f"/_fake/3ds/{intent_id}")
            page = (
                f"<html><body><h1>Fake 3-D Secure</h1><p>{html.escape(intent_id)}</p>"
                f'<a href="{link}?outcome=succeed">Complete</a> '
                f'<a href="{link}?outcome=fail">Fail</a></body></html>'
            )
            self._answer(handler, record, 200, page.encode(), "text/html")
            return
        if outcome not in ("succeed", "fail"):
            self._answer(handler, record, 400, b"outcome must be succeed or fail", "text/plain")
            return
        try:
            intent = self.world.complete_3ds(intent_id, outcome == "succeed")
        except LookupError as error:
            self._answer(handler, record, 409, str(error).encode(), "text/plain")
            return
        if not intent.return_url:
            self._answer(handler, record, 200, b"<html><body>Done.</body></html>", "text/html")
            return
        redirect_status = (
            "succeeded" if intent.status in ("succeeded", "requires_capture") else "failed"
        )
        query = urlencode(
            {
                "payment_intent": intent.id,
                "payment_intent_client_secret": intent.client_secret,
                "redirect_status": redirect_status,
            }
        )
        separator = "&" if "?" in intent.return_url else "?"
        self._answer(
            handler,
            record,
            302,
            b"",
            "text/plain",
            {"Location": f"{intent.return_url}{separator}{query}"},
        )

    # -- answers ---------------------------------------------------------------------------

    def _answer_error(
        self, handler: _Handler, record: RecordedRequest, error: StripeHTTPError
    ) -> None:
        self._answer(handler, record, error.status, _error_body(error), "application/json")

    def _answer_json(
        self, handler: _Handler, record: RecordedRequest, status: int, payload: dict[str, Any]
    ) -> None:
        self._answer(handler, record, status, json.dumps(payload).encode(), "application/json")

    def _answer(
        self,
        handler: _Handler,
        record: RecordedRequest,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        record.status = status
        headers = {"Request-Id": "req_" + secrets.token_hex(7), **(headers or {})}
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            # One request per connection, so refuse_connections() really refuses the next.
            handler.send_header("Connection", "close")
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client gave up (a timeout test): what a real server sees too


def _error_body(error: StripeHTTPError) -> bytes:
    return json.dumps({"error": error.error}).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.close_connection = True
        self.fake.handle(self)

    do_POST = do_GET
    do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake stripe: " + format, *args)
