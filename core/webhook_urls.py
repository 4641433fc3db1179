"""Where PayLoops may send webhooks. A webhook is a request our servers make to an address the
merchant chose, so an unchecked URL would let anyone with an API key probe or call our own
network (SSRF: the cloud metadata service, the database, the admin port).

- Test mode (test keys): https anywhere, or http to loopback (a receiver on the developer's
  machine).
- Live mode: https only, and every address the host resolves to must be public: loopback,
  private, link-local, shared (CGNAT), multicast, reserved and unspecified addresses are
  refused. It is checked when the endpoint is created or changed, and again at each delivery,
  which then connects to the very address it checked (a name that resolved to a public address
  yesterday may resolve to 127.0.0.1 now: DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL = 2048
# Resolution is bounded: a slow resolver must not hold an API call or a delivery slot.
RESOLVE_TIMEOUT_SECONDS = 5.0
_LOOPBACK_NAMES = frozenset({"localhost"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Problem:
    """Why a URL is refused: a stable reason (a field violation's) and a sentence."""

    reason: str
    description: str


class UnsafeDestination(Exception):
    """The URL's host does not resolve, or resolves to an address webhooks may not reach."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.description)
        self.problem = problem


def check_form(url: str, livemode: bool) -> Problem | None:
    """The checks that need no network: scheme, host, credentials, length."""
    if len(url) > MAX_URL:
        return Problem("URL_INVALID", f"must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        return Problem("URL_INVALID", "is not a valid URL")
    del port
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return Problem("URL_INVALID", "must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        # They would be stored and shown in plain text; put credentials in the path instead.
        return Problem("URL_INVALID", "must not contain a user name or password")
    if parts.fragment:
        return Problem("URL_INVALID", "must not contain a fragment (#…)")
    if parts.scheme == "http" and (livemode or not _is_loopback_host(parts.hostname)):
        return Problem(
            "URL_NOT_HTTPS",
            "must use https (http is accepted only for loopback addresses, with a test key)",
        )
    return None


async def check_destination(url: str, livemode: bool) -> Problem | None:
    """All checks for a URL given to the API; live URLs are resolved (off the event loop)."""
    if problem := check_form(url, livemode):
        return problem
    if not livemode:
        return None
    try:
        await public_addresses(urlsplit(url))
    except UnsafeDestination as unsafe:
        return unsafe.problem
    return None


async def public_addresses(parts: SplitResult) -> list[IPAddress]:
    """The addresses the URL's host resolves to, all of them public; raises UnsafeDestination
    otherwise (one private address is enough to refuse: which one a client picks varies)."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _ip(host)
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            # The loop runs getaddrinfo in its thread pool: a blocking call, never on the loop.
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        # UnicodeError: a name the resolver cannot even encode (a label over 63 characters).
        except (OSError, TimeoutError, UnicodeError) as error:
            raise UnsafeDestination(
                Problem("URL_UNRESOLVABLE", f"the host {host!r} does not resolve")
            ) from error
        found = [address for info in infos if (address := _ip(str(info[4][0]))) is not None]
        if not found:
            raise UnsafeDestination(
                Problem("URL_UNRESOLVABLE", f"the host {host!r} does not resolve")
            )
    for address in found:
        if not is_public(address):
            raise UnsafeDestination(
                Problem(
                    "URL_ADDRESS_NOT_ALLOWED",
                    f"the host {host!r} resolves to {address}, which is not a public address",
                )
            )
    return found


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 and 64:ff9b::… (NAT64) and 2002:… (6to4) embed IPv4 addresses.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None


def _is_loopback_host(host: str) -> bool:
    address = _ip(host)
    if address is None:
        return host.lower().rstrip(".") in _LOOPBACK_NAMES
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
