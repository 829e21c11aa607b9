"""The views: ``ado.store`` exports each from its one definition, loading the task, event and
worker views (``ado.store.views``) only when one is asked for (``ado run`` reads the
``ado.store.limit_views`` ones before its agent spawns: tests/cli/test_run_startup.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ado.store
from ado.store import limit_views, views
from ado.store.reader import task_columns

_CHECK = """
import sys
import ado.store
assert "ado.store.views" not in sys.modules, "loaded with ado.store"
assert "ado.store.limit_views" in sys.modules
ado.store.CooldownView
assert "ado.store.views" not in sys.modules, "loaded for a view routing reads"
ado.store.TaskView
assert "ado.store.views" in sys.modules
print("ok")
"""


def test_the_views_load_when_first_asked_for() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_every_view_is_one_class_whichever_way_it_is_imported() -> None:
    for name in ado.store.__all__:
        assert getattr(ado.store, name) is not None
    for name in limit_views.__all__:
        assert getattr(ado.store, name) is getattr(views, name) is getattr(limit_views, name)
    for name in ("AttemptView", "EventText", "EventView", "ReportRow", "TaskSummaryView"):
        assert getattr(ado.store, name) is getattr(views, name)
    assert ado.store.TaskView is views.TaskView


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="WorkerViews"):
        ado.store.WorkerViews  # noqa: B018
    with pytest.raises(ImportError):
        from ado.store import NoSuchView  # noqa: F401


def test_task_columns_are_the_task_views_fields_but_its_attempts() -> None:
    columns = task_columns()
    assert "attempts" not in columns
    assert columns == tuple(f for f in views.TaskView._fields if f != "attempts")
    assert task_columns() is columns  # computed once
