"""``/api/settings``: routing, human-in-the-loop and notification settings.

Saved under the store key ``settings.overrides`` and applied over ``ado.config.yaml`` by
``ado.config.overrides.effective_config`` (the API, the worker pool and ``ado run``).
Secrets are write-only: they are never returned, only whether they are set.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, SecretStr
from starlette.responses import Response

from ado.api.deps import ConfigDep, StoreDep
from ado.api.errors import ApiError
from ado.api.responses import json_response
from ado.api.schemas import ErrorResponse, Settings, SettingsPatch
from ado.config.overrides import SETTINGS_KEY, InvalidSettings, merge_settings
from ado.config.schema import AdoConfig

router = APIRouter(prefix="/api/settings", tags=["settings"])

#: Keys whose plain-text values are secrets too (headers, untyped sections).
_SECRET_KEY = re.compile(r"(password|secret|token|api[-_]?key|webhook_?url|authorization)$", re.I)


@router.get("", operation_id="getSettings", response_model=Settings)
async def get_settings(config: ConfigDep) -> Response:
    """The effective settings; secrets shown as ``{"set": true|false}``."""
    return json_response(settings_view(config))


@router.patch(
    "",
    operation_id="updateSettings",
    response_model=Settings,
    responses={422: {"model": ErrorResponse}},
)
def update_settings(body: SettingsPatch, request: Request, store: StoreDep) -> Response:
    """Change some settings: only the keys given change; validated like the file (422
    names the field, e.g. ``routing.strategy``). Returns the new settings."""
    loader = request.app.state.config_loader
    given = body.model_dump(by_alias=True, exclude_unset=True)
    patch = {section: value for section, value in given.items() if value is not None}
    saved = store.get_value(SETTINGS_KEY) or {}
    try:
        merged = merge_settings(loader.loaded.config, saved, patch)
    except InvalidSettings as exc:
        raise ApiError(
            422, f"invalid settings: {exc}", code="validation_error", details=exc.details
        ) from None
    store.set_value(SETTINGS_KEY, merged)
    loader.invalidate()
    return json_response(settings_view(loader()))


def settings_view(config: AdoConfig) -> dict[str, Any]:
    routing, hitl = config.routing, config.hitl
    notifications: Any = config.notifications
    if isinstance(notifications, BaseModel):
        notifications = notifications.model_dump(by_alias=True)
    return {
        "routing": {
            "strategy": routing.strategy,
            "failover": routing.failover.model_dump(by_alias=True),
            "apiFallback": routing.api_fallback.model_dump(by_alias=True),
        },
        "hitl": {
            "defaultPolicy": hitl.default_policy,
            "escalationThresholds": hitl.escalation_thresholds.model_dump(by_alias=True),
        },
        "notifications": mask_secrets(notifications),
    }


def mask_secrets(value: Any, key: str = "") -> Any:
    """``value`` with every secret replaced by ``{"set": bool}``."""
    if isinstance(value, SecretStr):
        return {"set": bool(value.get_secret_value())}
    if isinstance(value, dict):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v, key) for v in value]
    if _SECRET_KEY.search(key) and (value is None or isinstance(value, str)):
        return {"set": bool(value)}
    return value
