"""One shape per entity: the wire dicts are the response models, the vocabulary is in the
OpenAPI document as enums, the WebSocket's messages are documented there too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from starlette.testclient import TestClient

from ado.api import schemas, wire
from ado.api.schemas import LiveMessage
from ado.config.schema import AdoConfig
from ado.providers.events import AgentEvent, EventKind
from ado.routing.overview import provider_views
from ado.store import Store
from ado.store.browse import TaskQuery
from ado.vocab import AccessMode, HitlPolicy, OutcomeKind, TaskStatus

from .conftest import CONFIG, add_finished_task


def _same(model: type[Any], body: dict[str, Any]) -> None:
    """``body`` validates as ``model`` and has exactly its keys (camelCase), in its order."""
    parsed = model.model_validate(body)
    assert list(body) == list(parsed.model_dump(by_alias=True)), model.__name__


def test_every_shape_is_its_model(store: Store) -> None:
    task_id = add_finished_task(store, events=[AgentEvent(EventKind.TEXT, text="hi")])
    store.set_cooldown(
        "codex",
        "subscription",
        until=datetime.now(UTC) + timedelta(hours=1),
        kind="rate_limited",
        reason="429",
        reset_known=True,
        task_id=task_id,
    )
    task = store.get_task(task_id)
    assert task is not None
    _same(schemas.TaskDetail, wire.TASK_DETAIL(task))
    _same(schemas.TaskSummary, wire.TASK_SUMMARY(task))
    (summary,), _ = store.task_page(TaskQuery())
    _same(schemas.TaskSummary, wire.TASK_SUMMARY(summary))
    _same(schemas.AttemptOut, wire.ATTEMPT(task.attempts[0]))
    (event,) = store.list_events(task_id)
    _same(schemas.EventOut, wire.EVENT(event))
    (cooldown,) = store.cooldowns(datetime.now(UTC))
    _same(schemas.CooldownOut, wire.COOLDOWN(cooldown))
    _same(schemas.CooldownRow, wire.COOLDOWN_ROW(cooldown))
    config = AdoConfig.model_validate(CONFIG)
    for view in provider_views(config.providers, store, datetime.now(UTC)):
        _same(schemas.ProviderOut, wire.PROVIDER(view))
    queued = wire.queued_summary(7, "p", "/", "autonomous", datetime.now(UTC))
    _same(schemas.TaskSummary, queued)
    for message in (wire.event_message(event), wire.task_message(task)):
        TypeAdapter(LiveMessage).validate_json(message.json())
    # The live bus's events keep their stored data as text: the same message, not re-encoded
    (text,) = store.events_since(event.id - 1, limit=1)
    spliced = wire.event_message_text(text)
    TypeAdapter(LiveMessage).validate_json(spliced.json())
    assert json.loads(spliced.json()) == json.loads(wire.event_message(event).json())
    assert spliced["event"]["data"] == event.data
    assert spliced.event_id == event.id and spliced.type == "event"


def test_a_shape_names_only_fields_of_its_model() -> None:
    with pytest.raises(TypeError, match="no field 'nope'"):
        wire.Shape("EventOut", nope=lambda e: 1)


@pytest.mark.parametrize(
    ("enum", "where"),
    [
        (TaskStatus, ["TaskSummary.status", "listTasks?status"]),
        (AccessMode, ["TaskSummary.accessMode", "TaskCreate.accessMode", "AccessModeOut.mode"]),
        (HitlPolicy, ["TaskCreate.hitlPolicy", "HitlSettings.defaultPolicy"]),
        (OutcomeKind, ["AttemptOut.outcome", "CooldownOut.kind"]),
    ],
)
def test_the_vocabulary_is_in_the_openapi_document_as_enums(
    client: TestClient, enum: type[Any], where: list[str]
) -> None:
    document = client.get("/api/openapi.json").json()
    components = document["components"]["schemas"]
    assert components[enum.__name__]["enum"] == [m.value for m in enum]
    ref = f"#/components/schemas/{enum.__name__}"
    for place in where:
        if "?" in place:
            operation, param = place.split("?")
            (op,) = [
                o
                for item in document["paths"].values()
                for o in item.values()
                if o.get("operationId") == operation
            ]
            (schema,) = [p["schema"] for p in op["parameters"] if p["name"] == param]
        else:
            model, field = place.split(".")
            schema = components[model]["properties"][field]
        assert ref in str(schema), f"{place} does not use {enum.__name__}: {schema}"


def test_the_websocket_messages_are_in_the_openapi_document(client: TestClient) -> None:
    components = client.get("/api/openapi.json").json()["components"]["schemas"]
    union = components["LiveMessage"]
    assert union["discriminator"]["propertyName"] == "type"
    kinds = {ref.rsplit("/", 1)[1] for ref in union["discriminator"]["mapping"].values()}
    assert kinds == {
        "HelloMessage",
        "EventMessage",
        "EventsMessage",
        "TaskMessage",
        "ProviderMessage",
        "ResyncMessage",
        "PingMessage",
        "PongMessage",
    }
    for name in kinds:
        assert name in components
    assert set(union["discriminator"]["mapping"]) == {
        "hello",
        "event",
        "events",
        "task",
        "provider",
        "resync",
        "ping",
        "pong",
    }
