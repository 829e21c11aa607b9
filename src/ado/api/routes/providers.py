"""``/api/providers``: each agent with its access modes, limits, cooldowns and usage;
switching providers and access modes on or off and reordering them (the saved layer's
provider switches, ``ado.config.overrides``: the next resolution of every process applies
them). Each row says which layer its switches come from (``origins``)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from ado.api import wire
from ado.api.deps import ConfigDep, ConfigSourceDep, ResolvedDep, StoreDep
from ado.api.params import BODY_ERRORS
from ado.api.responses import json_response
from ado.api.schemas import ErrorResponse, ProviderOut, ProviderPatch, ProviderUsage
from ado.config.overrides import SWITCHES_KEY, save, switches_after_patch
from ado.config.resolve import Resolved
from ado.config.schema import AdoConfig
from ado.errors import ApiError, UnknownProviderError
from ado.store.database import Store
from ado.vocab import AccessMode

router = APIRouter(prefix="/api/providers", tags=["providers"])

ProviderId = Annotated[str, Path(description="The provider's id, e.g. claude-code.")]
#: How long the executables' ``--version`` probes are reused (seconds).
DETECTION_TTL = 300.0
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get("", operation_id="listProviders", response_model=list[ProviderOut])
async def list_providers(
    request: Request, store: StoreDep, config: ConfigDep, resolved: ResolvedDep
) -> Response:
    """Every agent ADO knows: installed, version, enabled, access modes with their limits
    used and cooldowns, capabilities, today's usage, and the layer of each switch."""
    detections = await _detections(request, config)
    rows = await asyncio.to_thread(provider_views, resolved, store, detections)
    return json_response(rows)


@router.patch(
    "/{provider_id}",
    operation_id="updateProvider",
    response_model=ProviderOut,
    responses={**ERRORS, **BODY_ERRORS},
)
async def update_provider(
    provider_id: ProviderId,
    body: ProviderPatch,
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    source: ConfigSourceDep,
) -> Response:
    """Enable or disable a provider, its access modes, and change their priorities. Only what
    the request gives changes; a value equal to the file's is not saved (it follows the
    file). The next routing decision (of this server and of ``ado run``) uses it."""
    _check_known(provider_id, config)
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

    def save_switches() -> None:
        with source.saving:
            _save_switches(store, source.loaded.config, provider_id, body)

    await asyncio.to_thread(save_switches)
    source.invalidate()
    resolved = await source.aresolved()
    detections = await _detections(request, config)
    rows = await asyncio.to_thread(provider_views, resolved, store, detections, provider_id)
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
    config: ConfigDep,
    days: Annotated[int, Query(ge=1, le=90, description="Days, today included.")] = 7,
) -> Response:
    """One provider's usage per day (UTC), oldest first."""
    _check_known(provider_id, config)
    return json_response(
        {
            "provider": provider_id,
            "days": store.provider_usage(provider_id, datetime.now(UTC), days),
        }
    )


@router.delete(
    "/{provider_id}/cooldown",
    operation_id="clearProviderCooldown",
    status_code=204,
    responses=ERRORS,
)
def clear_provider_cooldown(
    provider_id: ProviderId,
    store: StoreDep,
    config: ConfigDep,
    access_mode: Annotated[
        AccessMode | None,
        Query(alias="accessMode", description="Only this access mode's cooldown; unset: all."),
    ] = None,
) -> Response:
    """Remove the provider's active cooldowns (``ado providers clear-cooldown``): routing may
    choose it again at once. 204 whether or not one was active; 404 for an unknown provider."""
    _check_known(provider_id, config)
    store.clear_cooldowns(provider_id, access_mode)
    return Response(status_code=204)


def provider_views(
    resolved: Resolved, store: Store, detections: dict[str, Any], only: str | None = None
) -> list[dict[str, Any]]:
    """The API's provider rows (``ProviderOut``), as resolved (switches applied), each with
    the layer of its switches."""
    from ado.routing.overview import provider_views as views
    from ado.routing.overview import with_origins

    providers = resolved.config.providers
    rows = views(providers, store, datetime.now(UTC), detections=detections, only=only)
    return wire.PROVIDER.many(with_origins(rows, resolved))


def _check_known(provider_id: str, config: AdoConfig) -> None:
    """A registered agent, or a configured id of one (an account: ``adapter:``)."""
    from ado.providers import provider_ids

    if provider_id not in provider_ids() and provider_id not in config.providers:
        raise UnknownProviderError(provider_id, [*provider_ids(), *config.providers])


def _save_switches(
    store: Store, file_config: AdoConfig, provider_id: str, body: ProviderPatch
) -> None:
    switches = store.get_value(SWITCHES_KEY) or {}
    patch = body.model_dump(by_alias=True, exclude_none=True)
    new = switches_after_patch(file_config, switches, provider_id, patch)
    if new != switches:
        save(store, SWITCHES_KEY, new)


async def _detections(request: Request, config: AdoConfig) -> dict[str, Any]:
    """Each executable's ``--version`` probe, reused for ``DETECTION_TTL`` seconds."""
    state = request.app.state
    cached = getattr(state, "provider_detections", None)
    if cached is not None and time.monotonic() - cached[0] < DETECTION_TTL:
        found: dict[str, Any] = cached[1]
        return found
    from ado.providers import detect_configured

    found = dict(await detect_configured(config))
    state.provider_detections = (time.monotonic(), found)
    return found
