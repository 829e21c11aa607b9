"""Throwaway Redis and PostgreSQL servers for the benchmarks, on free ports of 127.0.0.1.

What ``bench.load_sim`` needs of the test suite's fixtures (tests/fixtures/redis.py and
tests/fixtures/postgres.py), without pytest: Debian's ``redis-server`` without persistence,
and a PostgreSQL cluster made by ``initdb`` (as the ``postgres`` user when run as root) with
``fsync`` off. Both are stopped and their directories removed on leaving the context.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "ado"
PASSWORD = "bench-s3cret"


class ServiceError(RuntimeError):
    """A server the benchmark needs could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise ServiceError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Redis:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()


@contextmanager
def running_redis() -> Iterator[Redis]:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).is_file():
        raise ServiceError("redis-server not found: apt-get install redis-server")
    directory = Path(tempfile.mkdtemp(prefix="ado-bench-redis-"))
    port = free_port()
    argv = [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "no"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        def answers() -> bool:
            if proc.poll() is not None:
                raise ServiceError(f"redis-server exited {proc.returncode}")
            try:
                return bool(redis.Redis(port=port, socket_timeout=1).ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, 30, "redis-server")
        yield Redis(port, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Postgres:
    port: int
    root: Path

    @property
    def postmaster_pid(self) -> int:
        return int((self.root / "data" / "postmaster.pid").read_text().split()[0])

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> object:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname=database,
            autocommit=True,
        )

    def create_database(self) -> str:
        import psycopg

        name = f"ado_bench_{uuid.uuid4().hex[:10]}"
        conn = self.connect()
        assert isinstance(conn, psycopg.Connection)
        with conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return name


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(_as_owner(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServiceError(f"{what} failed ({result.returncode}): {result.stderr[-2000:]}")


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise ServiceError("PostgreSQL's initdb not found: apt-get install postgresql")
    bin_dir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="ado-bench-pg-"))
    pwfile = root / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    data = str(root / "data")
    initdb = [str(bin_dir / "initdb"), "-D", data, "-U", USER, "--pwfile", str(pwfile),
              "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"]  # fmt: skip
    _run(initdb, "initdb")
    port = free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    pg_ctl = str(bin_dir / "pg_ctl")
    log = str(root / "server.log")
    try:
        _run([pg_ctl, "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"], "pg_ctl")
        yield Postgres(port, root)
    finally:
        subprocess.run(_as_owner([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]),
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
