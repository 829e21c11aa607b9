"""``ado status`` starts lean: once the configuration is cached (``ado.config.cache``, filled
by any earlier command that validated it), the table is printed without pydantic, the
configuration's models, ruamel.yaml or SQLAlchemy, and says exactly what the validated
configuration says: the same table, the limits counted over the same windows (a
``resetTime`` read from the cached string), the switches saved through the API marked
``(saved)``, an edit of the file seen at once. ``--json`` (every switch's layer: file or
default) still validates the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from ado.config.cache import cache_dir
from ado.config.overrides import SETTINGS_KEY, SWITCHES_KEY
from ado.routing.limits import reset_hour_minute
from tests.cli.helpers import run_json
from tests.fixtures.ado import FakeCursor, Project

#: Not loaded by ``ado status`` (the table) once the configuration is cached.
NOT_LOADED = (
    "pydantic",
    "pydantic_core",
    "ado.config.schema",
    "ruamel",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "asyncio",
    "importlib.metadata",  # the adapters' entry points: ado.providers.listing
)

_STATUS_AND_LIST_MODULES = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
from ado.cli import main
main(sys.argv[1:])
"""


def run_reporting(
    project: Project, code: str, *args: str, marker: str, env: dict[str, str] | None = None
) -> tuple[str, Any]:
    """``python -c code *args`` in the project (exit 0; 200 columns: no cell cut short): its
    output, and the JSON it printed on stderr after ``marker``."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=project.root,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith(marker))
    return done.stdout, json.loads(line.removeprefix(marker))


def _status(project: Project, *args: str) -> tuple[str, list[str]]:
    """``ado status`` (exit 0): its output, and the modules loaded when it exits."""
    out, modules = run_reporting(
        project, _STATUS_AND_LIST_MODULES, "status", *args, marker="MODULES "
    )
    return out, modules


def _loaded(modules: list[str], names: tuple[str, ...] = NOT_LOADED) -> list[str]:
    return sorted({n for n in names for m in modules if m == n or m.startswith(n + ".")})


def _limited(agent: dict[str, Any], reset: str = "00:00 UTC", **limits: int) -> dict[str, Any]:
    agent["accessModes"][0]["subscription"] = {"rateLimits": limits, "resetTime": reset}
    return agent


def test_the_cached_table_is_the_validated_one_without_pydantic(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config(
        {"cursor-agent": _limited(fake_cursor(), "13:45 UTC", requestsPerDay=9, requestsPerHour=4)}
    )
    run_json(project, "count me")  # a usage record the limits count (and the cache filled)
    shutil.rmtree(cache_dir())
    validated, first = _status(project)  # validates the file, fills the cache again
    assert "ado.config.schema" in first
    cached, second = _status(project)
    assert _loaded(second) == []
    assert cached == validated
    assert "1/4 requestsPerHour" in cached and "1/9 requestsPerDay" in cached
    assert "count me" in cached and "Today: 1 succeeded" in cached


def test_an_edit_of_the_file_is_seen_at_once(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": _limited(fake_cursor(), requestsPerDay=5)})
    run_json(project, "a task")
    _status(project)
    assert "1/5 requestsPerDay" in _status(project)[0]
    project.write_config({"cursor-agent": _limited(fake_cursor(priority=7), requestsPerDay=6)})
    out, _ = _status(project)
    assert "1/6 requestsPerDay" in out and "subscription (p7)" in out
    assert "1/5 requestsPerDay" not in out


def test_switches_saved_through_the_api_are_marked_on_the_cached_path(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    run_json(project, "a task")
    _status(project)  # cached from here on
    store = project.store()
    try:
        store.set_value(
            SWITCHES_KEY,
            {"cursor-agent": {"enabled": False, "accessModes": {"subscription": {"priority": 3}}}},
        )
        out, modules = _status(project)
        row = next(line for line in out.splitlines() if "cursor-agent" in line)
        assert "no (saved)" in row and "subscription (p3)" in row
        assert "(saved): switched in the dashboard or the API" in out
        # the saved layer is applied to the models (``resolve``); the file itself is not
        # read again
        assert _loaded(modules, ("ruamel",)) == []
        # settings saved too (merged into the models: a cached configuration is turned into
        # them first)
        store.set_value(SETTINGS_KEY, {"routing": {"strategy": "round-robin"}})
        again, _ = _status(project)
        assert again == out
        store.set_value(SETTINGS_KEY, {})
        store.set_value(SWITCHES_KEY, {})
        out, modules = _status(project)
        assert "(saved)" not in out and "subscription (p1)" in out
        assert _loaded(modules) == []
    finally:
        store.close()


def test_the_json_still_tells_file_from_default(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    _status(project)
    data = json.loads(_status(project, "--json")[0])
    cursor = next(p for p in data["providers"] if p["id"] == "cursor-agent")
    assert cursor["origins"]["enabled"] == "file"
    assert cursor["capabilities"]["codeReview"] is True
    codex = next(p for p in data["providers"] if p["id"] == "codex")
    assert codex["origins"] == {"enabled": "default"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("00:00 UTC", (0, 0)), ("6:30", (6, 30)), (" 23:59 utc ", (23, 59)), ("14:05UTC", (14, 5))],
)
def test_reset_hour_minute(text: str, expected: tuple[int, int]) -> None:
    assert reset_hour_minute(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "7", "12:30 CET", "", "12:30 UTC+1"])
def test_reset_hour_minute_refuses_what_is_not_a_time_of_day(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day"):
        reset_hour_minute(text)
