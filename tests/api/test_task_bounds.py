"""``POST /api/tasks`` and ``PATCH /api/providers/{id}`` refuse values that make no sense, with a
422 naming the field, and store nothing (SQLite and PostgreSQL; the fast path answers first)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from starlette.testclient import TestClient

from ado.options import MAX_COST_USD, MAX_PRIORITY, MAX_TURNS
from ado.store import Store
from ado.text import MAX_ARG_BYTES as MAX_PROMPT_BYTES
from ado.vocab import HitlPolicy

HUGE = 2**63


def _post_raw(client: TestClient, body: str) -> Any:
    return client.post("/api/tasks", content=body, headers={"content-type": "application/json"})


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = [d["field"] for d in error["details"]]
    assert field in fields, fields
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"maxTurns": 0}, "maxTurns"),
        ({"maxTurns": -1}, "maxTurns"),
        ({"maxTurns": MAX_TURNS + 1}, "maxTurns"),
        ({"maxTurns": HUGE}, "maxTurns"),
        ({"maxTurns": "5"}, "maxTurns"),
        ({"maxTurns": 2.5}, "maxTurns"),
        ({"maxTurns": True}, "maxTurns"),
        ({"maxCost": -1}, "maxCost"),
        ({"maxCost": MAX_COST_USD * 2}, "maxCost"),
        ({"maxCost": HUGE}, "maxCost"),
        ({"maxCost": "1"}, "maxCost"),
        ({"yolo": "no"}, "yolo"),
        ({"yolo": 0}, "yolo"),
        ({"yolo": 1}, "yolo"),
        ({"yolo": "true"}, "yolo"),
        ({"yolo": None}, "yolo"),
        ({"accessMode": "paid"}, "accessMode"),
        ({"accessMode": "API"}, "accessMode"),
        ({"hitlPolicy": "yes"}, "hitlPolicy"),
        ({"providers": ["codex"] * 65}, "providers"),
        ({"model": "m" * 101}, "model"),
        ({"requireCapabilities": [""]}, "requireCapabilities.0"),
    ],
)
def test_out_of_bounds_values_are_refused(
    client: TestClient, store: Store, extra: dict[str, Any], field: str
) -> None:
    _refused(client.post("/api/tasks", json={"prompt": "do it", **extra}), field)
    assert store.list_tasks() == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_costs(client: TestClient, store: Store, literal: str) -> None:
    _refused(_post_raw(client, f'{{"prompt": "do it", "maxCost": {literal}}}'), "maxCost")
    assert store.list_tasks() == []


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t \n", "\u3000"])
def test_a_blank_prompt_is_refused(client: TestClient, store: Store, prompt: str) -> None:
    _refused(client.post("/api/tasks", json={"prompt": prompt}), "prompt")
    assert store.list_tasks() == []


def test_a_prompt_longer_than_an_argument_can_be_is_refused(
    client: TestClient, store: Store
) -> None:
    message = _refused(
        client.post("/api/tasks", json={"prompt": "é" * (MAX_PROMPT_BYTES // 2 + 1)}), "prompt"
    )
    assert "bytes" in message and f"{MAX_PROMPT_BYTES:,}" in message
    assert store.list_tasks() == []
    at_limit = client.post("/api/tasks", json={"prompt": "x" * MAX_PROMPT_BYTES})
    assert at_limit.status_code == 201, at_limit.text


@pytest.mark.parametrize(
    ("extra", "field", "suggestion"),
    [
        ({"provider": "codx"}, "provider", "codex"),
        ({"providers": ["claude-code", "claude"]}, "providers.1", "claude-code"),
        ({"exclude": ["codexx"]}, "exclude.0", "codex"),
        # registered (an adapter exists) but not in this server's configuration
        ({"provider": "gemini-cli"}, "provider", None),
        ({"exclude": ["copilot"]}, "exclude.0", None),
    ],
)
def test_a_provider_that_is_not_configured_is_refused_at_submission(
    client: TestClient, store: Store, extra: dict[str, Any], field: str, suggestion: str | None
) -> None:
    message = _refused(client.post("/api/tasks", json={"prompt": "do it", **extra}), field)
    assert "Unknown provider" in message and "claude-code, codex" in message
    if suggestion:
        assert f"Did you mean {suggestion!r}?" in message
    else:
        assert "Did you mean" not in message
    assert store.list_tasks() == []


def test_values_at_the_bounds_are_accepted(client: TestClient, store: Store) -> None:
    response = client.post(
        "/api/tasks",
        json={
            "prompt": "  padded prompt  ",
            "maxTurns": MAX_TURNS,
            "maxCost": 0,
            "yolo": False,
            "provider": "codex",
        },
    )
    assert response.status_code == 201, response.text
    (task,) = store.list_tasks()
    assert task.options == {"provider": "codex", "max_turns": MAX_TURNS, "max_cost": 0.0,
                            "hitl_policy": "autonomous"}  # fmt: skip
    detail = client.get(f"/api/tasks/{task.id}").json()
    assert detail["options"] == {"provider": "codex", "maxTurns": MAX_TURNS, "maxCost": 0.0,
                                 "hitlPolicy": "autonomous"}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"accessModes": [{"mode": "subscription", "priority": 0}]}, "accessModes.0.priority"),
        ({"accessModes": [{"mode": "subscription", "priority": -1}]}, "accessModes.0.priority"),
        (
            {"accessModes": [{"mode": "subscription", "priority": MAX_PRIORITY + 1}]},
            "accessModes.0.priority",
        ),
        ({"accessModes": [{"mode": "subscription", "priority": HUGE}]}, "accessModes.0.priority"),
        ({"accessModes": [{"mode": "subscription", "priority": "1"}]}, "accessModes.0.priority"),
        ({"accessModes": [{"mode": "subscription", "enabled": 0}]}, "accessModes.0.enabled"),
        ({"enabled": "no"}, "enabled"),
        ({"enabled": 1}, "enabled"),
    ],
)
def test_provider_switches_are_bounded_and_strict(
    client: TestClient, store: Store, body: dict[str, Any], field: str
) -> None:
    _refused(client.patch("/api/providers/codex", json=body), field)
    assert store.get_value("providers.overrides") is None


def test_a_priority_in_bounds_is_saved(client: TestClient, store: Store) -> None:
    body = {"accessModes": [{"mode": "subscription", "priority": MAX_PRIORITY}], "enabled": False}
    response = client.patch("/api/providers/codex", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["accessModes"][0]["priority"] == MAX_PRIORITY
    assert response.json()["enabled"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "p"},
        {
            "prompt": "p",
            "providers": ["codex"],
            "exclude": ["claude-code"],
            "maxCost": 0,
            "accessMode": "api",
            "requireCapabilities": ["python"],
            "hitlPolicy": "manual",
            "model": "m",
            "maxTurns": 3,
            "yolo": True,
        },
        {"prompt": "p", "provider": "codex", "yolo": False, "maxCost": 2},
    ],
)
def test_the_stored_options_are_the_task_options_model(body: dict[str, Any]) -> None:
    from ado.api.schemas import TASK_CREATE
    from ado.options import TaskOptions

    given = TASK_CREATE.validate_python(body)
    options = TaskOptions.choices(given)
    options.hitl_policy = HitlPolicy(given.hitl_policy or "autonomous")
    stored = options.stored()
    assert json.loads(json.dumps(stored)) == stored  # JSON values, snake_case keys
    assert TaskOptions.from_stored(stored) == options


OUT_OF_BOUNDS = [
    {"max_turns": 0},
    {"max_turns": MAX_TURNS + 1},
    {"max_cost": -0.01},
    {"max_cost": MAX_COST_USD * 2},
    {"max_cost": math.inf},
    {"max_cost": math.nan},
    {"model": ""},
    {"model": "m" * 101},
    {"provider": ""},
    {"providers": ["codex"] * 65},
    {"exclude": [""]},
    {"require_capabilities": ["x" * 101]},
]


@pytest.mark.parametrize("values", OUT_OF_BOUNDS, ids=lambda v: repr(v)[:40])
def test_the_command_line_refuses_what_the_api_refuses(values: dict[str, Any]) -> None:
    """``TaskOptions.checked`` (``ado run``, without pydantic) applies the bounds pydantic
    applies to ``POST /api/tasks``: the same field metadata, two enforcers that agree."""
    from pydantic import ValidationError

    from ado.api.schemas import TASK_CREATE
    from ado.errors import UsageError
    from ado.options import TaskOptions

    with pytest.raises(ValidationError):
        TASK_CREATE.validate_python({"prompt": "p", **values})
    with pytest.raises(UsageError, match=next(iter(values))):
        TaskOptions.checked(**values)


@pytest.mark.parametrize(
    "values",
    [
        {"max_turns": 1},
        {"max_turns": MAX_TURNS},
        {"max_cost": 0.0},
        {"max_cost": MAX_COST_USD},
        {"model": "m" * 100},
        {"providers": ["codex"] * 64},
        {"require_capabilities": ["python"]},
    ],
    ids=lambda v: repr(v)[:40],
)
def test_both_accept_what_is_at_the_bounds(values: dict[str, Any]) -> None:
    from ado.api.schemas import TASK_CREATE
    from ado.options import TaskOptions

    given = TASK_CREATE.validate_python({"prompt": "p", **values})
    assert TaskOptions.choices(given) == TaskOptions.checked(**values)
