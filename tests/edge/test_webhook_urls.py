"""Which URLs webhooks may be sent to (core/webhooks/urls.py): the SSRF guard. Every host is
resolved, in both modes; live URLs must resolve to public addresses only, test URLs to public
ones or to what the operator's allow-list admits; link-local and metadata addresses and the
platform's own listeners are refused in every mode, however the address is spelled and
whatever the allow-list says."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

import pytest

from core.config import Settings
from core.webhooks import urls as webhook_urls
from core.webhooks.destinations import (
    AllowedDestination,
    Listener,
    is_public,
    parse_allowlist,
    parse_listeners,
)
from core.webhooks.urls import Destinations, check_form

NOTHING = Destinations()
LOCAL_RECEIVERS = Destinations(parse_allowlist("127.0.0.1:8000-8999,[::1]:8000-8999"))
EVERYTHING = Destinations(parse_allowlist("0.0.0.0/0,::/0"))


async def reason(destinations: Destinations, url: str, livemode: bool) -> str | None:
    problem = await destinations.check(url, livemode)
    return problem.reason if problem else None


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
        "https://[fd00:ec2::254]/latest",
        "https://100.100.100.200/latest",
        "https://168.63.129.16/machine",
    ],
)
async def test_urls_to_non_public_addresses_are_refused_without_an_allowlist(url: str) -> None:
    for livemode in (True, False):
        assert await reason(NOTHING, url, livemode) == "URL_ADDRESS_NOT_ALLOWED", livemode


async def test_urls_to_public_addresses_are_accepted_in_both_modes() -> None:
    for livemode in (True, False):
        assert await reason(NOTHING, "https://93.184.215.14/hooks", livemode) is None
        assert await reason(NOTHING, "https://[2606:4700::1111]:8443/h?x=1", livemode) is None


async def test_a_host_that_does_not_resolve_is_refused_in_both_modes() -> None:
    for livemode in (True, False):
        assert (
            await reason(NOTHING, "https://no-such-host.invalid/hooks", livemode)
            == "URL_UNRESOLVABLE"
        )


async def test_the_allowlist_admits_local_receivers_in_test_mode_only() -> None:
    for url in (
        "http://127.0.0.1:8000/hooks",
        "http://localhost:8500/hooks",
        "http://[::1]:8999/hooks",
        "http://[::ffff:127.0.0.1]:8000/hooks",
        "https://127.0.0.1:8443/hooks",
    ):
        assert await reason(LOCAL_RECEIVERS, url, livemode=False) is None, url
        assert await reason(NOTHING, url, livemode=False) == "URL_ADDRESS_NOT_ALLOWED", url
        live = await reason(LOCAL_RECEIVERS, url, livemode=True)
        assert live in ("URL_NOT_HTTPS", "URL_ADDRESS_NOT_ALLOWED"), url
    for url in (
        "http://127.0.0.1:9000/hooks",  # outside the port range
        "http://127.0.0.1/hooks",  # port 80
        "http://10.0.0.1:8000/hooks",  # outside the networks
        "http://127.0.0.2:8000/hooks",
    ):
        assert await reason(LOCAL_RECEIVERS, url, livemode=False) == "URL_ADDRESS_NOT_ALLOWED", url


async def test_http_is_accepted_only_where_the_allowlist_admits_it() -> None:
    # Public over http: the operator has not vouched for that network.
    assert await reason(LOCAL_RECEIVERS, "http://93.184.215.14/h", False) == "URL_NOT_HTTPS"
    assert await reason(LOCAL_RECEIVERS, "https://93.184.215.14/h", False) is None
    assert check_form("http://127.0.0.1/hooks", livemode=True) is not None
    assert await reason(EVERYTHING, "http://127.0.0.1:8000/h", True) == "URL_NOT_HTTPS"


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "169.254.0.23",
        "[fe80::1]",
        "[fd00:ec2::254]",
        "100.100.100.200",
        "168.63.129.16",
        "192.0.0.192",
        "[::ffff:169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:a9fe:a9fe::]",
        "0.0.0.0",
        "0.1.2.3",
        "[::]",
        "224.0.0.1",
        "[ff02::1]",
        "255.255.255.255",
    ],
)
async def test_metadata_link_local_and_unspecified_addresses_are_refused_whatever_the_allowlist(
    host: str,
) -> None:
    for scheme in ("http", "https"):
        url = f"{scheme}://{host}:8080/latest/meta-data"
        assert await reason(EVERYTHING, url, livemode=False) == "URL_ADDRESS_NOT_ALLOWED", url
        assert await reason(EVERYTHING, url, livemode=True) in (
            "URL_ADDRESS_NOT_ALLOWED",
            "URL_NOT_HTTPS",
        )


async def test_the_platforms_own_listeners_are_refused_even_inside_the_allowed_range() -> None:
    targets = ["127.0.0.1:50061", "sandbox.internal:50062"]

    async def processor_targets() -> list[str]:
        return targets

    settings = Settings(
        database_url="postgresql+asyncpg://payloops@127.0.0.1:5433/payloops",
        edge_host="127.0.0.1",
        edge_port=50051,
        temporal_address="localhost:7233",
        webhook_test_allowlist=parse_allowlist("127.0.0.1,[::1],10.0.0.0/8"),
        platform_listeners=parse_listeners("127.0.0.1:8080,[::1]:8081,0.0.0.0:9100,10.1.2.3:443"),
    )
    destinations = Destinations.from_settings(settings, processor_targets)
    # Envoy's listeners, the edge, Temporal, PostgreSQL, the adapters, a wildcard listener.
    for port in (8080, 8081, 50051, 7233, 5433, 50061, 9100):
        for host in ("127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "127.0.0.2"):
            url = f"http://{host}:{port}/hooks"
            assert await reason(destinations, url, False) == "URL_ADDRESS_NOT_ALLOWED", url
    assert await reason(destinations, "https://93.184.215.14:9100/h", False) is not None
    assert await reason(destinations, "https://10.1.2.3/hooks", False) is not None
    assert await reason(destinations, "https://10.1.2.4/hooks", False) is None
    assert await reason(destinations, "http://127.0.0.1:8082/hooks", False) is None
    assert await reason(destinations, "http://[::1]:50052/hooks", False) is None
    # A processor registered after start-up is refused at the next check.
    targets.append("127.0.0.1:50071")
    assert await reason(destinations, "http://127.0.0.1:50071/h", False) is not None


def test_the_settings_name_the_edge_temporal_and_a_tcp_database_as_listeners() -> None:
    tcp = Settings(
        database_url="postgresql+asyncpg://u@db.internal/payloops", temporal_address="t:7233"
    )
    assert set(webhook_urls.settings_listeners(tcp)) == {
        Listener("127.0.0.1", 50051),
        Listener("t", 7233),
        Listener("db.internal", 5432),
    }
    unix = Settings(database_url="postgresql+asyncpg://postgres@/postgres?host=/tmp/pg")
    assert Listener("127.0.0.1", 7233) in webhook_urls.settings_listeners(unix)
    assert len(webhook_urls.settings_listeners(unix)) == 2


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
        "https://x.com/" + "a" * 2048,
    ],
)
def test_malformed_urls_are_refused_in_every_mode(url: str) -> None:
    for livemode in (False, True):
        problem = check_form(url, livemode)
        assert problem is not None and problem.reason == "URL_INVALID", (url, problem)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example/a\r\nX-Injected: 1",
        "https://hooks.example/a\nb",
        "https://hooks.example/a\rb",
        "https://hooks.example/a\x00b",
        "https://hooks.example/a\tb",
        "https://hooks.example/a b",
        " https://hooks.example/a",
        "https://hooks.example/a\x7f",
        "https://hooks.example/a\x85",
        "https://hooks.example/a\u00a0",
        "https://hooks.example/a\u2028",
        "https://hooks.example/a\u202e",
        "https://hooks.example\u200b.evil/a",
        "not a url",
    ],
)
def test_spaces_and_control_characters_are_refused_in_every_mode(url: str) -> None:
    for livemode in (False, True):
        problem = check_form(url, livemode)
        assert problem is not None and problem.reason == "URL_CONTROL_CHARACTER", (url, problem)


async def test_a_name_resolving_to_any_refused_address_is_refused_without_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DNS may answer with several addresses; one refused one is enough.
    async def getaddrinfo(*args: object, **kwargs: object) -> list[tuple]:
        return [(2, 1, 6, "", ("93.184.215.14", 443)), (2, 1, 6, "", ("10.0.0.7", 443))]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    with pytest.raises(webhook_urls.UnsafeDestination) as refused:
        await NOTHING.approved_addresses(urlsplit("https://rebinding.example/hooks"), True)
    assert refused.value.problem.reason == "URL_ADDRESS_NOT_ALLOWED"
    # Saying where an internal name points would map the platform's network.
    assert "10.0.0.7" not in refused.value.problem.description


def test_allowlist_syntax() -> None:
    assert parse_allowlist(" 127.0.0.1:1024-32767, [::1]:8000 ,10.20.0.0/16,[fd12::/64]") == (
        AllowedDestination(ipaddress.ip_network("127.0.0.1/32"), 1024, 32767),
        AllowedDestination(ipaddress.ip_network("::1/128"), 8000, 8000),
        AllowedDestination(ipaddress.ip_network("10.20.0.0/16")),
        AllowedDestination(ipaddress.ip_network("fd12::/64")),
    )
    assert parse_allowlist("") == ()
    assert str(parse_allowlist("[::1]:8000-8999")[0]) == "[::1/128]:8000-8999"
    for bad in (
        "localhost:8000",
        "127.0.0.1:0",
        "127.0.0.1:9000-8000",
        "127.0.0.1:70000",
        "10.0.0.1/8",
        "[::1:8000",
        "127.0.0.1:http",
    ):
        with pytest.raises(ValueError):
            parse_allowlist(bad)


def test_listener_syntax() -> None:
    assert parse_listeners("127.0.0.1:8080, [::]:9901,temporal:7233") == (
        Listener("127.0.0.1", 8080),
        Listener("::", 9901),
        Listener("temporal", 7233),
    )
    for bad in ("127.0.0.1", "::1", "host:0", "host:x"):
        with pytest.raises(ValueError):
            parse_listeners(bad)


def test_bad_settings_stop_the_start_with_the_variable_named() -> None:
    env = {"PAYLOOPS_DATABASE_URL": "postgresql+asyncpg://x/y"}
    for variable in ("PAYLOOPS_WEBHOOK_TEST_ALLOWLIST", "PAYLOOPS_PLATFORM_LISTENERS"):
        with pytest.raises(SystemExit, match=variable):
            Settings.from_env(env | {variable: "localhost"})
    settings = Settings.from_env(env | {"PAYLOOPS_WEBHOOK_TEST_ALLOWLIST": "127.0.0.1:8000"})
    assert settings.webhook_test_allowlist == parse_allowlist("127.0.0.1:8000")


def test_is_public() -> None:
    assert is_public(ipaddress.ip_address("8.8.8.8"))
    assert is_public(ipaddress.ip_address("2001:4860:4860::8888"))
    assert not is_public(ipaddress.ip_address("::ffff:169.254.169.254"))
    assert not is_public(ipaddress.ip_address("168.63.129.16"))


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example", "x" * 300])
async def test_live_urls_whose_host_cannot_be_encoded_are_unresolvable(host: str) -> None:
    # The resolver refuses such a name before any lookup (UnicodeError, not OSError).
    problem = await Destinations().check(f"https://{host}/hooks", livemode=True)
    assert problem is not None and problem.reason == "URL_UNRESOLVABLE"
