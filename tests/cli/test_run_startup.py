"""``ado run`` starts its agent at once: what it imports before the spawn.

The path from exec to the agent's spawn (≤ 150 ms, ``bench/run_spawn.py``) must not import
SQLAlchemy or Alembic (the task is written through the plain-SQL ``SqlStore``), the price
table, the notification channels, FastAPI or OpenTelemetry (when off, only the check that
it is off runs), nor asyncio and the Runner (the task's start is synchronous:
``ado.orchestrator.start``); those load after the spawn, or never. Once the configuration is cached
(``ado.config.cache``: every run after the first), neither the configuration's models nor
ruamel.yaml load before the spawn, and neither do pydantic (the task's options,
``ado.options.TaskOptions``, are a plain class) nor Rich, nor ``dataclasses``. A real ``ado run``
process with a real agent: the spawn is observed by wrapping ``AgentAdapter.start``, which
lists the modules loaded at that moment. The cache's invalidation is tested in
``test_run_config_cache.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.ado import Project
from tests.store.test_tasks import dead_pid

#: Top-level packages and ADO modules that must not be loaded when the agent is spawned.
NOT_BEFORE_SPAWN = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "opentelemetry",
    "ado.telemetry.setup",  # telemetry off: export_enabled decides it without loading setup
    "genai_prices",
    "httpx",
    "ado.pricing",
    "ado.store.database",
    "ado.store.models",
    "ado.notifications.manager",
    "ado.notifications.channels",
    "prometheus_client",
    "asyncio",
    "ado.orchestrator.runner",
    "ado.orchestrator.attempt",
    "ado.providers.run",
    # the task, attempt, event and worker views: routing reads only ado.store.limit_views
    "ado.store.views",
)
#: Not loaded either when the validated configuration comes from the cache (``shutil``
#: loads the zlib, bz2 and lzma libraries: ``ado.providers.spawn.which`` finds the agent).
NOT_BEFORE_SPAWN_CACHED = (
    "ruamel",
    "rich",
    "ado.config.schema",
    "pydantic",
    "pydantic_core",
    "shutil",
    # Python 3.11's pathlib loads urllib.parse, which loads ipaddress: ~9 ms (the
    # configuration's and the store's paths are str, handled with os.path)
    "pathlib",
    "urllib",
    "ipaddress",
    "fnmatch",
    "dataclasses",  # ado.options builds no dataclass (they compile their methods at import)
    "copy",  # the saved layer is only read
)

#: ``ado``'s entry point, with the agent's spawn observed: the modules loaded then, and
#: whether the garbage collector runs (paused while ADO loads: ``ado.startup``); and whether
#: it runs again at the end.
_RUN_AND_LIST_AT_SPAWN = """
import atexit, gc, json, sys
from ado.providers import base
start = base.AgentAdapter.start
def spy(self, request):
    if not hasattr(spy, "seen"):
        spy.seen = sorted(sys.modules)
        print("AT-SPAWN " + json.dumps(spy.seen), file=sys.stderr, flush=True)
        print("GC-AT-SPAWN " + json.dumps(gc.isenabled()), file=sys.stderr, flush=True)
    return start(self, request)
