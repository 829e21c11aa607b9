"""The store's URL and path handling without ``pathlib`` and ``urllib.parse`` (``ado run``
reads them before its agent spawns): the same answers as the standard library's, for the
plain case it takes a short cut on and for every input that must not take it."""

import sqlite3
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import pytest

from ado.config.schema import AdoConfig
from ado.errors import StoreError
from ado.store.sql import sqlite_uri_path
from ado.store.urls import DbUrl, store_url

#: Parsed by the short cut (a plain ``sqlite:///`` file), or by ``urlsplit``: a query, a
#: fragment, an escape, a tab or line break (which ``urlsplit`` removes), another scheme
#: spelling, a host, no path.
URLS = [
    "sqlite:////tmp/ado/state.db",
    "sqlite:///relative/state.db",
    "sqlite:///:memory:",
    "sqlite:///",
    "sqlite://",
    "sqlite:////tmp/a b/ünï.db",
    "sqlite:////tmp/100%25/state.db",
    "sqlite:////tmp/x.db?mode=ro&cache=shared",
    "sqlite:////tmp/x.db#frag",
    "sqlite:////tmp/x\t.db",
    "sqlite:////tmp/x\n.db",
    "SQLITE:////tmp/x.db",
    "sqlite+pysqlite:////tmp/x.db",
    "sqlite://host/x.db",
    "sqlite:////tmp/x.db?",
]


def _by_urlsplit(url: str) -> DbUrl:
    """What ``DbUrl.parse`` gave before its short cut: always ``urlsplit``."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(url)
    database = unquote(parts.path[1:]) if parts.path else None
    return DbUrl("sqlite", database or None, query=tuple(parse_qsl(parts.query)))


@pytest.mark.parametrize("url", URLS)
def test_a_sqlite_url_reads_as_urlsplit_reads_it(url: str) -> None:
    assert DbUrl.parse(url) == _by_urlsplit(url)


def test_other_urls_are_still_refused_or_read_whole() -> None:
    with pytest.raises(ValueError, match="not a SQLite or PostgreSQL URL"):
        DbUrl.parse("mysql:///x.db")
    pg = DbUrl.parse("postgresql://u:p%40ss@db.example:5433/ado?sslmode=require")
    assert (pg.dialect, pg.database, pg.host, pg.port, pg.user, pg.password) == (
        "postgresql",
        "ado",
        "db.example",
        5433,
        "u",
        "p@ss",
    )
    assert pg.query == (("sslmode", "require"),)


@pytest.mark.parametrize(
    "path",
    ["/tmp/ado/.ado/state.db", "rel/x-y_z.~1.db", "", "/tmp/a b.db", "/tmp/x?y#z%.db", "/tmp/ü.db"],
)
def test_a_file_uri_path_is_quoted_as_urllib_quotes_it(path: str) -> None:
    assert sqlite_uri_path(path) == quote(path)


def test_the_uri_opens_the_file_whatever_its_name(tmp_path: Path) -> None:
    for name in ("plain.db", "with space.db", "q?h#p%.db", "ünï.db"):
        path = tmp_path / name
        sqlite3.connect(path).close()  # created
        conn = sqlite3.connect(f"file:{sqlite_uri_path(str(path))}?mode=rw", uri=True)
        conn.close()


def _config(path: str) -> AdoConfig:
    return AdoConfig.model_validate({"storage": {"path": path}})


def test_store_url_joins_a_relative_path_to_the_base_and_creates_its_folder(
    tmp_path: Path,
) -> None:
    url = store_url(_config(".ado/state.db"), str(tmp_path))
    assert url == f"sqlite:///{tmp_path}/.ado/state.db"
    assert (tmp_path / ".ado").is_dir()
    # a base given as a Path is the same base
    assert store_url(_config(".ado/state.db"), tmp_path) == url
    # an absolute path ignores the base; ~ is the home directory
    assert store_url(_config(str(tmp_path / "abs.db")), "/elsewhere") == (
        f"sqlite:///{tmp_path}/abs.db"
    )
    # a % in the path is escaped, and reads back as the same file
    url = store_url(_config("100%/state.db"), str(tmp_path))
    assert DbUrl.parse(url).database == f"{tmp_path}/100%/state.db"


def test_store_url_names_the_folder_it_cannot_create(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match=r"cannot create .*file"):
        store_url(_config("file/state.db"), str(tmp_path))


def test_store_url_is_the_file_pathlib_would_name(tmp_path: Path) -> None:
    for relative in ("./x/./state.db", "x//state.db", "../up/state.db"):
        (tmp_path / "base").mkdir(exist_ok=True)
        url = store_url(_config(relative), str(tmp_path / "base"))
        given = Path(DbUrl.parse(url).database or "")
        expected = tmp_path / "base" / PurePosixPath(relative)
        assert given.resolve() == expected.resolve()
