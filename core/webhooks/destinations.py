"""The address rules of webhook destinations, without any I/O: which IP addresses are never a
destination, which are public, what the operator's test-mode allow-list admits, and how the
platform's own listeners are named. core/webhooks/urls.py resolves URLs and applies them.

Allow-list syntax (PAYLOOPS_WEBHOOK_TEST_ALLOWLIST): comma-separated entries
`ADDRESS_OR_CIDR[:PORT[-PORT]]`, IPv6 in brackets when a port follows; no port: every port.
Examples: `127.0.0.1:1024-32767`, `[::1]:8000-8999`, `10.20.0.0/16:443`, `192.168.1.7`.
Names are not accepted: what a name resolves to changes, the entry must not.

Listener syntax (PAYLOOPS_PLATFORM_LISTENERS): comma-separated `HOST:PORT` (a name, an address,
`[IPv6]`, or a wildcard `0.0.0.0` / `[::]` for a listener bound to every address).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_PORT = 65535
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "*", ""})

# Cloud metadata and host services that sit outside the link-local ranges: AWS's IPv6
# metadata service, Alibaba Cloud's metadata, Azure's WireServer, Oracle Cloud's legacy one.
_METADATA = frozenset(
    ipaddress.ip_address(text)
    for text in ("fd00:ec2::254", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# "This network": 0.0.0.0 connects to this very host, the rest of the block to nothing.
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


@dataclass(frozen=True)
class AllowedDestination:
    """One entry of the test-mode allow-list: a network and a port range."""

    network: IPNetwork
    first_port: int = 1
    last_port: int = MAX_PORT

    def admits(self, address: IPAddress, port: int) -> bool:
        unwrapped = unwrap(address)
        return (
            self.first_port <= port <= self.last_port
            and unwrapped.version == self.network.version
            and unwrapped in self.network
        )

    def __str__(self) -> str:
        host = f"[{self.network}]" if self.network.version == 6 else str(self.network)
        if (self.first_port, self.last_port) == (1, MAX_PORT):
            return host
        ports = (
            str(self.first_port)
            if self.first_port == self.last_port
            else f"{self.first_port}-{self.last_port}"
        )
        return f"{host}:{ports}"


@dataclass(frozen=True)
class Listener:
    """An address the platform itself listens on (HOST:PORT); HOST may be a name."""

    host: str
    port: int

    @property
    def is_wildcard(self) -> bool:
        return self.host in WILDCARD_HOSTS

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_allowlist(text: str) -> tuple[AllowedDestination, ...]:
    """The entries of an allow-list setting; raises ValueError naming the bad entry."""
    return tuple(_allowed(entry.strip()) for entry in text.split(",") if entry.strip())


def parse_listeners(text: str) -> tuple[Listener, ...]:
    """The entries of a listeners setting; raises ValueError naming the bad entry."""
    return tuple(parse_listener(entry.strip()) for entry in text.split(",") if entry.strip())


def parse_listener(text: str) -> Listener:
    host, ports = _split_host(text)
    if not ports.isdigit() or not 1 <= int(ports) <= MAX_PORT:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return Listener(host, int(ports))


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (::ffff:a.b.c.d, 6to4 2002::/16, NAT64 64:ff9b::/96):
    a connection to it reaches that IPv4 address, so it is judged as that one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return embedded
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_forbidden(address: IPAddress) -> bool:
    """Never a webhook destination, whatever the mode or the allow-list: link-local and
    metadata services (the cloud's credentials), the unspecified address (which connects to
    this very host), multicast and broadcast."""
    address = unwrap(address)
    return (
        address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address in _METADATA
        or (address.version == 4 and address in _THIS_NETWORK)
        or address == ipaddress.IPv4Address("255.255.255.255")
    )


def is_public(address: IPAddress) -> bool:
    address = unwrap(address)
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _METADATA
    )


def ip(text: str) -> IPAddress | None:
    """`text` as an IP address (an IPv6 zone such as %eth0 dropped), or None for a name."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _allowed(text: str) -> AllowedDestination:
    host, ports = _split_host(text)
    try:
        network = ipaddress.ip_network(host)
    except ValueError:
        raise ValueError(
            f"{text!r}: name an IP address or a CIDR network (host bits zero), not {host!r}"
        ) from None
    if not ports:
        return AllowedDestination(network)
    first, _, last = ports.partition("-")
    last = last or first
    if not (first.isdigit() and last.isdigit() and 1 <= int(first) <= int(last) <= MAX_PORT):
        raise ValueError(f"{text!r}: ports must be PORT or FIRST-LAST within 1-{MAX_PORT}")
    return AllowedDestination(network, int(first), int(last))


def _split_host(text: str) -> tuple[str, str]:
    """("host", "ports") from HOST[:PORTS] or [IPV6][:PORTS]; an IPv6 address without brackets
    (more than one colon) has no ports."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: an IPv6 address in brackets, then :PORT")
        return host, rest[1:]
    if text.count(":") > 1:
        return text, ""
    host, _, ports = text.partition(":")
    return host, ports