base.AgentAdapter.start = spy
atexit.register(lambda: print("GC-AT-EXIT " + json.dumps(gc.isenabled()), file=sys.stderr))
from ado.startup import main
sys.argv = ["ado", *sys.argv[1:]]
sys.exit(main())
"""


def _python(
    project: Project, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``script`` run by a Python of its own in the project, with ``args``."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=project.root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _modules_at_spawn(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> tuple[list[str], dict[str, Any]]:
    done = _python(project, _RUN_AND_LIST_AT_SPAWN, "run", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("AT-SPAWN ")]
    assert len(lines) == 1, done.stderr
    # the collector, paused while ADO loaded, runs again once the agent has spawned
    assert "GC-AT-SPAWN false" in done.stderr.splitlines(), done.stderr
    assert "GC-AT-EXIT true" in done.stderr.splitlines(), done.stderr
    modules: list[str] = json.loads(lines[0].removeprefix("AT-SPAWN "))
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return modules, summary


def _loaded(modules: list[str], names: tuple[str, ...] = NOT_BEFORE_SPAWN) -> list[str]:
    return sorted(
        name for name in names if any(m == name or m.startswith(name + ".") for m in modules)
    )


def _created_store(project: Project) -> None:
    (project.root / ".ado").mkdir(exist_ok=True)
    project.store().close()  # created and migrated, as any earlier run leaves it


@pytest.mark.parametrize("notifications", [False, True], ids=["plain", "webhook-on"])
def test_run_spawns_before_loading_the_orm_prices_and_notifiers(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], notifications: bool
) -> None:
    sections: dict[str, Any] = {}
    if notifications:  # a channel enabled: its manager is built after the spawn
        sections["notifications"] = {
            "channels": {"webhook": {"enabled": True, "url": "http://127.0.0.1:9/hook"}},
            "delivery": {"timeout": 0.5, "retries": 0},
        }
    project.write_config({"cursor-agent": fake_cursor()}, **sections)
    _created_store(project)
    modules, summary = _modules_at_spawn(project, "say hi")  # validates, fills the cache
    assert summary["status"] == "succeeded"
    assert _loaded(modules) == []
    modules, summary = _modules_at_spawn(project, "say hi")
    assert summary["status"] == "succeeded"
    assert _loaded(modules, NOT_BEFORE_SPAWN + NOT_BEFORE_SPAWN_CACHED) == []
    assert "ado.store.sqlstore" in modules  # the task went through the plain-SQL store
    store = project.store()
    try:
        task = store.get_task(summary["taskId"])
        assert task is not None and task.status == "succeeded"
        assert task.attempts[0].outcome == "success" and task.input_tokens > 0
        assert task.api_cost_usd > 0  # the prices loaded after the spawn were applied
    finally:
        store.close()


def test_a_first_run_creates_the_store_with_the_orm(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    """Adversarial: no database yet. The plain-SQL store never creates or migrates one, so
    the first run opens the full store (and migrates) and still runs the task."""
    project.write_config({"cursor-agent": fake_cursor()})
    modules, summary = _modules_at_spawn(project, "first")
    assert summary["status"] == "succeeded"
    assert "sqlalchemy" in {m.split(".")[0] for m in modules}


#: The module that still defines generated classes before the spawn: the three views routing
#: reads before it (``ado.store.limit_views``), named tuples as every view of the store.
_GENERATED_STILL = ("ado.store.limit_views",)


def _generated(cls: type) -> bool:
    """A ``NamedTuple`` or a ``@dataclass``: its methods generated from source, its
    annotations evaluated (docs/performance.md, exec → spawn), where an ``ado.records.Record``
    costs nothing to define."""
    named_tuple = issubclass(cls, tuple) and hasattr(cls, "_fields")
    return named_tuple or "__dataclass_fields__" in cls.__dict__


def test_no_named_tuple_or_dataclass_is_defined_before_the_spawn(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    import importlib

    project.write_config({"cursor-agent": fake_cursor()})
    _created_store(project)
    _modules_at_spawn(project, "say hi")  # fills the configuration's cache
    modules, summary = _modules_at_spawn(project, "say hi")
    assert summary["status"] == "succeeded"
    ours = [m for m in modules if m.split(".")[0] == "ado" and m not in _GENERATED_STILL]
    assert "ado.routing.router" in ours and "ado.providers.spawn" in ours
    generated = [
        f"{name}.{value.__name__}"
        for name in ours
        for value in vars(importlib.import_module(name)).values()
        if isinstance(value, type) and value.__module__ == name and _generated(value)
    ]
    assert generated == []


def test_generated_classes_are_told_from_records() -> None:
    """Adversarial: the check above finds a NamedTuple and a dataclass, and passes a record,
    a plain tuple subclass and a subclass of a dataclass defined elsewhere."""
    import dataclasses
    from typing import NamedTuple

    from ado.records import Record

    class Pair(NamedTuple):
        a: int

    @dataclasses.dataclass
    class Point:
        x: int

    class Kept(Record):
        __slots__ = ("a",)

    class Plain(tuple[int, int]):
        pass

    class Moved(Point):  # nothing generated for it: its methods are Point's
        pass

    assert _generated(Pair) and _generated(Point)
    assert not _generated(Kept) and not _generated(Plain) and not _generated(Moved)


_COLLECTOR_DURING = """
import atexit, gc, json, sys
from ado.cli import status
command = status.status.callback
def spy(*args, **kwargs):
    print("GC-IN-COMMAND " + json.dumps(gc.isenabled()), file=sys.stderr, flush=True)
    return command(*args, **kwargs)
