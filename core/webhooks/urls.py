"""Where PayLoops may send webhooks. A webhook is a request our servers make to an address the
merchant chose, so an unchecked URL would let anyone with an API key call our own network
(SSRF: the cloud metadata service, the database, Envoy's admin, the processors' adapters).

Every URL's host is resolved and every address it resolves to must pass, in both modes:
- never link-local or metadata addresses, the unspecified address, multicast or broadcast
  (core/webhooks/destinations.py), whatever the allow-list says;
- never one of the platform's own listeners: the edge, Temporal and the database named by the
  settings, PAYLOOPS_PLATFORM_LISTENERS (Envoy's listeners, the sandbox's pages…), and every
  registered processor's target, read from the database at each check;
- live mode: https only, public addresses only;
- test mode: public addresses over https, and the operator's allow-list
  (PAYLOOPS_WEBHOOK_TEST_ALLOWLIST: a developer's local receiver) over http or https. Without
  an allow-list, test mode is like live mode but for http.

It is checked when the endpoint is created or changed, and again at each delivery, which then
connects to the very address it checked: a name that resolved to a public address yesterday
may resolve to 127.0.0.1 now (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.engine import make_url

from core import url_characters
from core.config import Settings
from core.webhooks.destinations import (
    AllowedDestination,
    IPAddress,
    Listener,
    ip,
    is_forbidden,
    is_public,
    parse_listener,
    unwrap,
)

MAX_URL = 2048
# Resolution is bounded: a slow resolver must not hold an API call or a delivery slot.
RESOLVE_TIMEOUT_SECONDS = 5.0

URL_INVALID = "URL_INVALID"
URL_CONTROL_CHARACTER = "URL_CONTROL_CHARACTER"
URL_NOT_HTTPS = "URL_NOT_HTTPS"
URL_UNRESOLVABLE = "URL_UNRESOLVABLE"
URL_ADDRESS_NOT_ALLOWED = "URL_ADDRESS_NOT_ALLOWED"

# The processors' targets (HOST:PORT), read afresh at each check: one registered a minute ago
# is refused too.
TargetsSource = Callable[[], Awaitable[Iterable[str]]]


@dataclass(frozen=True)
class Problem:
    """Why a URL is refused: a stable reason (a field violation's) and a sentence. Neither
    names an address the host resolved to: that would map the platform's network for whoever
    asks."""

    reason: str
    description: str


class UnsafeDestination(Exception):
    """The URL's host does not resolve, or resolves to an address webhooks may not reach
    (`address`: for the operator's log, never for the merchant)."""

    def __init__(self, problem: Problem, address: IPAddress | None = None) -> None:
        super().__init__(problem.description)
        self.problem = problem
        self.address = address


_UNRESOLVABLE = Problem(URL_UNRESOLVABLE, "the host does not resolve")
_NOT_ALLOWED_LIVE = Problem(
    URL_ADDRESS_NOT_ALLOWED,
    "the host resolves to an address webhooks may not be sent to (only public ones)",
)
_NOT_ALLOWED_TEST = Problem(
    URL_ADDRESS_NOT_ALLOWED,
    "the host resolves to an address webhooks may not be sent to (public ones, or those the "
    "platform's operator allows for test mode)",
)
_HTTP_LIVE = Problem(URL_NOT_HTTPS, "must use https")
_HTTP_TEST = Problem(
    URL_NOT_HTTPS,
    "must use https (http is accepted only, with a test key, for addresses the platform's "
    "operator allows for test mode)",
)


def check_form(url: str, livemode: bool) -> Problem | None:
    """The checks that need no network: characters, length, scheme, host, credentials."""
    if url_characters.has_forbidden_characters(url):
        return Problem(URL_CONTROL_CHARACTER, url_characters.DESCRIPTION)
    if len(url) > MAX_URL:
        return Problem(URL_INVALID, f"must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        return Problem(URL_INVALID, "is not a valid URL")
    del port
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return Problem(URL_INVALID, "must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        # They would be stored and shown in plain text; put credentials in the path instead.
        return Problem(URL_INVALID, "must not contain a user name or password")
    if parts.fragment:
        return Problem(URL_INVALID, "must not contain a fragment (#…)")
    if parts.scheme == "http" and livemode:
        return _HTTP_LIVE
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an address literal: itself); raises UnsafeDestination
    (URL_UNRESOLVABLE) when there is none."""
    literal = ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        # The loop runs getaddrinfo in its thread pool: a blocking call, never on the loop.
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError) as error:
        raise UnsafeDestination(_UNRESOLVABLE) from error
    found = [address for info in infos if (address := ip(str(info[4][0]))) is not None]
    if not found:
        raise UnsafeDestination(_UNRESOLVABLE)
    return found


def port_of(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


async def _no_targets() -> list[str]:
    return []


class Destinations:
    """This installation's rules for webhook destinations (see the module's docstring)."""

    def __init__(
        self,
        allowlist: Sequence[AllowedDestination] = (),
        listeners: Sequence[Listener] = (),
        processor_targets: TargetsSource = _no_targets,
    ) -> None:
        self._allowlist = tuple(allowlist)
        self._listeners = tuple(listeners)
        self._processor_targets = processor_targets

    @classmethod
    def from_settings(
        cls, settings: Settings, processor_targets: TargetsSource = _no_targets
    ) -> Destinations:
        return cls(settings.webhook_test_allowlist, settings_listeners(settings), processor_targets)

    async def check(self, url: str, livemode: bool) -> Problem | None:
        """All checks for a URL given to the API (it is resolved, off the event loop)."""
        if problem := check_form(url, livemode):
            return problem
        try:
            await self.approved_addresses(urlsplit(url), livemode)
        except UnsafeDestination as unsafe:
            return unsafe.problem
        return None

    async def approved_addresses(self, parts: SplitResult, livemode: bool) -> list[IPAddress]:
        """The addresses the URL's host resolves to, every one of them allowed; raises
        UnsafeDestination otherwise (one refused address is enough: which one a client picks
        varies). A delivery connects to one of these, never to a second lookup's answer."""
        port = port_of(parts)
        addresses = await resolve(parts.hostname or "", port)
        platform = await self._platform_addresses(port)
        allowlisted = [not livemode and self._allowlisted(a, port) for a in addresses]
        for address, admitted in zip(addresses, allowlisted, strict=True):
            if (
                is_forbidden(address)
                or _is_platform(address, platform)
                or not (admitted or is_public(address))
            ):
                raise UnsafeDestination(
                    _NOT_ALLOWED_LIVE if livemode else _NOT_ALLOWED_TEST, address
                )
        if parts.scheme == "http" and not all(allowlisted):
            # Plain http crosses no network the operator has not vouched for.
            raise UnsafeDestination(_HTTP_LIVE if livemode else _HTTP_TEST, addresses[0])
        return addresses

    def _allowlisted(self, address: IPAddress, port: int) -> bool:
        return any(entry.admits(address, port) for entry in self._allowlist)

    async def _platform_addresses(self, port: int) -> _PlatformAddresses:
        """The addresses of the platform's listeners on `port`."""
        listeners = [*self._listeners, *_parsed(await self._processor_targets())]
        found = _PlatformAddresses()
        for listener in listeners:
            if listener.port != port:
                continue
            if listener.is_wildcard:
                found.everywhere = True
                continue
            try:
                found.addresses.update(unwrap(a) for a in await resolve(listener.host, port))
            except UnsafeDestination:
                continue  # a name that resolves to nothing cannot be connected to either
        return found


@dataclass
class _PlatformAddresses:
    everywhere: bool = False  # a listener bound to every address of its host
    addresses: set[IPAddress] = field(default_factory=set)


def _is_platform(address: IPAddress, platform: _PlatformAddresses) -> bool:
    """Loopback is matched as a whole: a listener on 127.0.0.1 is refused as [::1] or
    127.0.0.2 too, rather than rely on which loopback address each service happens to bind."""
    address = unwrap(address)
    return (
        platform.everywhere
        or address in platform.addresses
        or (address.is_loopback and any(a.is_loopback for a in platform.addresses))
    )


def _parsed(targets: Iterable[str]) -> list[Listener]:
    listeners = []
    for target in targets:
        try:
            listeners.append(parse_listener(target))
        except ValueError:
            continue  # not HOST:PORT (a unix: target): nothing a URL can reach
    return listeners


def settings_listeners(settings: Settings) -> list[Listener]:
    """The platform's listeners its settings name: PAYLOOPS_PLATFORM_LISTENERS, the edge,
    Temporal, and the database unless it is reached over a unix socket."""
    found = [*settings.platform_listeners, Listener(settings.edge_host, settings.edge_port)]
    with contextlib.suppress(ValueError):  # a target in another form (dns:///…) is not HOST:PORT
        found.append(parse_listener(settings.temporal_address))
    database = make_url(settings.database_url)
    if database.host:
        found.append(Listener(database.host, database.port or 5432))
    return found
