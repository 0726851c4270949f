"""The client's address behind proxies: believed from `Forwarded` (RFC 7239) or `X-Forwarded-For`
only when the connection comes from one of TRUSTED_PROXIES, and said out loud when it does not.

Behind a trusted peer the chain is walked from the right: each proxy appends the address it
received the request from, so the right-most hop that is not a trusted proxy is the client, and
whatever a client wrote further left cannot move it. `Forwarded` is read when present (then
`X-Forwarded-For` is not); a hop that names no address (`for=unknown`, an obfuscated `_hidden`,
garbage) stops the walk at the last address a trusted proxy vouched for. The scheme comes from
the client's `Forwarded` element, else from `X-Forwarded-Proto`, as uvicorn's middleware did.

A peer not trusted that sends those headers has them ignored, and the first one is named once
per process (a warning in production, an info line in development) with the TRUSTED_PROXIES
that would trust it; `/health/ready` then says so too, naming no address (anyone can read it).

Hand-written: uvicorn's ProxyHeadersMiddleware reads X-Forwarded-For only, and the one PyPI
package that also reads Forwarded (`forwarded` 1.0.0, October 2026, one maintainer) is too new
to hold the address every rate limit counts by. What is here is the walk and a quote-aware split.
"""

import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Hop = tuple[Address, int] | None  # the address and port a hop names; None when it names none

READINESS_WARNING = (
    "A peer not in TRUSTED_PROXIES sent X-Forwarded-For or Forwarded: the headers were ignored, so "
    "every client behind it shares one address for rate limits. The log names the peer and the "
    "TRUSTED_PROXIES to set."
)

_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # a parameter's name: an RFC 9110 token
# One parameter of a Forwarded element, then what ends it: `;` (next parameter), `,` (next
# element) or the end of the line. A quoted value here never holds a comma (no address, scheme
# or host does), so no scan passes the next comma: reading a header costs its length, whatever
# quotes and backslashes it holds.
_PAIR = re.compile(rf'[ \t]*({_NAME})[ \t]*=[ \t]*("(?:[^"\\,]|\\[^,])*"|[^\s;,"]*)[ \t]*([;,]|$)')
_ESCAPE = re.compile(r"\\(.)")
_SCHEMES = {"http", "https", "ws", "wss"}


class TrustedProxies:
    """TRUSTED_PROXIES as uvicorn read it: addresses, networks (CIDR), `*` for any peer, and
    literal names for peers that are not IP addresses."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = [entry for entry in entries if entry]
        self.anyone = "*" in self.entries
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.literals: set[str] = set()
        for entry in self.entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.literals.add(entry)

    def __contains__(self, host: Address | str) -> bool:
        if self.anyone:
            return True
        address = host if not isinstance(host, str) else _ip(host)
        if address is None:
            return host in self.literals
        return any(address in network or _unmapped(address) in network for network in self.networks)


@dataclass
class ProxyNotice:
    """The first peer not trusted that sent forwarding headers, said once per process."""

    trusted: TrustedProxies
    production: bool
    peer: str | None = field(default=None, init=False)

    def untrusted_peer(self, peer: str) -> None:
        if self.peer is not None:
            return
        self.peer = peer
        advice = ",".join([*self.trusted.entries, peer])
        logger.log(
            logging.WARNING if self.production else logging.INFO,
            "X-Forwarded-For or Forwarded came from %s, which is not in TRUSTED_PROXIES: the headers "
            "are ignored, so every client it forwards shares its address for rate limits (one user's "
            "failed logins lock out the rest). If %s is your proxy or load balancer, set "
            "TRUSTED_PROXIES=%s; if it is not, a client sent the headers itself. Said once per process.",
            peer,
            peer,
            advice,
        )

    def warnings(self) -> list[str]:
        return [READINESS_WARNING] if self.peer is not None else []


class ForwardedHeadersMiddleware:
    """Sets the ASGI scope's client (and scheme) from the forwarding headers of a trusted peer."""

    def __init__(self, app: Any, *, trusted: TrustedProxies, notice: ProxyNotice) -> None:
        self.app = app
        self.trusted = trusted
        self.notice = notice

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.settle(scope)
        await self.app(scope, receive, send)

    def settle(self, scope: Any) -> None:
        forwarded, forwarded_for, forwarded_proto = [], [], None
        for name, value in scope["headers"]:
            if name == b"forwarded":
                forwarded.append(value.decode("latin-1"))
            elif name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                forwarded_proto = value.decode("latin-1").strip()
        if not (forwarded or forwarded_for or forwarded_proto):
            return  # nothing to believe or to warn about, whoever the peer: no address to parse
        peer = scope["client"][0] if scope.get("client") else None
        if peer is None or peer not in self.trusted:
            # Named only when it is an address: that is what TRUSTED_PROXIES can be told.
            if (forwarded or forwarded_for) and peer is not None and (address := _ip(peer)) is not None:
                self.notice.untrusted_peer(str(_unmapped(address)))
            return
        if forwarded:
            elements = _forwarded_elements(forwarded)
            client, index = _walk([_hop(element.get("for")) for element in elements], self.trusted)
            if index is not None:
                forwarded_proto = elements[index].get("proto") or forwarded_proto
        else:
            entries = [entry for line in forwarded_for for entry in line.split(",")]
            client, _ = _walk([_hop(entry) for entry in entries], self.trusted)
        if client is not None:
            scope["client"] = (str(client[0]), client[1])
        if forwarded_proto and (scheme := forwarded_proto.lower()) in _SCHEMES:
            scope["scheme"] = scheme.replace("http", "ws") if scope["type"] == "websocket" else scheme


