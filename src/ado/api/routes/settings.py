"""``/api/settings``: routing, human-in-the-loop and notification settings.

What is saved here is the ``saved`` layer of the configuration (``ado.config.overrides``): only
values that differ from ``ado.config.yaml`` are kept, secrets encrypted. Every response shows
the effective settings, the layer each value comes from (``origins``) and, for saved values,
what the file would give (``fileValues``). Secrets are write-only: never returned, only
whether they are set.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from ado.api.deps import ConfigSourceDep, ResolvedDep, StoreDep
from ado.api.params import BODY_ERRORS
from ado.api.responses import json_response
from ado.api.schemas import ErrorResponse, Settings, SettingsPatch
from ado.config.overrides import SETTINGS_KEY, InvalidSettings, save, settings_after_patch
from ado.config.resolve import Resolved, is_saveable, leaves
from ado.config.secrets import as_set, mask_secrets
from ado.config.source import ConfigSource
from ado.errors import ApiError
from ado.store.database import Store
from ado.text import lone_surrogate_at

router = APIRouter(prefix="/api/settings", tags=["settings"])

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get("", operation_id="getSettings", response_model=Settings)
async def get_settings(resolved: ResolvedDep) -> Response:
    """The effective settings, each value's layer (``origins``) and, for saved values, the
    file's (``fileValues``); secrets shown as ``{"set": true|false}``."""
    return json_response(settings_view(resolved))


@router.patch(
    "", operation_id="updateSettings", response_model=Settings, responses={**ERRORS, **BODY_ERRORS}
)
def update_settings(body: SettingsPatch, store: StoreDep, source: ConfigSourceDep) -> Response:
    """Change some settings: only the keys given change, and a value equal to the file's
    is not saved (it follows the file). Validated like the file (422 names the field, e.g.
    ``routing.strategy``). Returns the new settings."""
    given = body.model_dump(by_alias=True, exclude_unset=True)
    patch = {section: value for section, value in given.items() if value is not None}
    if (where := lone_surrogate_at(patch)) is not None:
        raise ApiError.invalid(where, "not valid Unicode text (a lone UTF-16 surrogate)")
    with source.saving:
        saved = store.get_value(SETTINGS_KEY) or {}
        try:
            new = settings_after_patch(source.loaded.config, saved, patch, source.box)
        except InvalidSettings as exc:
            raise ApiError(
                422, f"invalid settings: {exc}", code="validation_error", details=exc.details
            ) from None
        if new != saved:
            save(store, SETTINGS_KEY, new)
    source.invalidate()
    return json_response(settings_view(source.resolved()))


@router.delete("", operation_id="resetSettings", response_model=Settings)
async def reset_settings(store: StoreDep, source: ConfigSourceDep) -> Response:
    """Remove every saved setting and provider switch: the file's values apply again.
    Returns the new settings."""
    return await _reset(store, source, None)


@router.delete("/{key}", operation_id="resetSetting", response_model=Settings, responses=ERRORS)
async def reset_setting(
    key: Annotated[
        str,
        Path(
            description="A dotted key (`routing.strategy`), a section (`routing`), or a "
            "provider's switches (`providers.codex`, `providers.codex.enabled`)."
        ),
    ],
    store: StoreDep,
    source: ConfigSourceDep,
) -> Response:
    """Remove the saved value(s) at ``key``: the file's value applies again. Returns the new
    settings; 404 when ``key`` is nothing that can be saved."""
    return await _reset(store, source, key)


async def _reset(store: Store, source: ConfigSource, key: str | None) -> Response:
    from ado.config.overrides import reset_saved
    from ado.errors import UsageError

    resolved = await source.aresolved()
    if key is not None:
        try:
            known = is_saveable(resolved, key)
        except UsageError as exc:
            raise ApiError(404, f"no such setting {key!r}: {exc.message}") from None
        if not known:
            raise ApiError(
                404,
                f"no such setting {key!r}: settings are keys of routing, hitl and "
                "notifications, or providers.<id> switches",
            )

    def reset() -> None:
        with source.saving:
            reset_saved(store, source.loaded.config, key)

    await asyncio.to_thread(reset)
    source.invalidate()
    return json_response(settings_view(await source.aresolved()))


def settings_view(resolved: Resolved) -> dict[str, Any]:
    from ado.config.loader import dotted

    config = resolved.config
    routing, hitl = config.routing, config.hitl
    view: dict[str, Any] = {
        "routing": {
            "strategy": routing.strategy,
            "failover": routing.failover.model_dump(by_alias=True),
            "apiFallback": routing.api_fallback.model_dump(by_alias=True),
        },
        "hitl": {
            "defaultPolicy": hitl.default_policy,
            "escalationThresholds": hitl.escalation_thresholds.model_dump(by_alias=True),
        },
        "notifications": mask_secrets(config.notifications.model_dump(by_alias=True)),
    }
    origins: dict[str, str] = {}
    file_values: dict[str, Any] = {}
    for path, _ in leaves(view, expand_lists=False):
        key = dotted(path)
        origins[key] = origin = resolved.origin_of(path)
        if origin == "saved":
            file_values[key] = _masked(path, resolved.file_value(path))
    view["origins"] = origins
    view["fileValues"] = file_values
    return view


def _masked(path: tuple[str | int, ...], value: Any) -> Any:
    from ado.config.resolve import MISSING

    if value is MISSING:
        return None
    name = str(path[-1])
    return mask_secrets({name: value}, masked=as_set)[name]
