"""Who may reach ``ado serve``: the ``Host`` names it answers, the web origins whose pages
may use it, and the proxies whose ``X-Forwarded-For`` is believed. ``ado.api.guard``
applies it to every request.

A web page on another site can make the browser send requests to the local server; two
things tell the server that happened:

- **Host** (DNS rebinding): ``evil.example`` resolving to 127.0.0.1 makes the browser send
  ``Host: evil.example:8080``. On loopback the server answers only ``localhost``,
  ``127.0.0.1``, ``[::1]`` (and the address it is bound to) with its port, plus
  ``server.allowedHosts``. Bound to another address, it answers that address and
  ``server.allowedHosts``; without that list it answers any name, since the API then needs
  a token. Names are compared case-insensitively and otherwise exactly: ``localhost.``
  (trailing dot) or a port that is not the server's is refused; a Host without a port only
  on port 80.
- **Origin** (cross-site requests): a browser names the page's origin on WebSocket
  handshakes and on writes. Allowed: the server's own pages (the origin is the request's
  Host, already checked) and ``server.allowedOrigins``. ``Origin: null`` (sandboxed frames,
  ``file:``) is refused; no Origin at all is a client that is not a browser: allowed, and
  the API token still applies.

``X-Forwarded-For`` names the client only when the peer is one of ``server.trustedProxies``:
the right-most address that is not a trusted proxy is the client. From anyone else it is
ignored, so a client cannot pick a fresh rate-limit bucket per request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ado.config.server import ServerConfig

__all__ = ["AccessPolicy", "is_loopback"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The Host, Origin and proxy rules of one server. ``AccessPolicy()`` checks nothing
    (an app embedded in tests or behind its own front end)."""

    #: Whether Host headers are checked at all.
    check_hosts: bool = False
    #: Exact ``Host`` values accepted (lower case): ``localhost:8080``...
    hosts: frozenset[bytes] = frozenset()
    #: Names accepted with any port (``allowedHosts`` entries without one).
    names: frozenset[bytes] = frozenset()
    #: Origins allowed besides the server's own pages (``https://ado.example.com``).
    origins: frozenset[bytes] = frozenset()
    #: Peers whose ``X-Forwarded-For`` is believed.
    proxies: tuple[_Network, ...] = ()
    #: ``/metrics`` and ``/health/info`` need no token even when the API needs one.
    public_metrics: bool = False

    @classmethod
    def for_server(
        cls, config: ServerConfig, host: str, port: int, *, require_auth: bool
    ) -> AccessPolicy:
        """The policy of a server bound to ``host``:``port`` (see the module docstring)."""
        own: set[str] = set()
        if is_loopback(host) or host in _WILDCARDS:
            own.update(_LOOPBACK_NAMES)
        if host not in _WILDCARDS:
            own.add(f"[{host.strip('[]')}]" if ":" in host else host.lower())
        hosts = {f"{name}:{port}" for name in own}
        if port == 80:
            hosts |= own
        names: set[str] = set()
        for entry in config.allowed_hosts:
            if entry.endswith("]") or ":" not in entry:
                names.add(entry)
            else:
                hosts.add(entry)
        any_host = "*" in names or (
            require_auth and not config.allowed_hosts and not is_loopback(host)
        )
        return cls(
            check_hosts=not any_host,
            hosts=frozenset(h.encode() for h in hosts),
            names=frozenset(n.encode() for n in names),
            origins=frozenset(o.encode() for o in config.allowed_origins),
            proxies=tuple(ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies),
            public_metrics=config.public_metrics,
        )

    def host_allowed(self, value: bytes) -> bool:
        """Whether the server answers to this ``Host`` header value."""
        if not self.check_hosts or value in self.hosts:  # the common case: no allocation
            return True
        value = value.lower()
        if value in self.hosts:
            return True
        return bool(self.names) and _name(value) in self.names

    def origin_allowed(self, origin: bytes, host: bytes | None) -> bool:
        """Whether a page of ``origin`` may use the server reached as ``host``."""
        origin = origin.lower()
        if origin in self.origins:
            return True
        if origin.startswith(b"http://"):
            netloc = origin[7:]
        elif origin.startswith(b"https://"):
            netloc = origin[8:]
        else:
            return False  # null, file://, an extension...
        return host is not None and netloc == host.lower()

    def client(self, peer: str, forwarded: bytes | None) -> str:
        """The client's address: ``peer``, or from ``X-Forwarded-For`` when ``peer`` is a
        trusted proxy (the right-most address that is not one)."""
        if forwarded is None or not self.proxies or not self._trusted(peer):
            return peer
        client = peer
        for hop in reversed(forwarded.decode("latin-1").split(",")):
            hop = hop.strip()
            try:
                address = ipaddress.ip_address(hop.strip("[]"))
            except ValueError:
                return client  # not written by a proxy of ours: keep the last hop we trust
            client = str(address)
            if not self._trusted(client):
                return client
        return client

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)


def _name(value: bytes) -> bytes | None:
    """The name of a ``Host`` value without its port; None when it is malformed."""
    if value.startswith(b"["):
        end = value.find(b"]")
        if end < 0:
            return None
        name, rest = value[: end + 1], value[end + 1 :]
    else:
        name, _, port = value.partition(b":")
        rest = value[len(name) :]
        if b":" in port:
            return None
    if rest and not (rest.startswith(b":") and rest[1:].isdigit()):
        return None
    return name