status.status.callback = spy
from ado.startup import main
sys.argv = ["ado", "status"]
sys.exit(main())
"""


def test_other_commands_run_with_the_collector(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    """The collector is paused only while ADO loads: a command's own work runs with it (a
    long ``ado serve`` or ``ado worker`` must never run without it)."""
    project.write_config({"cursor-agent": fake_cursor()})
    _created_store(project)
    done = _python(project, _COLLECTOR_DURING)
    assert done.returncode == 0, done.stderr
    assert "GC-IN-COMMAND true" in done.stderr.splitlines(), done.stderr


def test_a_run_that_spawns_nothing_runs_with_the_collector(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    """Adversarial: ``ado run`` whose provider does not exist never spawns; the collector
    runs again all the same (``--wait`` could keep such a run alive for hours)."""
    project.write_config(
        {"cursor-agent": {**fake_cursor(), "command": "/nonexistent/cursor-agent"}}
    )
    _created_store(project)
    done = _python(project, _RUN_AND_LIST_AT_SPAWN, "run", "--json", "say hi")
    assert "AT-SPAWN" not in done.stderr
    assert "GC-AT-EXIT true" in done.stderr.splitlines(), done.stderr


#: ``ado``'s entry point, with the status of task ``$ORPHAN`` read when the agent spawns.
_ORPHAN_AT_SPAWN = """
import os, sqlite3, sys
from ado.providers import base
start = base.AgentAdapter.start
def spy(self, request):
    if not hasattr(spy, "seen"):
        spy.seen = True
        db = sqlite3.connect(".ado/state.db")
        ((status,),) = db.execute(
            "SELECT status FROM tasks WHERE id = ?", (int(os.environ["ORPHAN"]),)
        ).fetchall()
        db.close()
        print("ORPHAN-AT-SPAWN " + status, file=sys.stderr, flush=True)
    return start(self, request)
base.AgentAdapter.start = spy
from ado.startup import main
sys.argv = ["ado", *sys.argv[1:]]
sys.exit(main())
"""


def test_a_run_marks_orphans_interrupted_once_its_agent_has_spawned(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    """Adversarial: a task left running by an ``ado run`` that is gone. The next run marks it
    interrupted all the same, but after its own agent has spawned (off the exec → spawn
    path): nothing it does before the spawn reads running tasks."""
    project.write_config({"cursor-agent": fake_cursor()})
    _created_store(project)
    store = project.store()
    try:
        orphan = store.create_task(
            prompt="left running", cwd=str(project.root), hitl_policy="autonomous", options={}
        )
        store.update_task(orphan, owner_pid=dead_pid())
    finally:
        store.close()
    done = _python(
        project, _ORPHAN_AT_SPAWN, "run", "--json", "say hi", env={"ORPHAN": str(orphan)}
    )
    assert done.returncode == 0, done.stderr
    assert "ORPHAN-AT-SPAWN running" in done.stderr.splitlines(), done.stderr
    task = project.task(orphan)
    assert task.status == "interrupted" and task.error is not None
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "succeeded"
