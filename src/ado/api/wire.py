"""The store's views in the API's JSON shapes: the one place a view becomes a wire dict.

The routes, the WebSocket messages (``ado.server.live``) and every CLI ``--json`` build their
bodies here, so ``ado status --json`` and ``GET /api/providers`` describe a provider the same
way. The keys are not spelled here: each ``Shape`` takes them, in order, from the response
model of ``ado.api.schemas`` (camelCase aliases), reading the view's attribute of the same
snake_case name unless a field is computed. The dicts hold Python values (``datetime``,
enums); ``dumps`` (pydantic-core, as the API's responses) writes them.

The models' fields are read from ``ado.api._fields``, a table generated from the models
(``scripts/gen_docs.py`` writes it, ``tests/test_docs.py`` fails when it drifts,
``tests/api/test_wire.py`` checks each shape against its model): building the ~45 pydantic
models would cost ``ado status --json`` more than all its queries, and the CLI only needs
their field names. So neither pydantic's models nor FastAPI load for a ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic_core import PydanticSerializationError, to_json

from ado.api._fields import FIELDS
from ado.store.views import duration_s, prompt_excerpt
from ado.vocab import TaskStatus

if TYPE_CHECKING:
    from ado.store.views import EventText

__all__ = [
    "ALERT",
    "ATTEMPT",
    "COOLDOWN",
    "COOLDOWN_ROW",
    "EVENT",
    "PROVIDER",
    "QUOTA",
    "REPORT",
    "REPORT_ROW",
    "STATUS",
    "TASK_DETAIL",
    "TASK_SUMMARY",
    "TOKEN",
    "WORKER",
    "Message",
    "Shape",
    "dumps",
    "event_message",
    "event_message_text",
    "queued_summary",
    "task_message",
]


class Shape:
    """Builds ``model``'s JSON dict from any object with its fields as attributes.

    The builder is compiled once, as a dict display (``{"id": v.id, "durationS": f(v)}``):
    as fast as one written by hand, its keys taken from the model.
    """

    def __init__(self, model: str, **computed: Callable[[Any], Any]) -> None:
        fields = FIELDS[model]
        unknown = set(computed) - {name for _, name in fields}
        if unknown:
            raise TypeError(f"{model} has no field {sorted(unknown)[0]!r}")
        self.model = model
        namespace: dict[str, Any] = {}
        items = []
        for key, name in fields:
            value = f"v.{name}"
            if name in computed:
                namespace[f"_{name}"] = computed[name]
                value = f"_{name}(v)"
            items.append(f"{key!r}: {value}")
        exec(f"def build(v):\n    return {{{', '.join(items)}}}\n", namespace)
        self.build: Callable[[Any], dict[str, Any]] = namespace["build"]

    def __call__(self, view: Any) -> dict[str, Any]:
        return self.build(view)

    def many(self, views: Iterable[Any]) -> list[dict[str, Any]]:
        build = self.build
        return [build(v) for v in views]


def dumps(body: Any, *, indent: int | None = None) -> bytes:
    """JSON as the API writes it (datetimes ISO-8601, enums as their values); a string that
    UTF-8 cannot encode (a lone surrogate) is written with U+FFFD in its place rather than
    failing the answer (``ado.text``)."""
    try:
        return to_json(body, indent=indent)
    except PydanticSerializationError:
        from ado.text import clean_value

        return to_json(clean_value(body, nul=False), indent=indent)


LIMIT = Shape("LimitOut")
ACCESS_MODE = Shape("AccessModeOut", limits=lambda m: LIMIT.many(m.limits))
USAGE_TODAY = Shape("UsageToday")
PROVIDER = Shape(
    "ProviderOut",
    access_modes=lambda p: ACCESS_MODE.many(p.access_modes),
    usage_today=lambda p: USAGE_TODAY(p.usage_today),
)


def _excerpt(t: Any) -> str:
    return prompt_excerpt(t.prompt)[0]


def _cut(t: Any) -> bool:
    return prompt_excerpt(t.prompt)[1]


TASK_SUMMARY = Shape("TaskSummary", duration_s=duration_s, prompt=_excerpt, prompt_truncated=_cut)
ATTEMPT = Shape("AttemptOut", files_changed=lambda a: list(a.files_changed or ()))
TASK_DETAIL = Shape(
    "TaskDetail",
    duration_s=duration_s,
    prompt_truncated=lambda t: False,
    options=lambda t: _options(t.options),
    attempts=lambda t: ATTEMPT.many(t.attempts),
)
EVENT = Shape("EventOut")
ALERT = Shape("AlertOut")
COOLDOWN = Shape("CooldownOut")
COOLDOWN_ROW = Shape("CooldownRow")
REPORT_ROW = Shape("UsageReportRow")
REPORT = Shape("UsageReport", rows=lambda r: REPORT_ROW.many(r.rows))
QUOTA_WINDOW = Shape("QuotaWindowOut")
TOKEN = Shape("TokenOut")
QUOTA = Shape("QuotaOut", windows=lambda q: QUOTA_WINDOW.many(q.windows))
WORKER = Shape(
    "WorkerOut",
    queues=lambda w: list(w.queues),
    running=lambda w: list(w.running),
    heartbeat_age_s=lambda w: max(0.0, (datetime.now(UTC) - w.heartbeat_at).total_seconds()),
)
_TODAY = Shape("StatusToday")
STATUS = Shape(
    "StatusOut",
    providers=lambda s: PROVIDER.many(s.providers),
    recent_tasks=lambda s: TASK_SUMMARY.many(s.recent_tasks),
    today=lambda s: _TODAY(s.today),
)


def _options(stored: dict[str, Any]) -> dict[str, Any]:
    from ado.options import TaskOptions

    data = TaskOptions.from_stored(stored).stored()
    return {key: data[name] for key, name in FIELDS["TaskOptions"] if name in data}


def queued_summary(
    task_id: int, prompt: str, cwd: str, hitl_policy: str, created_at: datetime
) -> dict[str, Any]:
    """The summary of a task just queued (``POST /api/tasks``'s answer)."""
    from ado.store.views import TaskSummaryView

    view = TaskSummaryView(
        id=task_id,
        prompt=prompt,
        cwd=cwd,
        status=TaskStatus.QUEUED,
        hitl_policy=hitl_policy,
        provider=None,
        access_mode=None,
        error=None,
        attempt_count=0,
        created_at=created_at,
        started_at=None,
        finished_at=None,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        cost_usd=0.0,
        api_cost_usd=0.0,
    )
    return TASK_SUMMARY(view)


# -- WebSocket messages (their models: ado.api.schemas, "live messages") ------------------


class Message:
    """A live message (``ado.server.live``): its ``type``, its JSON text written at most
    once however many subscribers send it, and its body as a dict (``message["event"]``).

    Built from a body (``Message({"type": "ping"})``), or from its JSON text
    (``event_message_text``: an event's stored data is sent as it was stored, not decoded
    and written again); either form is made from the other when first asked for.
    """

    __slots__ = ("_body", "_json", "event_id", "type")

    def __init__(
        self,
        body: dict[str, Any] | None = None,
        *,
        text: str | None = None,
        type: str | None = None,
        event_id: int | None = None,
    ) -> None:
        if body is not None:
            type = body["type"]
            event_id = body["event"]["id"] if type == "event" else None
        elif text is None or type is None:
            raise TypeError("a Message needs a body, or its text and type")
        self._body = body
        self._json = text
        #: The message's ``type``, and an ``event`` message's event id.
        self.type: str = type
        self.event_id = event_id

    def json(self) -> str:
        """The message as JSON text (written at the first call, kept for the next ones)."""
        text = self._json
        if text is None:
            text = self._json = dumps(self._body).decode()
        return text

    def event_json(self) -> str:
        """An ``event`` message's event alone, as JSON text: a slice of ``json()``, so an
        event is written once whether it is sent alone or in an ``events`` message."""
        text = self.json()
        assert text.startswith(_EVENT_OPEN), text[:40]
        return text[len(_EVENT_OPEN) : -1]

    def body(self) -> dict[str, Any]:
        """The message as a dict (read from its text the first time, if built from text)."""
        body = self._body
        if body is None:
            body = self._body = json.loads(self.json())
        return body

    def __getitem__(self, key: str) -> Any:
        return self.body()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body().get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            other = other.body()
        return self.body() == other

    __hash__ = None  # type: ignore[assignment]  # mutable body, like a dict

    def __repr__(self) -> str:
        return f"Message({self.json()})"


_EVENT_OPEN = '{"type":"event","event":'
#: An event without its data (``"data":null`` last, replaced by the stored JSON text).
_EVENT_HEAD = Shape("EventOut", data=lambda e: None)
_NULL_DATA = ',"data":null}'
assert FIELDS["EventOut"][-1] == ("data", "data"), "EventOut's data must be its last field"


def event_message(event: Any) -> Message:
    return Message({"type": "event", "event": EVENT(event)})


def event_message_text(event: EventText) -> Message:
    """``event_message`` of an event whose data is still JSON text (``EventText``): the
    text goes into the message as it is."""
    head = dumps(_EVENT_HEAD(event)).decode()
    assert head.endswith(_NULL_DATA), head[-40:]
    text = f'{_EVENT_OPEN}{head[: -len(_NULL_DATA)]},"data":{event.data_json}}}}}'
    return Message(text=text, type="event", event_id=event.id)


def task_message(task: Any) -> Message:
    return Message({"type": "task", "task": TASK_SUMMARY(task)})
