"""The Runner in process, one test per rule of the task path, with scripted adapters.

No agent subprocess and no CLI: ``tests/orchestrator/scripted.py`` plays each provider's
events and outcome, so each rule (failover, cooldown, cost checks, cancel) is shown on its
own, with the adversarial case beside it. Every test runs on both front doors of the
store, ``Store`` (the server's) and ``SqlStore`` (``ado run``'s, no SQLAlchemy), on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ado.config.schema import AdoConfig
from ado.options import TaskOptions
from ado.orchestrator import Runner, TaskResult, TaskSpec, TaskUpdate
from ado.orchestrator.compose import Services, build_runner
from ado.orchestrator.hooks import RunnerHooks
from ado.providers.events import EventKind, Usage
from ado.providers.orphans import GROUP_MARK_ENV
from ado.store import SqlStore, Store
from ado.store.methods import SqlMethods
from ado.vocab import OutcomeKind
from tests.orchestrator.scripted import ScriptedAdapters, Step

SUBSCRIPTION = [{"mode": "subscription", "priority": 1}]


def _api(priority: int = 1) -> list[dict[str, Any]]:
    return [{"mode": "api", "priority": priority, "api": {"apiKey": "sk-scripted-test-key"}}]


def config(routing: dict[str, Any] | None = None, **providers: Any) -> AdoConfig:
    """Providers ``claude-code`` (priority 1) and ``codex`` (2) on subscriptions, unless
    given; ``routing`` merged into the section."""
    chosen = providers or {
        "claude-code": {"enabled": True, "accessModes": SUBSCRIPTION},
        "codex": {"enabled": True, "accessModes": [{"mode": "subscription", "priority": 2}]},
    }
    raw: dict[str, Any] = {"version": "1.1", "providers": chosen}
    if routing:
        raw["routing"] = routing
    return AdoConfig.model_validate(raw)


@pytest.fixture(params=["Store", "SqlStore"])
def store(request: pytest.FixtureRequest, store_url: str) -> Iterator[SqlMethods]:
    """Each front door of the store, on SQLite and on PostgreSQL."""
    url = store_url
    full = Store(url)
    full.migrate()
    if request.param == "Store":
        yield full
        full.close()
        return
    full.close()
    light = SqlStore(url)
    yield light
    light.close()


def spec(tmp_path: Path, **options: Any) -> TaskSpec:
    return TaskSpec(prompt="do it", cwd=tmp_path, options=TaskOptions(**options), assume_yes=True)


class Recorder(RunnerHooks):
    def __init__(self) -> None:
        self.updates: list[TaskUpdate] = []
        self.started: list[int] = []
        self.spawned: list[tuple[int, int, int]] = []

    def on_task_start(self, task_id: int, spec: TaskSpec) -> None:
        self.started.append(task_id)

    def on_update(self, update: TaskUpdate) -> None:
        self.updates.append(update)

    def on_spawn(self, task_id: int, attempt: Any, pid: int) -> None:
        self.spawned.append((task_id, attempt.number, pid))

    def kinds(self) -> list[str]:
        return [u.event.kind.value for u in self.updates]


def run(runner: Runner, task: TaskSpec) -> TaskResult:
    return asyncio.run(runner.run(task))


# -- the happy path and the hooks -----------------------------------------------------------


def test_success_is_recorded_and_every_hook_sees_it(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters({"claude-code": [Step.text("hi"), Step.usage(10, 2), Step.ok()]})
    seen = Recorder()
    runner = Runner(config(), store, hooks=[seen], adapters=adapters)
    result = run(runner, spec(tmp_path))
    assert (result.status, result.exit_code, len(result.attempts)) == ("succeeded", 0, 1)
    task = store.get_task(result.task_id)
    assert task is not None and task.status == "succeeded" and task.provider == "claude-code"
    assert task.attempts[0].outcome == "success" and task.attempts[0].agent_pid == 4_000_000
    assert (task.input_tokens, task.output_tokens) == (10, 2)
    assert seen.started == [result.task_id]
    assert seen.spawned == [(result.task_id, 1, 4_000_000)]
    assert seen.kinds()[0] == "attempt_started" and seen.kinds()[-1] == "task_finished"
    stored = [e.kind for e in store.list_events(result.task_id)]
    assert stored == seen.kinds()  # every event shown was stored, in order


def test_attempt_env_of_every_hook_reaches_the_agent(store: SqlMethods, tmp_path: Path) -> None:
    class Env(RunnerHooks):
        def __init__(self, name: str) -> None:
            self.name = name

        def attempt_env(self, task_id: int, attempt: Any) -> dict[str, str]:
            return {self.name: f"{task_id}/{attempt.number}"}

    adapters = ScriptedAdapters({"claude-code": [Step.ok()]})
    runner = Runner(config(), store, hooks=[Env("A_VAR"), Env("B_VAR")], adapters=adapters)
    result = run(runner, spec(tmp_path))
    env = adapters.played("claude-code").requests[0].extra_env
    mark = env.pop(GROUP_MARK_ENV)  # the Runner's own: tells the agent's group from a reused pid
    assert env == {"A_VAR": f"{result.task_id}/1", "B_VAR": f"{result.task_id}/1"}
    assert re.fullmatch(r"[0-9a-f]{16}", mark)
    task = store.get_task(result.task_id)
    assert task is not None
    assert (task.attempts[0].agent_pid, task.attempts[0].agent_mark) == (4_000_000, mark)


def test_build_runner_puts_the_view_before_the_services(store: SqlMethods, tmp_path: Path) -> None:
    order: list[str] = []

    class Named(RunnerHooks):
        def __init__(self, name: str) -> None:
            self.name = name

        def on_update(self, update: TaskUpdate) -> None:
            if update.event.kind is EventKind.TASK_FINISHED:
                order.append(self.name)

    services = Services(notifier=Named("notifier"))
    runner = build_runner(config(), store, services, hooks=[Named("view")])
    runner.adapters = ScriptedAdapters({"claude-code": [Step.ok()]})
    assert run(runner, spec(tmp_path)).status == "succeeded"
    assert order == ["view", "notifier"]


# -- failover and cooldowns -----------------------------------------------------------------


def test_a_rate_limit_cools_the_pair_down_and_fails_over(store: SqlMethods, tmp_path: Path) -> None:
    reset = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    adapters = ScriptedAdapters(
        {"claude-code": [Step.limited(reset)], "codex": [Step.text("ok"), Step.ok()]}
    )
    seen = Recorder()
    result = run(Runner(config(), store, hooks=[seen], adapters=adapters), spec(tmp_path))
    assert result.status == "succeeded"
    assert [(a.provider, a.outcome.kind if a.outcome else None) for a in result.attempts] == [
        ("claude-code", OutcomeKind.RATE_LIMITED),
        ("codex", OutcomeKind.SUCCESS),
    ]
    assert "failover" in seen.kinds()
    (cooldown,) = store.cooldowns(datetime.now(UTC))
    assert (cooldown.provider, cooldown.access_mode) == ("claude-code", "subscription")
    assert cooldown.until == reset and cooldown.reset_known
    assert cooldown.reason == "429 Too Many Requests"
    # The next task skips the cooled-down pair without trying it.
    again = run(Runner(config(), store, adapters=adapters), spec(tmp_path))
    assert [a.provider for a in again.attempts] == ["codex"]
    assert len(adapters.played("claude-code").requests) == 1


def test_a_limit_without_a_reset_time_gets_a_default_cooldown(
    store: SqlMethods, tmp_path: Path
) -> None:
    adapters = ScriptedAdapters({"claude-code": [Step.limited(None)], "codex": [Step.ok()]})
    before = datetime.now(UTC)
    run(Runner(config(), store, adapters=adapters), spec(tmp_path))
    (cooldown,) = store.cooldowns(before)
    assert not cooldown.reset_known and cooldown.until > before


def test_no_failover_when_it_is_off(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters({"claude-code": [Step.limited(None)], "codex": [Step.ok()]})
    cfg = config({"failover": {"enabled": False}})
    result = run(Runner(cfg, store, adapters=adapters), spec(tmp_path))
    assert (result.status, result.exit_code, len(result.attempts)) == ("failed", 1, 1)
    assert adapters.played("codex").requests == []
    assert store.cooldowns(datetime.now(UTC))  # the cooldown is stored all the same


def test_an_error_that_is_not_a_limit_does_not_fail_over(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters(
        {"claude-code": [Step.failed("syntax error")], "codex": [Step.ok()]}
    )
    result = run(Runner(config(), store, adapters=adapters), spec(tmp_path))
    assert result.status == "failed" and "syntax error" in (result.error or "")
    assert adapters.played("codex").requests == []
    assert store.cooldowns(datetime.now(UTC)) == []


def test_max_retries_bounds_the_attempts(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters({"claude-code": [Step.limited(None)], "codex": [Step.ok()]})
    cfg = config({"failover": {"maxRetries": 0}})
    result = run(Runner(cfg, store, adapters=adapters), spec(tmp_path))
    assert len(result.attempts) == 1 and result.status == "failed"


def test_every_provider_limited_is_exit_3(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters(
        {"claude-code": [Step.limited(None)], "codex": [Step.limited(None)]}
    )
    result = run(Runner(config(), store, adapters=adapters), spec(tmp_path))
    assert result.status == "failed" and len(result.attempts) == 2
    again = run(Runner(config(), store, adapters=adapters), spec(tmp_path))
    assert (again.exit_code, again.attempts) == (3, [])


# -- cost checks ----------------------------------------------------------------------------


def test_the_daily_limit_refuses_an_api_run_before_it_starts(
    store: SqlMethods, tmp_path: Path
) -> None:
    store.record_usage(
        provider="claude-code", access_mode="api", task_id=None, attempt_id=None, model=None,
        usage=Usage(input_tokens=1), cost_usd=5.0, api_cost_usd=5.0,
    )  # fmt: skip
    cfg = config(
        {"apiFallback": {"enabled": True, "maxDailyCost": 5.0}},
        **{"claude-code": {"enabled": True, "accessModes": _api()}},
    )
    adapters = ScriptedAdapters({"claude-code": [Step.ok()]})
    result = run(Runner(cfg, store, adapters=adapters), spec(tmp_path))
    assert (result.status, result.exit_code, result.attempts) == ("failed", 4, [])
    assert "daily limit" in (result.error or "")
    assert adapters.played("claude-code").requests == []


def test_under_the_daily_limit_the_api_run_goes_ahead(store: SqlMethods, tmp_path: Path) -> None:
    cfg = config(
        {"apiFallback": {"enabled": True, "maxDailyCost": 5.0}},
        **{"claude-code": {"enabled": True, "accessModes": _api()}},
    )
    adapters = ScriptedAdapters({"claude-code": [Step.ok()]})
    assert run(Runner(cfg, store, adapters=adapters), spec(tmp_path)).exit_code == 0


def test_a_running_api_attempt_over_its_cost_limit_is_stopped(
    store: SqlMethods, tmp_path: Path
) -> None:
    cfg = config(
        {"apiFallback": {"enabled": True, "maxCostPerTask": 10.0}},
        **{"claude-code": {"enabled": True, "accessModes": _api()}},
    )
    huge = Step.usage(50_000_000, 10_000_000)  # dollars' worth at any API price
    adapters = ScriptedAdapters({"claude-code": [Step.text("working"), huge, Step.hang()]})
    result = run(Runner(cfg, store, adapters=adapters), spec(tmp_path, max_cost=0.5))
    assert (result.status, result.exit_code) == ("failed", 4)
    assert adapters.played("claude-code").stopped == [OutcomeKind.COST_LIMIT]
    assert result.attempts[0].outcome is not None
    assert result.attempts[0].outcome.kind is OutcomeKind.COST_LIMIT


def test_a_subscription_run_is_never_stopped_for_cost(store: SqlMethods, tmp_path: Path) -> None:
    huge = Step.usage(50_000_000, 10_000_000)
    adapters = ScriptedAdapters({"claude-code": [huge, Step.ok()]})
    result = run(Runner(config(), store, adapters=adapters), spec(tmp_path, max_cost=0.5))
    assert result.status == "succeeded" and result.cost_usd == 0.0


# -- cancel ---------------------------------------------------------------------------------


def test_cancel_stops_the_running_agent_and_records_it(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters({"claude-code": [Step.text("thinking"), Step.hang()]})

    class FirstText(RunnerHooks):
        def __init__(self) -> None:
            self.seen = asyncio.Event()

        def on_update(self, update: TaskUpdate) -> None:
            if update.event.kind is EventKind.TEXT:
                self.seen.set()

    async def scenario() -> TaskResult:
        first = FirstText()
        runner = Runner(config(), store, hooks=[first], adapters=adapters)
        task = asyncio.create_task(runner.run(spec(tmp_path)))
        await asyncio.wait_for(first.seen.wait(), 30)  # the agent is running
        runner.cancel()
        return await task

    result = asyncio.run(scenario())
    assert (result.status, result.exit_code) == ("cancelled", 130)
    assert adapters.played("claude-code").stopped == [OutcomeKind.CANCELLED]
    task = store.get_task(result.task_id)
    assert task is not None and task.status == "cancelled"
    assert adapters.played("codex").requests == []  # a cancel is not a failover


def test_cancel_before_the_start_runs_no_agent(store: SqlMethods, tmp_path: Path) -> None:
    adapters = ScriptedAdapters({"claude-code": [Step.ok()]})
    runner = Runner(config(), store, adapters=adapters)
    runner.cancel()
    result = run(runner, spec(tmp_path))
    assert (result.status, result.exit_code) == ("cancelled", 130)
    assert adapters.played("claude-code").requests == []


def test_a_cancel_while_the_task_began_stops_its_first_agent(
    store: SqlMethods, tmp_path: Path
) -> None:
    """Adversarial: ``ado run`` begins its task (the first agent spawned) before the event
    loop exists, and a Ctrl-C then is held until the loop runs. The begun attempt must still
    be run, so that its agent is stopped and the attempt recorded cancelled, never left
    running (nor its agent orphaned)."""
    adapters = ScriptedAdapters({"claude-code": [Step.text("thinking"), Step.hang()]})
    runner = Runner(config(), store, adapters=adapters)
    begun = runner.start.begin(spec(tmp_path))
    assert begun.first is not None and begun.first.spawned.pid is not None
    runner.cancel()  # the held Ctrl-C, acted on once the loop runs
    result = asyncio.run(runner.run(begun.spec, begun=begun))
    assert (result.status, result.exit_code) == ("cancelled", 130)
    assert adapters.played("claude-code").stopped == [OutcomeKind.CANCELLED]
    task = store.get_task(result.task_id)
    assert task is not None and task.status == "cancelled"
    assert [a.outcome for a in task.attempts] == ["cancelled"]
    assert adapters.played("codex").requests == []  # a cancel is not a failover


def test_a_task_taken_from_this_process_mid_run_stops_its_agent_and_writes_nothing_more(
    store: SqlMethods, tmp_path: Path
) -> None:
    """The fence, in process: the task is re-queued by whoever took this process as lost
    while its agent runs. The next write is refused (TaskDisowned): the agent is stopped,
    no other attempt starts, nothing more is stored (no attempt end, no task_finished, no
    usage) and the hooks hear of no end, only ``on_task_disowned``."""
    from ado.store.codec import utcnow
    from ado.store.orphans import release_task

    adapters = ScriptedAdapters(
        {"claude-code": [Step.text("thinking"), Step.usage(10, 2), Step.text("more"), Step.hang()]}
    )

    class TakenAtFirstText(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.disowned: list[int] = []

        def on_update(self, update: TaskUpdate) -> None:
            super().on_update(update)
            if update.event.kind is EventKind.TEXT and len(self.kinds()) == 2:
                with store._sql() as sql, sql.transaction(write=True):
                    now = sql.time(utcnow())
                    release_task(sql, update.task_id, now=now, error="lost", requeue=True)

        def on_task_disowned(self, task_id: int) -> None:
            self.disowned.append(task_id)

    seen = TakenAtFirstText()
    runner = Runner(config(), store, hooks=[seen], adapters=adapters)
    # Unfenced, the agent would hang on: bounded, so the test fails rather than hangs.
    result = asyncio.run(asyncio.wait_for(runner.run(spec(tmp_path)), 30))
    assert result.status == "interrupted" and "no longer this process's" in (result.error or "")
    assert seen.disowned == [result.task_id]
    assert seen.kinds() == ["attempt_started", "text"]  # no end announced
    assert [len(adapters.played(p).requests) for p in ("claude-code", "codex")] == [1, 0]
    task = store.get_task(result.task_id)
    assert task is not None and (task.status, task.owner_pid) == ("queued", None)
    assert [a.outcome for a in task.attempts] == ["interrupted"]
    assert [e.kind for e in store.list_events(result.task_id)] == ["attempt_started"]
    assert (task.input_tokens, task.output_tokens) == (0, 0)
    used = store.usage_totals("claude-code", "subscription", task.created_at)
    assert used.requests == 0


def test_a_task_taken_before_its_first_event_is_stored_stops_that_agent(
    store: SqlMethods, tmp_path: Path
) -> None:
    """Adversarial, the fence at the start: the attempt is recorded, then the task is taken
    from this process (re-queued by whoever took it as lost) before the attempt's first
    event is stored, which happens once its agent runs. That write is refused, and the agent
    just spawned, which no runner would ever stop, is killed with its whole group; nothing
    is stored for the task, which is its taker's."""
    import os
    import signal
    import subprocess

    from ado.orchestrator.task import AttemptInfo
    from ado.providers.base import RunRequest
    from ado.providers.spawn import Spawned, spawn
    from ado.store.codec import utcnow
    from ado.store.orphans import release_task

    adapters = ScriptedAdapters({"claude-code": [Step.hang()]})
    started: list[subprocess.Popen[bytes]] = []

    def real_start(request: RunRequest) -> Spawned:
        process = spawn(["sleep", "60"], cwd=str(tmp_path), env={"PATH": os.environ["PATH"]})
        started.append(process)
        return Spawned.of({}, process)

    adapters("claude-code").start = real_start  # type: ignore[method-assign]

    class TakenBeforeTheSpawn(Recorder):
        def attempt_env(self, task_id: int, attempt: AttemptInfo) -> dict[str, str]:
            with store._sql() as sql, sql.transaction(write=True):
                release_task(sql, task_id, now=sql.time(utcnow()), error="lost", requeue=True)
            return {}

    runner = Runner(config(), store, hooks=[TakenBeforeTheSpawn()], adapters=adapters)
    try:
        result = asyncio.run(asyncio.wait_for(runner.run(spec(tmp_path)), 30))
        assert result.status == "interrupted"
        [process] = started
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
    task = store.get_task(result.task_id)
    assert task is not None and (task.status, task.owner_pid) == ("queued", None)
    assert store.list_events(result.task_id) == []
