"""The celery executor refuses what cannot work, with the fix, before anything starts."""

from __future__ import annotations

import pytest

from tests.distributed.conftest import Agent
from tests.fixtures.ado import Project
from tests.support import ado_serve_argv, free_port


def _serve(project: Project, *args: str) -> tuple[int, str]:
    argv = ado_serve_argv(*args, port=free_port())
    proc = project.run(*argv[3:], timeout=60)  # after `python -m ado`
    return proc.returncode, proc.stdout + proc.stderr


def test_serve_refuses_celery_on_sqlite(project: Project, agent: Agent) -> None:
    project.write_config({"cursor-agent": agent.provider()}, orchestration={"broker": "redis://x"})
    code, output = _serve(project, "--executor", "celery")
    assert code == 2, output
    assert "orchestration.executor" in output and "SQLite is a file of one machine" in output
    assert "storage.connectionString" in output and "Traceback" not in output


def test_the_executor_key_refuses_sqlite_too(project: Project, agent: Agent) -> None:
    project.write_config(
        {"cursor-agent": agent.provider()},
        orchestration={"executor": "celery", "broker": "redis://localhost:1/0"},
    )
    code, output = _serve(project)
    assert code == 2 and "SQLite is a file of one machine" in output, output


def test_worker_refuses_sqlite(project: Project, agent: Agent) -> None:
    project.write_config({"cursor-agent": agent.provider()}, orchestration={"broker": "redis://x"})
    proc = project.run("worker", timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "SQLite is a file of one machine" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("broker", "message"),
    [
        (None, "needs a broker and none is set"),
        ("amqp://guest:hunter2@rabbit//", "is not a Redis URL"),
    ],
)
def test_worker_needs_a_redis_broker(
    project: Project, agent: Agent, postgres_url: str, broker: str | None, message: str
) -> None:
    orchestration = {"broker": broker} if broker else {}
    project.write_config(
        {"cursor-agent": agent.provider()},
        storage={"driver": "postgresql", "connectionString": postgres_url},
        orchestration=orchestration,
    )
    proc = project.run("worker", timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "orchestration.broker" in proc.stderr
    assert "hunter2" not in proc.stderr  # the broker's password is never printed


def test_an_unknown_executor_is_a_usage_error(project: Project, agent: Agent) -> None:
    project.write_config({"cursor-agent": agent.provider()})
    code, output = _serve(project, "--executor", "kubernetes")
    assert code == 2 and "'kubernetes' is not one of 'local', 'celery'" in output, output


@pytest.mark.postgres
def test_serve_with_celery_needs_a_broker(
    project: Project, agent: Agent, postgres_url: str
) -> None:
    project.write_config(
        {"cursor-agent": agent.provider()},
        storage={"driver": "postgresql", "connectionString": postgres_url},
        orchestration={"executor": "celery"},
    )
    code, output = _serve(project)
    assert code == 2 and "needs a broker and none is set" in output, output
    assert "ADO_BROKER_URL" in output and "Traceback" not in output
