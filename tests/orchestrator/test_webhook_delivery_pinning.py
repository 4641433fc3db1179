"""Deliveries, in both modes, connect to an address their check approved (DNS rebinding): the
POST goes to that address, with the endpoint's host name in the Host header and in TLS (SNI and
the certificate check); a host that now resolves to an address webhooks may not reach (a
metadata service, a private network, one of the platform's listeners) is not contacted at all.

The resolver is replaced (the test has no DNS); the HTTPS receiver on 127.0.0.1, which the
allow-list admits for test mode, plays the merchant's server "hooks.merchant.example" with a
certificate for that name only."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.config import Settings
from core.db import models
from core.secrets import SecretBox
from core.webhooks import urls as webhook_urls
from core.webhooks.destinations import IPAddress, parse_allowlist, parse_listeners
from orchestrator.activities.webhooks import WebhookActivities

HOST = "hooks.merchant.example"
# A developer's receivers on loopback, as `payloops dev` allows them.
LOCAL = webhook_urls.Destinations(parse_allowlist("127.0.0.1,[::1]"))


def certificate_for(host: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert.public_bytes(serialization.Encoding.PEM),
    )


class TLSReceiver:
    def __init__(self, workdir: Path) -> None:
        key, cert = certificate_for(HOST)
        (workdir / "key.pem").write_bytes(key)
        (workdir / "cert.pem").write_bytes(cert)
        self.cert_file = workdir / "cert.pem"
        self.seen: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.seen.append(
                    {"host": self.headers["Host"], "sni": getattr(self.connection, "sni", None)}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(workdir / "cert.pem", workdir / "key.pem")

        def remember_sni(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
            sock.sni = name  # type: ignore[attr-defined]

        context.sni_callback = remember_sni
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[TLSReceiver]:
    served = TLSReceiver(tmp_path)
    yield served
    served.close()


def activities_trusting(
    receiver: TLSReceiver, destinations: webhook_urls.Destinations = LOCAL
) -> WebhookActivities:
    activities = WebhookActivities(
        None,  # type: ignore[arg-type]
        SecretBox(()),
        Settings(database_url="postgresql+asyncpg://unused"),
        destinations,
    )
    activities._tls = ssl.create_default_context(cafile=str(receiver.cert_file))
    return activities


def endpoint(url: str, livemode: bool = False) -> models.WebhookEndpoint:
    return models.WebhookEndpoint(id="we_test", url=url, livemode=livemode, status="enabled")


def resolving(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """Replaces the resolver: every name resolves to `answers`; returns the names asked."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(answer) for answer in answers]

    monkeypatch.setattr(webhook_urls, "resolve", resolve)
    return asked


@pytest.mark.parametrize("livemode", [False, True], ids=["test", "live"])
async def test_a_delivery_goes_to_the_checked_address_under_the_endpoints_name(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch, livemode: bool
) -> None:
    asked = resolving(monkeypatch, "127.0.0.1")
    if livemode:
        # The test has no public address: 127.0.0.1 plays one.
        monkeypatch.setattr(webhook_urls, "is_public", lambda address: True)
    status, error = await activities_trusting(receiver)._post(
        endpoint(f"https://{HOST}:{receiver.port}/hooks?x=1", livemode),
        b"{}",
        {"Content-Type": "application/json"},
        5,
    )
    assert (status, error) == (204, "")
    assert asked == [HOST]  # once: the connection goes to what the check approved
    assert receiver.seen == [{"host": f"{HOST}:{receiver.port}", "sni": HOST}]


@pytest.mark.parametrize(
    "now",
    [("169.254.169.254",), ("10.0.0.7",), ("127.0.0.1", "10.0.0.7"), ("fd00:ec2::254",)],
)
async def test_a_test_mode_host_that_now_resolves_elsewhere_is_not_contacted(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch, now: tuple[str, ...]
) -> None:
    """Accepted when it resolved to the allowed local receiver; at delivery it resolves to a
    metadata service or a private network (DNS rebinding): nothing is sent."""
    url = f"https://{HOST}:{receiver.port}/hooks"
    resolving(monkeypatch, "127.0.0.1")
    assert await LOCAL.check(url, livemode=False) is None
    resolving(monkeypatch, *now)
    status, error = await activities_trusting(receiver)._post(endpoint(url), b"{}", {}, 5)
    assert (status, error) == (0, "destination_not_allowed")
    assert receiver.seen == []


async def test_a_receiver_on_a_port_the_platform_listens_on_is_not_contacted(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, "127.0.0.1")
    platform = webhook_urls.Destinations(
        parse_allowlist("127.0.0.1"), parse_listeners(f"localhost:{receiver.port}")
    )
    status, error = await activities_trusting(receiver, platform)._post(
        endpoint(f"https://{HOST}:{receiver.port}/hooks"), b"{}", {}, 5
    )
    assert (status, error) == (0, "destination_not_allowed")
    assert receiver.seen == []


async def test_each_checked_address_is_tried_until_one_accepts_the_connection(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localhost` is ::1 and 127.0.0.1; the receiver listens on 127.0.0.1 only."""
    resolving(monkeypatch, "::1", "127.0.0.1")
    status, error = await activities_trusting(receiver)._post(
        endpoint(f"https://{HOST}:{receiver.port}/hooks"), b"{}", {}, 5
    )
    assert (status, error) == (204, "")
    assert len(receiver.seen) == 1


async def test_a_certificate_for_another_name_fails_the_attempt_as_a_tls_error(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, "127.0.0.1")
    status, error = await activities_trusting(receiver)._post(
        endpoint(f"https://other.merchant.example:{receiver.port}/hooks"), b"{}", {}, 5
    )
    assert (status, error) == (0, "tls_error")
    assert receiver.seen == []
