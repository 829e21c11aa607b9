"""Builders shared by the routing tests."""

from __future__ import annotations

from typing import Any

from ado.config.schema import AdoConfig
from ado.providers.events import Usage
from ado.store import Store


def make_config(providers: dict[str, Any], **routing: Any) -> AdoConfig:
    """An AdoConfig from the camelCase shape of ``ado.config.yaml``."""
    return AdoConfig.model_validate({"providers": providers, "routing": routing})


def sub(priority: int = 10, **extra: Any) -> dict[str, Any]:
    return {"mode": "subscription", "priority": priority, **extra}


def api(priority: int = 20, **extra: Any) -> dict[str, Any]:
    return {"mode": "api", "priority": priority, **extra}


def provider(*modes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"enabled": True, "accessModes": list(modes), **extra}


def record(
    store: Store,
    provider_id: str,
    mode: str,
    *,
    requests: int = 1,
    tokens: int = 0,
    cost: float = 0.0,
) -> None:
    store.record_usage(
        provider=provider_id,
        access_mode=mode,
        task_id=None,
        attempt_id=None,
        model=None,
        usage=Usage(input_tokens=tokens),
        cost_usd=cost,
        api_cost_usd=cost,
        requests=requests,
    )
