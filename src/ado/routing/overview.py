"""Each provider at a glance: installed, version, enabled, access modes with their limits
used and cooldowns, capabilities and today's usage. What ``ado status`` prints and, shaped by
``ado.api.wire``, what ``GET /api/providers`` and ``ado status --json`` return."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ado.routing.limits import LimitRow, UsageSource, usage_against_limits

if TYPE_CHECKING:
    from ado.config.resolve import Resolved
    from ado.config.schema import ProviderConfig
    from ado.providers.base import Detection
    from ado.store import CooldownView, ReportRow

__all__ = [
    "AccessModeView",
    "OverviewSource",
    "ProviderView",
    "UsageTodayView",
    "provider_views",
    "with_origins",
]


class OverviewSource(UsageSource, Protocol):
    """``Store`` or ``SqlStore``."""

    def cooldowns(self, now: datetime) -> list[CooldownView]: ...

    def usage_report(
        self, since: datetime | None, provider: str | None = None
    ) -> list[ReportRow]: ...


# Named tuples, not dataclasses: ``ado status`` defines them on every run (~0.3 ms each
# rather than ~1.5 ms).
class AccessModeView(NamedTuple):
    mode: str
    priority: int
    enabled: bool
    limits: list[LimitRow]
    cooldown_until: datetime | None
    cooldown_reason: str | None


class UsageTodayView(NamedTuple):
    tasks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    api_cost_usd: float = 0.0


class ProviderView(NamedTuple):
    """One agent at a glance; ``ado.api.wire`` turns it into the API's ``ProviderOut``."""

    id: str
    name: str
    installed: bool
    version: str | None
    enabled: bool
    path: str | None
    logged_in: bool | None
    access_modes: list[AccessModeView]
    #: The configured ``Capabilities`` (None: not configured, the defaults).
    configured_capabilities: Any
    usage_today: UsageTodayView
    #: The layer of each switch (``enabled``, ``accessModes.<mode>.enabled``...): the API's
    #: ``origins``; empty when not resolved with its layers (``with_origins``).
    origins: dict[str, str]
    #: For each switch saved over the file: the file's value.
    file_values: dict[str, Any]

    @property
    def capabilities(self) -> dict[str, Any]:
        """The configured capabilities (camelCase flags, languages, maxContextTokens): dumped
        when asked (the API, ``--json``), as the dump builds pydantic's models."""
        from ado.config.schema import Capabilities

        configured = self.configured_capabilities
        capabilities = Capabilities() if configured is None else configured
        dumped: dict[str, Any] = capabilities.model_dump(by_alias=True, exclude_none=True)
        return dumped


def provider_views(
    providers: Mapping[str, ProviderConfig],
    store: OverviewSource,
    now: datetime,
    *,
    detections: Mapping[str, Detection] | None = None,
    only: str | None = None,
    today: Sequence[ReportRow] | None = None,
) -> list[ProviderView]:
    """One view per registered provider (or just ``only``), by id; ``providers`` are the
    configured ones (with any overrides applied), ``detections`` the results of probing the
    executables (without: found on PATH, version unknown), ``today`` the usage report since
    midnight UTC of ``now`` when the caller has it (else it is read)."""
    from ado.providers import adapter_classes

    cooldowns = {(c.provider, c.access_mode): c for c in store.cooldowns(now)}
    detections = detections or {}
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    usage: dict[str, UsageTodayView] = {}
    for r in store.usage_report(day) if today is None else today:
        t = usage.get(r.provider, UsageTodayView())
        usage[r.provider] = UsageTodayView(
            t.tasks + r.tasks,
            t.input_tokens + r.input_tokens,
            t.output_tokens + r.output_tokens,
            t.cost_usd + r.cost_usd,
            t.api_cost_usd + r.api_cost_usd,
        )
    views = []
    classes = adapter_classes()
    # every agent, and each account configured under an id of its own (``adapter:``)
    ids = {
        **classes,
        **{p: classes[c.adapter] for p, c in providers.items() if c.adapter in classes},
    }
    for pid, cls in sorted(ids.items()):
        if only is not None and pid != only:
            continue
        pcfg = providers.get(pid)
        adapter = cls()
        path = adapter.resolve_command(pcfg.command if pcfg else None)
        det = detections.get(pid)
        modes = []
        for mode in pcfg.access_modes if pcfg else []:
            cd = cooldowns.get((pid, mode.mode))
            modes.append(
                AccessModeView(
                    mode=mode.mode,
                    priority=mode.priority,
                    enabled=mode.enabled,
                    limits=usage_against_limits(store, pid, mode, now),
                    cooldown_until=cd.until if cd else None,
                    cooldown_reason=cd.reason if cd else None,
                )
            )
        views.append(
            ProviderView(
                id=pid,
                name=cls.display_name,
                installed=det.installed if det else path is not None,
                version=det.version if det else None,
                enabled=bool(pcfg and pcfg.enabled),
                path=path,
                logged_in=det.logged_in if det else adapter.login_state(os.environ),
                access_modes=modes,
                configured_capabilities=pcfg.capabilities if pcfg else None,
                usage_today=usage.get(pid, UsageTodayView()),
                origins={},
                file_values={},
            )
        )
    return views


def with_origins(views: list[ProviderView], resolved: Resolved) -> list[ProviderView]:
    """``views`` with the layer of each switch (``origins``) and, for those saved over the
    file, the file's value (``file_values``)."""
    out = []
    for view in views:
        base: tuple[str | int, ...] = ("providers", view.id)
        paths: dict[str, tuple[str | int, ...]] = {"enabled": (*base, "enabled")}
        pconf = resolved.config.providers.get(view.id)
        for i, mode in enumerate(pconf.access_modes if pconf is not None else []):
            for name in ("enabled", "priority"):
                paths[f"accessModes.{mode.mode}.{name}"] = (*base, "accessModes", i, name)
        origins: dict[str, str] = {k: resolved.origin_of(p) for k, p in paths.items()}
        file_values = {
            key: resolved.file_value(paths[key]) for key, o in origins.items() if o == "saved"
        }
        out.append(view._replace(origins=origins, file_values=file_values))
    return out
