"""``ado run`` on the cached configuration (``ado.config.cache``): a stale entry is never used.

Each test runs real ``ado run`` processes with the scripted agent: a first run fills the
cache, a second is served from it (no pydantic before the spawn), then what the entry was
made from changes (the file, even at the same size and mtime; a variable it names; the
settings saved through the API) and the next run must act on the change. A corrupt or
foreign entry, and a cache directory that cannot be written, leave the run as it was; a
configuration holding a secret is never written to the cache.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ado.config.cache import _hash, cache_dir
from ado.config.overrides import SETTINGS_KEY, SWITCHES_KEY
from tests.cli.test_run_startup import _created_store, _modules_at_spawn
from tests.fixtures.ado import Project

PROMPT = "x" * 50  # longer than a maxPromptBytes of 10
TOO_LONG = "at most 10 are accepted"


def _validated(project: Project, env: dict[str, str] | None = None) -> bool:
    """Run once (it must succeed); whether the configuration was validated (its models
    loaded before the spawn) rather than read from the cache."""
    modules, summary = _modules_at_spawn(project, PROMPT, env=env)
    assert summary["status"] == "succeeded"
    return "ado.config.schema" in modules


def _run(project: Project, code: int, env: dict[str, str] | None = None) -> str:
    return project.run("run", "--json", PROMPT, env=env, check_code=code).stderr


def _entries() -> list[Path]:
    folder = Path(cache_dir())
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _configure(project: Project, agent: dict[str, Any], limit: Any = 1000) -> None:
    project.write_config({"cursor-agent": agent}, orchestration={"maxPromptBytes": limit})
    _created_store(project)


def test_the_second_run_uses_the_cache_and_an_edit_is_seen_at_once(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    _configure(project, fake_cursor())
    assert _validated(project)  # and cached
    assert not _validated(project)  # from the cache
    [entry] = _entries()
    assert entry.stat().st_mode & 0o777 == 0o600
    _configure(project, fake_cursor(), 10)
    assert TOO_LONG in _run(project, 2)
    _configure(project, fake_cursor())
    assert _validated(project)  # the edit back is a miss too
    assert not _validated(project)


def test_an_edit_keeping_the_size_and_mtime_is_seen(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    """Adversarial: same size, mtime put back; only the content hash tells."""
    _configure(project, fake_cursor())
    _run(project, 0)
    path = project.config_path
    before = path.stat()
    text = path.read_text()
    edited = text.replace('"maxPromptBytes": 1000', '"maxPromptBytes":   10')
    assert edited != text and len(edited) == len(text)
    path.write_text(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert TOO_LONG in _run(project, 2)


def test_a_changed_environment_variable_is_seen(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    _configure(project, fake_cursor(), "${PROMPT_LIMIT}")
    assert _validated(project, {"PROMPT_LIMIT": "1000"})
    assert not _validated(project, {"PROMPT_LIMIT": "1000"})
    assert TOO_LONG in _run(project, 2, {"PROMPT_LIMIT": "10"})
    unset = subprocess.run(
        project.ado_argv("run", PROMPT),
        cwd=project.root,
        env={k: v for k, v in os.environ.items() if k != "PROMPT_LIMIT"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert unset.returncode == 2 and "PROMPT_LIMIT is not set" in unset.stderr
    assert _validated(project, {"PROMPT_LIMIT": "1000"})


def test_settings_saved_through_the_api_are_seen(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    _configure(project, fake_cursor())
    _run(project, 0)
    assert not _validated(project)
    store = project.store()
    try:
        store.set_value(SWITCHES_KEY, {"cursor-agent": {"enabled": False}})
        assert "no provider" in _run(project, 3).lower()  # switched off in the dashboard
        _run(project, 3)  # the same, from the cache's entry for this saved layer
        store.set_value(SWITCHES_KEY, {})
        store.set_value(SETTINGS_KEY, {"routing": {"strategy": "round-robin"}})
        _run(project, 0)
        assert not _validated(project)  # the file and this saved layer, cached
        store.set_value(SWITCHES_KEY, {"cursor-agent": {"enabled": False}})
        _run(project, 3)
        store.set_value(SWITCHES_KEY, {})
        store.set_value(SETTINGS_KEY, {})
        assert not _validated(project)  # nothing saved: the file's entry
    finally:
        store.close()


def test_a_corrupt_or_foreign_entry_is_not_used(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    _configure(project, fake_cursor())
    _run(project, 0)
    [entry] = _entries()
    good = json.loads(entry.read_text())
    for bad in (
        b"\x00not json",
        b"[]",
        json.dumps({**good, "format": 999}).encode(),
        # the right key, but classes that are not the configuration's: never imported
        json.dumps({**good, "file": {"$m": "os:system", "f": {}, "s": [], "x": None}}).encode(),
        json.dumps({**good, "file": {"$e": "subprocess:Popen", "v": "ls"}}).encode(),
        json.dumps(
            {**good, "file": {"$m": "ado.errors:AdoError", "f": {}, "s": [], "x": None}}
        ).encode(),
    ):
        entry.write_bytes(bad)
        assert _validated(project), bad  # a miss: validated again...
        assert json.loads(entry.read_text())["key"] == good["key"]  # ...and written anew
    # Written by hand with the right key, naming a configuration module's non-class: a clear
    # error naming the fix, never a traceback.
    forged: dict[str, object] = {"$m": "ado.config.schema:re", "f": {}, "s": [], "x": None}
    entry.write_text(json.dumps({**good, "file": forged}))
    stderr = _run(project, 2)
    assert "delete" in stderr and "Traceback" not in stderr
    entry.write_text(json.dumps(good))
    _configure(project, fake_cursor(), 10)  # an entry for the file before this edit
    assert TOO_LONG in _run(project, 2)


def test_a_cache_directory_that_cannot_be_written(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    """Adversarial (and so even as root): the cache's directory would be under a file."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {"XDG_CACHE_HOME": str(blocker / "cache")}
    _configure(project, fake_cursor())
    for _ in range(2):
        proc = project.run("run", "--json", "hi", env=env, check_code=0)
        assert "Traceback" not in proc.stderr
    assert _validated(project, env)  # validated each time


def test_a_configuration_with_a_secret_is_not_written(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    secret = "sk-test-0123456789abcdef"
    _configure(project, fake_cursor(ANTHROPIC_API_KEY=secret))
    assert _validated(project)
    assert _validated(project)  # nothing was cached
    assert _entries() == []
    project.write_config(
        {"cursor-agent": fake_cursor(EXTRA="${MY_SECRET_TOKEN}")},
        orchestration={"maxPromptBytes": 1000},
    )
    env = {"MY_SECRET_TOKEN": secret}
    assert _validated(project, env) and _validated(project, env)
    assert _entries() == []


def test_the_key_hash_is_sha256_without_hashlib() -> None:
    """The cache's own SHA-256 (CPython's built-in one) gives ``hashlib``'s digest, a lone
    surrogate in the text included, and an empty input too."""
    import hashlib

    for text, data in (("ab", b"c"), ("", b""), ("x\ud800y", b"\x00" * 70)):
        expected = hashlib.sha256(text.encode("utf-8", "surrogatepass") + data).hexdigest()
        assert _hash(text, data) == expected
