"""Helpers the tests (and ``bench/``) share, each defined once: waiting on a condition, free
loopback ports, server subprocesses, telling whether a process is gone, and the worker
registry as a running ADO shows it.

Plain modules, importable from any test; the fixtures built on them live in the conftest of
the tests that need them (``tests/server/conftest.py``: ``serve``; ``tests/dashboard``).
"""

from tests.support.processes import group_gone, process_gone
from tests.support.scripts import python_script
from tests.support.servers import ServerProcess, ado_serve_argv, free_port, spawn_server
from tests.support.waiting import poll_until, wait_for, wait_for_async
from tests.support.workers import listed_workers, running_agent

__all__ = [
    "ServerProcess",
    "ado_serve_argv",
    "free_port",
    "group_gone",
    "listed_workers",
    "poll_until",
    "process_gone",
    "python_script",
    "running_agent",
    "spawn_server",
    "wait_for",
    "wait_for_async",
]
