"""The server's PostgreSQL pool (``ado.store.pgpool``): reads in autocommit, writes still in
one transaction, no ping before each use, and a lost connection never handed out twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from ado.errors import StoreUnavailable
from ado.store import Store, pgpool
from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[tuple[str, Store]]:
    name = postgres_server.create_database()
    store = Store(postgres_server.url(name))
    store.migrate()
    try:
        yield name, store
    finally:
        store.close()
        postgres_server.drop_database(name)


def _cut(server: PostgresServer, database: str) -> None:
    """Close every connection to ``database`` from the server's side (a restart would)."""
    server.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )


def test_a_write_of_several_statements_is_still_one_transaction(
    database: tuple[str, Store],
) -> None:
    _, store = database
    with store._sql() as sql, sql.transaction(write=True):
        sql.execute("INSERT INTO kv (key, value, updated_at) VALUES ('kept', '{}', now())")
    with pytest.raises(RuntimeError), store._sql() as sql, sql.transaction(write=True):
        sql.execute("INSERT INTO kv (key, value, updated_at) VALUES ('first', '{}', now())")
        sql.execute("INSERT INTO kv (key, value, updated_at) VALUES ('second', '{}', now())")
        raise RuntimeError("fails before the commit")
    assert store.get_value("kept") == {}
    assert store.get_value("first") is None and store.get_value("second") is None


def test_a_connection_goes_back_to_the_pool_out_of_autocommit(
    database: tuple[str, Store],
) -> None:
    """The ORM's sessions (API tokens, alerts) share the pool: their writes stay atomic."""
    _, store = database
    for _ in range(3):  # every connection of the pool lent to the plain-SQL side first
        store.get_value("any")
    with pytest.raises(RuntimeError), store._write() as session:
        session.execute(text("INSERT INTO kv (key, value, updated_at) VALUES ('orm', '{}', now())"))
        session.flush()
        raise RuntimeError("fails before the commit")
    assert store.get_value("orm") is None


def test_a_connection_cut_while_idle_is_replaced_before_use(
    database: tuple[str, Store], postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, store = database
    store.set_value("k", {"v": 1})
    monkeypatch.setattr(pgpool, "PING_AFTER", 0.0)  # every connection idle long enough
    _cut(postgres_server, name)
    assert store.get_value("k") == {"v": 1}


def test_a_connection_cut_between_two_calls_fails_one_and_is_dropped(
    database: tuple[str, Store], postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not pinged (used moments ago): the call on it fails as PostgreSQL being away does;
    the connection, and every other opened before the cut, is not lent again."""
    name, store = database
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    monkeypatch.setattr(pgpool, "PING_AFTER", 3600.0)
    _cut(postgres_server, name)
    with pytest.raises(StoreUnavailable):
        store.get_value("k")
    assert store.get_value("k") is None
    assert store.get_task(task_id) is not None


def test_a_retried_write_rides_out_a_cut(
    database: tuple[str, Store], postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, store = database
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    monkeypatch.setattr(pgpool, "PING_AFTER", 3600.0)
    _cut(postgres_server, name)
    store.update_task(task_id, routing_reason="after the cut")
    task = store.get_task(task_id)
    assert task is not None and task.routing_reason == "after the cut"
