"""``/api/providers``: each agent with its access modes, limits, cooldowns and usage;
switching providers and access modes on or off and reordering them (persisted under the
store key ``providers.overrides``, which the router applies to its next decision)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from ado.api import wire
from ado.api.deps import ConfigDep, StoreDep
from ado.api.responses import json_response
from ado.api.schemas import ErrorResponse, ProviderOut, ProviderPatch, ProviderUsage
from ado.config.overrides import effective_providers
from ado.config.schema import AdoConfig
from ado.errors import ApiError, UnknownProviderError
from ado.routing.router import OVERRIDES_KEY
from ado.store.database import Store

router = APIRouter(prefix="/api/providers", tags=["providers"])

ProviderId = Annotated[str, Path(description="The provider's id, e.g. claude-code.")]
#: How long the executables' ``--version`` probes are reused (seconds).
DETECTION_TTL = 300.0
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get("", operation_id="listProviders", response_model=list[ProviderOut])
async def list_providers(request: Request, store: StoreDep, config: ConfigDep) -> Response:
    """Every agent ADO knows: installed, version, enabled, access modes with their limits
    used and cooldowns, capabilities, and today's usage."""
    detections = await _detections(request, config)
    rows = await asyncio.to_thread(provider_views, config, store, detections)
    return json_response(rows)


@router.patch(
    "/{provider_id}", operation_id="updateProvider", response_model=ProviderOut, responses=ERRORS
)
async def update_provider(
    provider_id: ProviderId,
    body: ProviderPatch,
    request: Request,
    store: StoreDep,
    config: ConfigDep,
) -> Response:
    """Enable or disable a provider, its access modes, and change their priorities. Saved in
    the store: the next routing decision (of this server and of ``ado run``) uses it."""
    _check_known(provider_id)
    modes = (
        [m.mode for m in (config.providers[provider_id].access_modes)]
        if (provider_id in config.providers)
        else []
    )
    for i, patch in enumerate(body.access_modes or []):
        if patch.mode not in modes:
            configured = ", ".join(modes) or "none configured"
            raise ApiError.invalid(
                f"accessModes.{i}.mode",
                f"{provider_id} has no access mode {patch.mode!r} ({configured})",
            )
    await asyncio.to_thread(_save_override, store, provider_id, body)
    detections = await _detections(request, config)
    rows = await asyncio.to_thread(provider_views, config, store, detections, provider_id)
    return json_response(rows[0])


@router.get(
    "/{provider_id}/usage",
    operation_id="getProviderUsage",
    response_model=ProviderUsage,
    responses=ERRORS,
)
def get_provider_usage(
    provider_id: ProviderId,
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=90, description="Days, today included.")] = 7,
) -> Response:
    """One provider's usage per day (UTC), oldest first."""
    _check_known(provider_id)
    return json_response(
        {
            "provider": provider_id,
            "days": store.provider_usage(provider_id, datetime.now(UTC), days),
        }
    )


def provider_views(
    config: AdoConfig, store: Store, detections: dict[str, Any], only: str | None = None
) -> list[dict[str, Any]]:
    """The API's provider rows (``ProviderOut``), overrides applied."""
    from ado.routing.overview import provider_views as views

    providers = effective_providers(config, store.get_value(OVERRIDES_KEY))
    rows = views(providers, store, datetime.now(UTC), detections=detections, only=only)
    return wire.PROVIDER.many(rows)


def _check_known(provider_id: str) -> None:
    from ado.providers import provider_ids

    if provider_id not in provider_ids():
        raise UnknownProviderError(provider_id, provider_ids())


def _save_override(store: Store, provider_id: str, body: ProviderPatch) -> None:
    overrides = dict(store.get_value(OVERRIDES_KEY) or {})
    entry = dict(overrides.get(provider_id) or {})
    if body.enabled is not None:
        entry["enabled"] = body.enabled
    if body.access_modes:
        modes = dict(entry.get("accessModes") or {})
        for patch in body.access_modes:
            mode = dict(modes.get(patch.mode) or {})
            if patch.enabled is not None:
                mode["enabled"] = patch.enabled
            if patch.priority is not None:
                mode["priority"] = patch.priority
            modes[patch.mode] = mode
        entry["accessModes"] = modes
    overrides[provider_id] = entry
    store.set_value(OVERRIDES_KEY, overrides)


async def _detections(request: Request, config: AdoConfig) -> dict[str, Any]:
    """Each executable's ``--version`` probe, reused for ``DETECTION_TTL`` seconds."""
    state = request.app.state
    cached = getattr(state, "provider_detections", None)
    if cached is not None and time.monotonic() - cached[0] < DETECTION_TTL:
        found: dict[str, Any] = cached[1]
        return found
    from ado.providers import detect_all

    commands = {pid: p.command for pid, p in config.providers.items()}
    found = dict(await detect_all(commands))
    state.provider_detections = (time.monotonic(), found)
    return found