def _walk(hops: list[Hop], trusted: TrustedProxies) -> tuple[Hop, int | None]:
    """The client of a chain whose last sender is trusted, and the index of the hop where the
    walk stopped (whose element a trusted proxy wrote). All trusted: the left-most, as uvicorn."""
    vouched: Hop = None
    for index in range(len(hops) - 1, -1, -1):
        hop = hops[index]
        if hop is None:
            return vouched, index
        if hop[0] not in trusted:
            return hop, index
        vouched = hop
    return (hops[0], 0) if hops else (None, None)


def _forwarded_elements(lines: list[str]) -> list[dict[str, str]]:
    """The elements of `Forwarded` lines, left to right. One that does not parse is kept empty
    (it names no address, so the walk stops there) and reading goes on after the next comma: a
    quoted value a client wrote ends at the first quote after it, so it cannot swallow the
    element a proxy appended."""
    elements: list[dict[str, str]] = []
    for line in lines:
        position = 0
        while True:
            while position < len(line) and line[position] in " \t,":
                position += 1
            if position >= len(line):
                break
            element: dict[str, str] = {}
            broken = False
            while True:
                match = _PAIR.match(line, position)
                if match is None:
                    broken, comma = True, line.find(",", position)
                    position = len(line) if comma < 0 else comma + 1
                    break
                name, value = match.group(1).lower(), match.group(2)
                broken = broken or name in element  # a parameter twice: which one is true?
                element[name] = _ESCAPE.sub(r"\1", value[1:-1]) if value.startswith('"') else value
                position = match.end()
                if match.group(3) != ";":
                    break
            elements.append({} if broken else element)
    return elements


def _hop(value: str | None) -> Hop:
    """`192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:443`, `2001:db8::1`: an address and a port (0
    when none or obfuscated); `unknown`, `_hidden` or anything else: None."""
    if value is None:
        return None
    host, port = value.strip(), "0"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:] or "0"
    elif host.count(":") == 1:
        host, port = host.split(":")
    address = _ip(host)
    if address is None:
        return None
    if port.startswith("_"):  # an obfuscated port (RFC 7239 §6.3)
        return address, 0
    if not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        return None
    return address, int(port)


def _unmapped(address: Address) -> Address:
    """`::ffff:10.0.0.2`, a dual-stack socket's view of an IPv4 peer, as `10.0.0.2`."""
    return (address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None) or address


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
