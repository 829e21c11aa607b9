"""PostgreSQL's client programs (``pg_dump``, ``pg_restore``), run for ``ado db``.

The one boundary where their failures become ``StoreError``: a missing program says how to
install it, a failed run shows the program's own last words, the password scrubbed. The
password travels in ``PGPASSWORD``, never on a command line another user could read in
``ps``; the rest of the URL becomes a libpq connection string.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ado.errors import StoreError
from ado.store.urls import DbUrl

__all__ = ["archive_revision", "archive_tables", "conninfo", "find_tool", "run_tool"]

#: How the fix for a missing client program reads.
INSTALL_HINT = (
    "install PostgreSQL's client programs (Debian/Ubuntu: apt install postgresql-client; "
    "macOS: brew install libpq) with a major version at least the server's, or put them "
    "on PATH"
)
#: Seconds a client program waits for the server to answer its connection.
CONNECT_TIMEOUT_S = 10


def conninfo(url: DbUrl) -> str:
    """``url`` as a libpq ``key='value'`` string, without its password."""
    params: dict[str, object] = {
        "host": url.host,
        "port": url.port,
        "user": url.user,
        "dbname": url.database,
        **dict(url.query),
    }
    return " ".join(f"{k}={_quote(str(v))}" for k, v in params.items() if v is not None)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def find_tool(program: str, *, what: str) -> str:
    """The path of ``program``; StoreError saying how to install it when it is missing."""
    found = shutil.which(program)
    if found is None:
        raise StoreError(f"cannot {what}: {program} was not found on PATH", hint=INSTALL_HINT)
    return found


def run_tool(
    program: str, args: Sequence[str], *, url: DbUrl | None = None, what: str
) -> subprocess.CompletedProcess[bytes]:
    """Run ``program`` (on PATH) with ``args``; its output. ``url``: the server it talks to
    (its password in the environment). StoreError when it is missing or fails, naming
    ``what`` it was doing."""
    found = find_tool(program, what=what)
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S)}
    if url is not None and url.password is not None:
        env["PGPASSWORD"] = url.password
    try:
        result = subprocess.run(
            [found, *args], capture_output=True, env=env, stdin=subprocess.DEVNULL, check=False
        )
    except OSError as exc:
        raise StoreError(f"cannot {what}: cannot run {found}: {exc.strerror}") from exc
    if result.returncode != 0:
        detail = _last_lines(result.stderr.decode(errors="replace"))
        if url is not None and url.password:
            detail = detail.replace(url.password, "***")
        raise StoreError(
            f"cannot {what}: {program} failed (exit {result.returncode}): {detail}",
            hint=_failure_hint(detail),
        )
    return result


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:]) or "no message"


def _failure_hint(detail: str) -> str | None:
    if "server version mismatch" in detail:
        return INSTALL_HINT
    if "connection" in detail or "could not connect" in detail or "password" in detail:
        return "is the server running? check storage.connectionString or ADO_DATABASE_URL"
    if "input file" in detail or "archive" in detail:
        return "is it a backup written by `ado db backup` (pg_dump --format=custom)?"
    return None


def archive_tables(path: Path) -> set[str]:
    """The tables a ``pg_dump --format=custom`` archive holds (``pg_restore --list``)."""
    listing = run_tool("pg_restore", ["--list", str(path)], what=f"read {path}")
    tables: set[str] = set()
    for line in listing.stdout.decode(errors="replace").splitlines():
        # "215; 1259 16390 TABLE public tasks ado": id; oids; kind schema name owner (and
        # "3360; 0 16390 TABLE DATA public tasks ado" for its rows)
        parts = line.split()
        if (
            not line.startswith(";")
            and len(parts) >= 6
            and parts[3] == "TABLE"
            and parts[4] != "DATA"
        ):
            tables.add(parts[5])
    return tables


def archive_revision(path: Path) -> str | None:
    """The schema revision stored in an archive's ``alembic_version``, None without one."""
    if "alembic_version" not in archive_tables(path):
        return None
    dump = run_tool(
        "pg_restore",
        ["--data-only", "--table", "alembic_version", "--file", "-", str(path)],
        what=f"read {path}",
    )
    lines = dump.stdout.decode(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return None if value in ("\\.", "") else value
    return None
