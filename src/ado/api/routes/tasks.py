"""``/api/tasks``: list (filters, keyset pagination, sort), queue, show, events, cancel."""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.datastructures import State
from starlette.responses import Response

from ado.api import wire
from ado.api.deps import PoolDep, StoreDep, quick_read
from ado.api.params import BODY_ERRORS, NO_NUL, AfterId, IsoTime, TaskId
from ado.api.responses import json_response
from ado.api.schemas import (
    TASK_CREATE,
    CancelResult,
    ErrorResponse,
    EventPage,
    TaskCreate,
    TaskDetail,
    TaskPage,
    TaskSummary,
)
from ado.errors import ApiError, TaskNotFound, UnknownProviderError
from ado.options import TaskOptions
from ado.store.browse import SORTS, NewTask, TaskQuery
from ado.store.ids import MAX_ID
from ado.text import lone_surrogate_at, prompt_size_error
from ado.vocab import HitlPolicy, TaskStatus

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

Sort = Literal["-createdAt", "createdAt", "-costUsd", "-durationS"]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}}


@router.get("", operation_id="listTasks", response_model=TaskPage)
async def list_tasks(
    store: StoreDep,
    status: Annotated[TaskStatus | None, Query(description="Only tasks in this status.")] = None,
    provider: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL, description="Only tasks run by this provider."),
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=500, pattern=NO_NUL, description="Text searched for in the prompt."),
    ] = None,
    since: Annotated[IsoTime | None, Query(description="Created at or after (ISO-8601).")] = None,
    until: Annotated[IsoTime | None, Query(description="Created before (ISO-8601).")] = None,
    cursor: Annotated[str | None, Query(description="`nextCursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    sort: Annotated[Sort, Query()] = "-createdAt",
) -> Response:
    """Tasks, newest first by default, one page at a time (keyset pagination: pages stay
    stable while tasks are added)."""
    query = TaskQuery(
        status=status,
        provider=provider,
        text=q or None,
        since=_utc(since),
        until=_utc(until),
        sort=sort,
        after=_decode_cursor(cursor, sort) if cursor else None,
        limit=limit,
    )
    tasks, after = await quick_read(store, store.task_page, query)
    return json_response(
        {
            "items": wire.TASK_SUMMARY.many(tasks),
            "nextCursor": _encode_cursor(sort, after) if after else None,
        }
    )


@router.post(
    "",
    operation_id="createTask",
    status_code=201,
    response_model=TaskSummary,
    responses=BODY_ERRORS,
)
async def create_task(body: TaskCreate, request: Request) -> Response:
    """Queue a task; the server's worker pool runs it as ``ado run`` would."""
    # The fast path's JSON parser refuses lone surrogates ("\ud83d") outright; the route's
    # (json.loads) lets them through: refused here, naming the field.
    where = lone_surrogate_at(TASK_CREATE.dump_python(body, by_alias=True, exclude_defaults=True))
    if where is not None:
        raise ApiError.invalid(where, "not valid Unicode text (a lone UTF-16 surrogate)")
    return json_response(await queue_task(request.app.state, body), 201)


async def queue_task(state: State, body: TaskCreate) -> dict[str, Any]:
    """Check ``body`` (ApiError naming the field), store the task as queued (group commit,
    ``ado.api.writer``), wake the worker pool; the task's summary. Shared by the route and
    ``ado.api.fastpath``."""
    from ado.text import clean_text

    if body.provider and body.providers:
        raise ApiError.invalid("providers", "give either provider or providers, not both")
    config = await state.config_loader.aget()
    for field, name in body.provider_names():
        if name not in config.providers:
            raise UnknownProviderError(name, config.providers, field=field)
    if (
        too_long := prompt_size_error(body.prompt, config.orchestration.max_prompt_bytes)
    ) is not None:
        raise ApiError.invalid("prompt", too_long)
    cwd = state.default_cwd
    if body.cwd is not None:
        roots = config.server.allowed_roots
        base = state.config_loader.loaded.base_dir
        cwd = await anyio.to_thread.run_sync(_directory, cwd, body.cwd, roots, base)
    policy = body.hitl_policy or config.hitl.default_policy
    chosen = TaskOptions.choices(body)
    chosen.hitl_policy = HitlPolicy(policy)
    options = chosen.stored()
    now = datetime.now(UTC)
    task = NewTask(
        prompt=clean_text(body.prompt),  # a NUL or a lone surrogate: U+FFFD, as agent text
        cwd=cwd,
        hitl_policy=policy,
        options=options,
        created_at=now,
    )
    task_id = await state.task_writer.create(task)
    pool = getattr(state, "pool", None)
    if pool is not None:
        pool.wake()
    return wire.queued_summary(task_id, task.prompt, task.cwd, policy, now)


@router.get("/{task_id}", operation_id="getTask", response_model=TaskDetail, responses=NOT_FOUND)
def get_task(task_id: TaskId, store: StoreDep) -> Response:
    """A task with its attempts (provider, access mode, why chosen, how it ended)."""
    task = store.get_task(task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return json_response(wire.TASK_DETAIL(task))


@router.get(
    "/{task_id}/events",
    operation_id="listTaskEvents",
    response_model=EventPage,
    responses=NOT_FOUND,
)
def list_task_events(
    task_id: TaskId,
    store: StoreDep,
    after: AfterId = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Response:
    """The task's event log, oldest first, ``limit`` at a time."""
    events = store.list_events(task_id, after_id=after, limit=limit + 1)
    if not events and store.get_task(task_id) is None:
        raise TaskNotFound(task_id)
    page = events[:limit]
    return json_response(
        {
            "items": wire.EVENT.many(page),
            "nextAfter": page[-1].id if len(events) > limit else None,
        }
    )


@router.post(
    "/{task_id}/cancel",
    operation_id="cancelTask",
    status_code=202,
    response_model=CancelResult,
    responses={**NOT_FOUND, 409: {"model": ErrorResponse}},
)
async def cancel_task(task_id: TaskId, store: StoreDep, pool: PoolDep) -> Response:
    """Cancel a queued or running task, wherever it runs. 409 when it already finished."""
    from ado.orchestrator.cancel import cancel_task as cancel

    status = await cancel(store, pool, task_id)
    return json_response({"id": task_id, "status": status}, 202)


def _directory(default: str, given: str, roots: list[str], project: Path) -> str:
    """``given`` (relative to ``default``) as a real path inside one of ``roots``
    (``server.allowedRoots``, relative to the project directory; none: the project
    directory), symbolic links resolved; ApiError naming ``cwd`` otherwise."""
    if "\0" in given:
        raise ApiError.invalid("cwd", "a path cannot contain NUL")
    path = os.path.realpath(os.path.join(default, given))
    if not os.path.isdir(path):
        raise ApiError.invalid("cwd", f"no such directory: {given}")
    allowed = [os.path.realpath(os.path.join(project, r)) for r in roots or ["."]]
    if not any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in allowed):
        raise ApiError.invalid(
            "cwd",
            f"{given} is outside the directories tasks may run in: {', '.join(allowed)} "
            "(server.allowedRoots)",
        )
    return path


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _encode_cursor(sort: str, after: tuple[Any, int]) -> str:
    key, last_id = after
    if isinstance(key, datetime):
        key = key.isoformat()
    raw = json.dumps([sort, key, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, key, last_id = json.loads(raw)
        if cursor_sort not in SORTS or not _is_id(last_id):
            raise ValueError
        if SORTS[cursor_sort][0] == "created_at":
            key = _utc(datetime.fromisoformat(key))
        elif isinstance(key, bool) or not isinstance(key, int | float):
            raise ValueError
        else:  # a float column: any finite number, as a float (an int may not fit 64 bits)
            key = float(key)
            if not math.isfinite(key):
                raise ValueError
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError):
        raise ApiError.invalid("cursor", "not a cursor this API returned") from None
    if cursor_sort != sort:
        raise ApiError.invalid("cursor", f"the cursor is for sort={cursor_sort}, not {sort}")
    return key, last_id
