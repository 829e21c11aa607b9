"""Each provider at a glance: installed, version, enabled, access modes with their limits
used and cooldowns. What ``ado status`` prints and ``GET /api/providers`` returns."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ado.routing.limits import UsageSource, usage_against_limits

if TYPE_CHECKING:
    from ado.config.schema import ProviderConfig
    from ado.providers.base import Detection
    from ado.store import CooldownView

__all__ = ["OverviewSource", "provider_rows"]


class OverviewSource(UsageSource, Protocol):
    """``Store`` or ``SqlStore``."""

    def cooldowns(self, now: datetime) -> list[CooldownView]: ...


def provider_rows(
    providers: Mapping[str, ProviderConfig],
    store: OverviewSource,
    now: datetime,
    *,
    detections: Mapping[str, Detection] | None = None,
) -> list[dict[str, Any]]:
    """One row per registered provider, by id; ``providers`` are the configured ones
    (with any overrides applied), ``detections`` the results of probing the executables."""
    from ado.providers import adapter_classes

    cooldowns = {(c.provider, c.access_mode): c for c in store.cooldowns(now)}
    detections = detections or {}
    rows = []
    for pid, cls in sorted(adapter_classes().items()):
        pcfg = providers.get(pid)
        adapter = cls()
        path = adapter.resolve_command(pcfg.command if pcfg else None)
        det = detections.get(pid)
        modes = []
        for mode in pcfg.access_modes if pcfg else []:
            cd = cooldowns.get((pid, mode.mode))
            modes.append(
                {
                    "mode": mode.mode,
                    "priority": mode.priority,
                    "enabled": mode.enabled,
                    "limits": [
                        {
                            "name": r.name,
                            "used": r.used,
                            "limit": r.limit,
                            "window": r.window,
                            "resets_at": r.resets_at.isoformat(),
                        }
                        for r in usage_against_limits(store, pid, mode, now)
                    ],
                    "cooldown_until": cd.until.isoformat() if cd else None,
                    "cooldown_reason": cd.reason if cd else None,
                }
            )
        rows.append(
            {
                "id": pid,
                "name": cls.display_name,
                "installed": det.installed if det else path is not None,
                "path": path,
                "version": det.version if det else None,
                "logged_in": det.logged_in if det else adapter.login_state(os.environ),
                "enabled": bool(pcfg and pcfg.enabled),
                "access_modes": modes,
            }
        )
    return rows
