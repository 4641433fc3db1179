"""Which URLs webhooks may be sent to (core/webhook_urls.py): the SSRF guard. Live URLs must
resolve to public addresses only, however the address is spelled."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

import pytest

from core import webhook_urls
from core.webhook_urls import check_destination, check_form, is_public


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.1/hooks",
        "https://192.168.1.1/hooks",
        "https://169.254.169.254/latest",
        "https://100.64.0.1/hooks",
        "https://0.0.0.0/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[fc00::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://[64:ff9b::a00:1]/hooks",
        "https://[2002:a00:1::]/hooks",
        "https://224.0.0.1/hooks",
        "https://240.0.0.1/hooks",
        "https://255.255.255.255/hooks",
    ],
)
async def test_live_urls_to_non_public_addresses_are_refused(url: str) -> None:
    problem = await check_destination(url, livemode=True)
    assert problem is not None
    assert problem.reason == "URL_ADDRESS_NOT_ALLOWED"


async def test_live_urls_to_public_addresses_are_accepted() -> None:
    assert await check_destination("https://93.184.215.14/hooks", livemode=True) is None
    assert await check_destination("https://[2606:4700::1111]:8443/h?x=1", livemode=True) is None


async def test_a_live_host_that_does_not_resolve_is_refused() -> None:
    problem = await check_destination("https://no-such-host.invalid/hooks", livemode=True)
    assert problem is not None and problem.reason == "URL_UNRESOLVABLE"


async def test_test_mode_accepts_any_https_and_http_to_loopback_only() -> None:
    for url in (
        "https://10.1.2.3/hooks",
        "https://no-such-host.invalid/x",
        "http://127.0.0.1:8000/hooks",
        "http://localhost:8000/hooks",
        "http://[::1]:8000/hooks",
    ):
        assert await check_destination(url, livemode=False) is None, url
    for url in ("http://example.com/hooks", "http://10.0.0.1/hooks"):
        problem = await check_destination(url, livemode=False)
        assert problem is not None and problem.reason == "URL_NOT_HTTPS", url


@pytest.mark.parametrize(
    "url",
    [
        "example.com/hooks",
        "ftp://example.com/hooks",
        "https:///hooks",
        "https://user:pw@x.com/",
        "https://x.com/#frag",
        "https://x.com:99999/",
        "https://x.com:port/",
        "not a url",
        "https://x.com/" + "a" * 2048,
    ],
)
def test_malformed_urls_are_refused_in_every_mode(url: str) -> None:
    for livemode in (False, True):
        problem = check_form(url, livemode)
        assert problem is not None and problem.reason == "URL_INVALID", (url, problem)


def test_http_is_refused_in_live_mode_even_to_loopback() -> None:
    problem = check_form("http://127.0.0.1/hooks", livemode=True)
    assert problem is not None and problem.reason == "URL_NOT_HTTPS"


async def test_a_name_resolving_to_any_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DNS may answer with several addresses; one private one is enough to refuse.
    async def getaddrinfo(*args: object, **kwargs: object) -> list[tuple]:
        return [(2, 1, 6, "", ("93.184.215.14", 443)), (2, 1, 6, "", ("10.0.0.7", 443))]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    with pytest.raises(webhook_urls.UnsafeDestination) as refused:
        await webhook_urls.public_addresses(urlsplit("https://rebinding.example/hooks"))
    assert refused.value.problem.reason == "URL_ADDRESS_NOT_ALLOWED"
    assert "10.0.0.7" in refused.value.problem.description


def test_is_public() -> None:
    assert is_public(ipaddress.ip_address("8.8.8.8"))
    assert is_public(ipaddress.ip_address("2001:4860:4860::8888"))
    assert not is_public(ipaddress.ip_address("::ffff:169.254.169.254"))


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example", "x" * 300])
async def test_live_urls_whose_host_cannot_be_encoded_are_unresolvable(host: str) -> None:
    # The resolver refuses such a name before any lookup (UnicodeError, not OSError).
    problem = await check_destination(f"https://{host}/hooks", livemode=True)
    assert problem is not None and problem.reason == "URL_UNRESOLVABLE"
