"""Live deliveries connect to the address their check approved (DNS rebinding): the POST goes
to that address, with the endpoint's host name in the Host header and in TLS (SNI and the
certificate check); a host that now resolves to a private address is not contacted at all.

The resolver is replaced (the test has no public DNS); the HTTPS receiver on 127.0.0.1 plays
the merchant's server "hooks.merchant.example" with a certificate for that name only."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core import webhook_urls
from core.config import Settings
from core.db import models
from core.secrets import SecretBox
from orchestrator.activities.webhooks import WebhookActivities

HOST = "hooks.merchant.example"


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


def activities_trusting(receiver: TLSReceiver) -> WebhookActivities:
    activities = WebhookActivities(
        None,  # type: ignore[arg-type]
        SecretBox(()),
        Settings(database_url="postgresql+asyncpg://unused"),
    )
    activities._tls = ssl.create_default_context(cafile=str(receiver.cert_file))
    return activities


def live_endpoint(url: str) -> models.WebhookEndpoint:
    return models.WebhookEndpoint(id="we_test", url=url, livemode=True, status="enabled")


async def test_a_live_delivery_goes_to_the_checked_address_under_the_endpoints_name(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    async def resolve(parts: SplitResult) -> list[webhook_urls.IPAddress]:
        asked.append(parts.hostname or "")
        # What the check approved; a second lookup is never made.
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(webhook_urls, "public_addresses", resolve)
    status, error = await activities_trusting(receiver)._post(
        live_endpoint(f"https://{HOST}:{receiver.port}/hooks?x=1"),
        b"{}",
        {"Content-Type": "application/json"},
        5,
    )
    assert (status, error) == (204, "")
    assert asked == [HOST]
    assert receiver.seen == [{"host": f"{HOST}:{receiver.port}", "sni": HOST}]


async def test_a_live_host_that_now_resolves_privately_is_not_contacted(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def rebound(parts: SplitResult) -> list[webhook_urls.IPAddress]:
        raise webhook_urls.UnsafeDestination(
            webhook_urls.Problem(
                "URL_ADDRESS_NOT_ALLOWED",
                f"the host {parts.hostname!r} resolves to 127.0.0.1, which is not a public address",
            )
        )

    monkeypatch.setattr(webhook_urls, "public_addresses", rebound)
    status, error = await activities_trusting(receiver)._post(
        live_endpoint(f"https://{HOST}:{receiver.port}/hooks"), b"{}", {}, 5
    )
    assert status == 0 and "not a public address" in error
    assert receiver.seen == []


async def test_a_certificate_for_another_name_fails_the_attempt(
    receiver: TLSReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolve(parts: SplitResult) -> list[webhook_urls.IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(webhook_urls, "public_addresses", resolve)
    status, error = await activities_trusting(receiver)._post(
        live_endpoint(f"https://other.merchant.example:{receiver.port}/hooks"), b"{}", {}, 5
    )
    assert status == 0 and error.startswith("TLS handshake failed")
    assert receiver.seen == []
