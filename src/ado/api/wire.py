"""The store's views in the API's JSON shapes: the one place a view becomes a wire dict.

The routes, the WebSocket messages (``ado.server.live``) and every CLI ``--json`` build their
bodies here, so ``ado status --json`` and ``GET /api/providers`` describe a provider the same
way. The keys are not spelled here: each ``Shape`` takes them, in order, from the response
model of ``ado.api.schemas`` (camelCase aliases), reading the view's attribute of the same
snake_case name unless a field is computed. The dicts hold Python values (``datetime``,
enums); ``dumps`` (pydantic-core, as the API's responses) writes them.

No FastAPI here: the CLI imports this module (pydantic it has already loaded for the
configuration). ``tests/api/test_wire.py`` validates each shape against its model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json

from ado.api import schemas
from ado.options import TaskOptions
from ado.vocab import TaskStatus

__all__ = [
    "ATTEMPT",
    "COOLDOWN",
    "EVENT",
    "PROVIDER",
    "REPORT",
    "REPORT_ROW",
    "STATUS",
    "TASK_DETAIL",
    "TASK_SUMMARY",
    "Shape",
    "dumps",
    "event_message",
    "queued_summary",
    "task_message",
]


class Shape:
    """Builds ``model``'s JSON dict from any object with its fields as attributes.

    The builder is compiled once, as a dict display (``{"id": v.id, "durationS": f(v)}``):
    as fast as one written by hand, its keys taken from the model.
    """

    def __init__(self, model: type[BaseModel], **computed: Callable[[Any], Any]) -> None:
        fields = model.model_fields
        unknown = set(computed) - set(fields)
        if unknown:
            raise TypeError(f"{model.__name__} has no field {sorted(unknown)[0]!r}")
        self.model = model
        namespace: dict[str, Any] = {}
        items = []
        for name, field in fields.items():
            value = f"v.{name}"
            if name in computed:
                namespace[f"_{name}"] = computed[name]
                value = f"_{name}(v)"
            items.append(f"{field.alias or name!r}: {value}")
        exec(f"def build(v):\n    return {{{', '.join(items)}}}\n", namespace)
        self.build: Callable[[Any], dict[str, Any]] = namespace["build"]

    def __call__(self, view: Any) -> dict[str, Any]:
        return self.build(view)

    def many(self, views: Iterable[Any]) -> list[dict[str, Any]]:
        build = self.build
        return [build(v) for v in views]


def dumps(body: Any, *, indent: int | None = None) -> bytes:
    """JSON as the API writes it (datetimes ISO-8601, enums as their values)."""
    return to_json(body, indent=indent)


def _duration(t: Any) -> float | None:
    if t.started_at is None or t.finished_at is None:
        return None
    seconds: float = (t.finished_at - t.started_at).total_seconds()
    return round(seconds, 3)


LIMIT = Shape(schemas.LimitOut)
ACCESS_MODE = Shape(schemas.AccessModeOut, limits=lambda m: LIMIT.many(m.limits))
USAGE_TODAY = Shape(schemas.UsageToday)
PROVIDER = Shape(
    schemas.ProviderOut,
    access_modes=lambda p: ACCESS_MODE.many(p.access_modes),
    usage_today=lambda p: USAGE_TODAY(p.usage_today),
)
TASK_SUMMARY = Shape(schemas.TaskSummary, duration_s=_duration)
ATTEMPT = Shape(schemas.AttemptOut, files_changed=lambda a: list(a.files_changed or ()))
TASK_DETAIL = Shape(
    schemas.TaskDetail,
    duration_s=_duration,
    options=lambda t: TaskOptions.from_stored(t.options).wire(),
    attempts=lambda t: ATTEMPT.many(t.attempts),
)
EVENT = Shape(schemas.EventOut)
COOLDOWN = Shape(schemas.CooldownOut)
REPORT_ROW = Shape(schemas.UsageReportRow)
REPORT = Shape(schemas.UsageReport, rows=lambda r: REPORT_ROW.many(r.rows))
_TODAY = Shape(schemas.StatusToday)
STATUS = Shape(
    schemas.StatusOut,
    providers=lambda s: PROVIDER.many(s.providers),
    recent_tasks=lambda s: TASK_SUMMARY.many(s.recent_tasks),
    today=lambda s: _TODAY(s.today),
)


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


def event_message(event: Any) -> dict[str, Any]:
    return {"type": "event", "event": EVENT(event)}


def task_message(task: Any) -> dict[str, Any]:
    return {"type": "task", "task": TASK_SUMMARY(task)}
