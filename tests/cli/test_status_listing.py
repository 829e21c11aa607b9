"""``ado status`` lists every adapter registered in the ``ado.providers`` entry points, read
from the listing an earlier process kept (``ado.providers.listing``) while nothing was
installed since: a plugin distribution installed or removed afterwards is seen at once, and
a listing that is corrupt or names what no longer imports is not used."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ado.config.cache import cache_dir
from tests.cli.test_status_startup import run_reporting
from tests.fixtures.ado import Project

#: ``ado status``; at exit, the adapters it listed and whether the distributions' metadata
#: was read (``importlib.metadata`` loaded).
_STATUS = """
import atexit, json, sys


def report():
    from ado.providers import adapter_classes

    seen = [sorted(adapter_classes()), "importlib.metadata" in sys.modules]
    print("LISTED " + json.dumps(seen), file=sys.stderr)


atexit.register(report)
from ado.cli import main
main(["status"])
"""

PLUGIN = """
from ado.providers.cursor_agent import CursorAgent


class Tester(CursorAgent):
    id = "tester-agent"
    display_name = "Tester"
    executable = "tester-agent"
"""


def _ids(project: Project, plugins: Path) -> tuple[list[str], bool]:
    """The provider ids ``ado status`` lists, and whether it read the installed
    distributions' metadata."""
    path = os.pathsep.join([str(plugins), os.environ.get("PYTHONPATH", "")])
    out, (ids, scanned) = run_reporting(
        project, _STATUS, marker="LISTED ", env={"PYTHONPATH": path}
    )
    assert all(f"│ {pid}" in out for pid in ids)
    return ids, scanned


def _setup(project: Project, tmp_path: Path) -> Path:
    """A project with its configuration (cached after the first status: nothing else loads
    ``importlib.metadata``, as pydantic does) and its store (``ado status`` then creates
    nothing in the project's directory, which is on ``sys.path``), and an empty directory
    for plugins."""
    project.write_config({})
    project.store().close()
    plugins = tmp_path / "site"
    plugins.mkdir()
    return plugins


def _install(plugins: Path) -> None:
    (plugins / "ado_test_plugin.py").write_text(PLUGIN)
    info = plugins / "ado_test_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ado-test-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[ado.providers]\ntester-agent = ado_test_plugin:Tester\n"
    )


def _listings() -> list[Path]:
    return sorted((Path(cache_dir()).parent / "entry-points").glob("*.json"))


def test_a_plugin_installed_or_removed_after_the_listing_is_seen_at_once(
    project: Project, tmp_path: Path
) -> None:
    plugins = _setup(project, tmp_path)
    ids, scanned = _ids(project, plugins)
    assert scanned and "cursor-agent" in ids and "tester-agent" not in ids
    assert _ids(project, plugins) == (ids, False)  # from the listing
    [listing] = _listings()
    assert listing.stat().st_mode & 0o777 == 0o600

    _install(plugins)
    with_plugin, scanned = _ids(project, plugins)
    assert scanned and with_plugin == sorted([*ids, "tester-agent"])
    assert _ids(project, plugins) == (with_plugin, False)

    shutil.rmtree(plugins / "ado_test_plugin-1.0.dist-info")
    assert _ids(project, plugins) == (ids, True)


def test_a_corrupt_or_stale_listing_is_not_used(project: Project, tmp_path: Path) -> None:
    plugins = _setup(project, tmp_path)
    ids, _ = _ids(project, plugins)
    [listing] = _listings()
    data = json.loads(listing.read_text())

    # a target that no longer imports (same stamp): scanned, and the listing written anew
    data["entries"] = [*data["entries"], ["gone", "ado_gone_plugin:Gone"]]
    listing.write_text(json.dumps(data))
    assert _ids(project, plugins) == (ids, True)
    assert ["gone", "ado_gone_plugin:Gone"] not in json.loads(listing.read_text())["entries"]
    # a target in another form than "module:attr"
    data["entries"] = [["cursor-agent", "ado.providers.cursor_agent:CursorAgent [extra]"]]
    listing.write_text(json.dumps(data))
    assert _ids(project, plugins) == (ids, True)

    for text in ("", "{", "[]", '{"stamp": 1}', json.dumps({**data, "entries": 7})):
        listing.write_text(text)
        assert _ids(project, plugins) == (ids, True), text
    assert _ids(project, plugins) == (ids, False)


def test_an_unwritable_cache_costs_only_the_scan(project: Project, tmp_path: Path) -> None:
    plugins = _setup(project, tmp_path)
    Path(cache_dir()).parent.parent.mkdir(parents=True, exist_ok=True)
    Path(cache_dir()).parent.write_text("not a directory")  # where ~/.cache/ado would be
    ids, scanned = _ids(project, plugins)
    assert scanned and "cursor-agent" in ids
    assert _ids(project, plugins) == (ids, True)
