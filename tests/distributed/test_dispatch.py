"""The two ends of a message, in process, on a real Redis and a real store: what the server's
dispatcher sends (and sends again), and what a worker's pool does with a message whose task
is no longer waiting."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import pytest
import redis

from ado.config.schema import AdoConfig
from ado.distributed.app import make_app
from ado.distributed.dispatch import Dispatcher
from ado.server.workers import WorkerPool
from ado.store import Store
from tests.fixtures.redis import RedisServer
from tests.support import wait_for_async


def _config(broker: str, **orchestration: Any) -> AdoConfig:
    return AdoConfig.model_validate(
        {"version": "1.1", "orchestration": {"broker": broker, **orchestration}}
    )


def _queue(store: Store, **options: Any) -> int:
    return store.create_task(
        prompt="p", cwd="/", hitl_policy="autonomous", options=options, status="queued"
    )


def _messages(server: RedisServer, queue: str) -> list[int]:
    """The task ids of the messages waiting in ``queue`` (Celery's message protocol 2: the
    body is base64 JSON ``[args, kwargs, embed]``)."""
    raw = redis.Redis(port=server.port).lrange(queue, 0, -1)
    return sorted(json.loads(base64.b64decode(json.loads(m)["body"]))[0][0] for m in raw)


def _dispatcher(store: Store, config: AdoConfig, **kwargs: Any) -> Dispatcher:
    return Dispatcher(store, lambda: config, app=make_app(config), **kwargs)


def test_each_waiting_task_is_sent_once_to_its_queue(
    store: Store, redis_server: RedisServer
) -> None:
    config = _config(redis_server.url, routes={"codex": "codexes"})
    plain, routed = _queue(store), _queue(store, provider="codex")
    listed = _queue(store, providers=["codex", "claude-code"])
    dispatcher = _dispatcher(store, config)
    assert dispatcher.dispatch() == 3
    assert dispatcher.dispatch() == 0  # already sent, and the queue still holds them
    assert _messages(redis_server, "ado") == [plain]
    assert _messages(redis_server, "codexes") == [routed, listed]
    assert store.claim_task(plain)
    later = _queue(store)
    assert dispatcher.dispatch() == 1
    assert _messages(redis_server, "ado") == [plain, later]  # the claimed task's message stays


def test_a_lost_message_is_sent_again_and_only_then(
    store: Store, redis_server: RedisServer
) -> None:
    config = _config(redis_server.url)
    first, second = _queue(store), _queue(store)
    dispatcher = _dispatcher(store, config, lost_after=0, sweep_interval=0)
    assert dispatcher.dispatch() == 2
    # Both messages are in the queue: nothing is sent again, however long they wait.
    assert dispatcher.dispatch() == 0
    redis.Redis(port=redis_server.port).delete("ado")  # Redis lost them
    assert store.claim_task(first)  # taken meanwhile: no longer needs a message
    assert dispatcher.dispatch() == 1
    assert _messages(redis_server, "ado") == [second]


def test_a_waiting_task_is_resent_after_the_visibility_timeout_whatever_the_queue_holds(
    store: Store, redis_server: RedisServer
) -> None:
    config = _config(redis_server.url, visibilityTimeout=1)
    task_id = _queue(store)
    dispatcher = _dispatcher(store, config, lost_after=0, sweep_interval=0)
    assert dispatcher.dispatch() == 1
    dispatcher._sent[task_id] = ("ado", dispatcher._sent[task_id][1] - 2)  # sent 2 s ago
    assert dispatcher.dispatch() == 1
    assert _messages(redis_server, "ado") == [task_id, task_id]


async def test_a_message_for_a_task_no_longer_waiting_starts_nothing(store: Store) -> None:
    config = AdoConfig.model_validate({"version": "1.1"})
    claimed, cancelled, finished = _queue(store), _queue(store), _queue(store)
    assert store.claim_task(claimed)
    assert store.cancel_queued(cancelled)
    store.finish_task(finished, status="succeeded", exit_code=0)
    pool = WorkerPool(store, lambda: config, concurrency=2, claims=False)
    pool.start()
    await pool.ready()
    try:
        for task_id in (claimed, cancelled, finished, 10**9):
            assert await pool.run_task(task_id) == "taken"
        assert pool.running == []
    finally:
        await pool.stop(1)
    queued = _queue(store)
    assert await pool.run_task(queued) == "stopping"  # back to the broker, still queued
    (task,) = store.tasks_by_id([queued])
    assert task.status == "queued"


async def test_a_running_dispatcher_sends_a_task_when_woken(
    store: Store, redis_server: RedisServer
) -> None:
    dispatcher = _dispatcher(store, _config(redis_server.url), sweep_interval=60)
    dispatcher.start()
    await dispatcher.ready()
    try:
        task_id = _queue(store)
        dispatcher.wake()  # not the sweep: it comes in a minute
        await wait_for_async(lambda: _messages(redis_server, "ado") == [task_id], 10, what="sent")
    finally:
        await dispatcher.stop()


async def test_a_dispatcher_started_while_the_broker_is_down_sends_once_it_is_up(
    store: Store, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    redis_server.stop()
    dispatcher = _dispatcher(store, _config(redis_server.url), sweep_interval=0.2)
    task_id = _queue(store)
    with caplog.at_level(logging.INFO, logger="ado.distributed"):
        dispatcher.start()
        await dispatcher.ready()
        try:
            await wait_for_async(
                lambda: "cannot send the queued tasks" in caplog.text, 30, what="a failed send"
            )
            assert "cannot connect to the broker yet" in caplog.text  # its warm-up failed
            await asyncio.to_thread(redis_server.start)
            await wait_for_async(
                lambda: _messages(redis_server, "ado") == [task_id], 30, what="the message"
            )
        finally:
            await dispatcher.stop()
