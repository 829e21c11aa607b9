"""The ``server:`` section of ``ado.config.yaml``: who may reach ``ado serve``.

    server:
      allowedHosts: [ado.example.com]         # names the server answers to, beyond its own
      allowedOrigins: [https://ado.example.com]
      trustedProxies: [127.0.0.1]              # whose X-Forwarded-For is believed
      rateLimit: 600                           # requests a minute per client; 0: off
      exemptLoopback: true
      publicMetrics: false
      allowedRoots: [., ../shared]             # where API-submitted tasks may run (cwd)

How each key is applied: ``ado.api.access`` (docs/api.md, "Access").
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from ado.config.base import ConfigModel

__all__ = ["ServerConfig"]

#: ``name``, ``name:port``, ``[v6]``, ``[v6]:port``, or ``*``: no scheme, path or spaces.
_HOST = re.compile(r"^(\*|\[[0-9a-f:.]+\]|[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?)(:\d{1,5})?$")
_ORIGIN = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?)(:\d{1,5})?$")


class ServerConfig(ConfigModel):
    """``ado serve``: the hosts and origins it answers, proxies, rate limits, what is public.
    Read when the server starts."""

    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names (optionally `name:port`) the server answers to besides its own "
        "address: the name a reverse proxy or DNS gives it. On loopback the server answers "
        "`localhost`, `127.0.0.1` and `[::1]` with its port; bound elsewhere, without this "
        "list it answers any name (the API then needs a token). `*`: any name.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Web origins (`https://ado.example.com`, `http://localhost:5173`) whose "
        "pages may use the WebSocket and send API writes, besides the server's own pages.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (`127.0.0.1`, `10.0.0.0/8`) of reverse proxies whose "
        "`X-Forwarded-For` names the real client (for rate limits); ignored from anyone else.",
    )
    allowed_roots: list[str] = Field(
        default_factory=list,
        description="Directories (and their subdirectories) a task submitted through the API "
        "may run in (`cwd`); relative to the project directory. Empty: the project directory "
        "only. Symbolic links are resolved first, so none leads out.",
    )
    rate_limit: int = Field(
        default=600,
        ge=0,
        description="API requests (and WebSocket connection attempts) a minute per client, "
        "by API token or else by address; 0 turns the limit off.",
    )
    exempt_loopback: bool = Field(
        default=True,
        description="Clients on this machine are not rate-limited while the API needs no "
        "token (the server on loopback). false: limit them too.",
    )
    public_metrics: bool = Field(
        default=False,
        description="`/metrics` and `/health/info` stay open when the API needs a token "
        "(false: they need it too).",
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        hosts = [h.strip().lower() for h in value]
        for host in hosts:
            if not _HOST.match(host):
                raise ValueError(
                    f"{host!r} is not a host name: write `name`, `name:port` or `[::1]:port`, "
                    "without a scheme or a path"
                )
        return hosts

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = [o.strip().lower().rstrip("/") for o in value]
        for origin in origins:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not a web origin: write `https://name` or "
                    "`http://name:port`, without a path"
                )
        return origins

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8)"
                ) from None
        return [p.strip() for p in value]
