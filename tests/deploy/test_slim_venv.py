"""deploy/docker/slim_venv.py on a small environment: what it drops, and what it must keep.

The whole environment it slims for the image is tests/deploy/test_runtime_stage.py's.
"""

from __future__ import annotations

import compileall
import shutil
import subprocess
import sys
from pathlib import Path

import markupsafe

from tests.deploy.test_runtime_stage import SLIM_VENV


def slim(venv: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(SLIM_VENV), str(venv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_sources_go_where_bytecode_exists_and_ados_stay(tmp_path: Path) -> None:
    packages = tmp_path / "lib/python3.11/site-packages"
    library = packages / "library"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text("VALUE = 'from bytecode'\n")
    ado = packages / "ado"
    ado.mkdir()
    (ado / "__init__.py").write_text("VALUE = 'ado'\n")
    assert compileall.compile_dir(packages, quiet=1)
    # Written after pip compiled: no bytecode, so the source is all there is.
    (library / "uncompiled.py").write_text("VALUE = 'from source'\n")

    assert "third-party sources" in slim(tmp_path)

    assert not (library / "__init__.py").exists() and (library / "__init__.pyc").is_file()
    assert not (library / "__pycache__").exists()
    assert (library / "uncompiled.py").is_file()
    assert (ado / "__init__.py").is_file() and list((ado / "__pycache__").glob("*.pyc"))
    probe = (
        f"import sys; sys.path.insert(0, {str(packages)!r}); import library, library.uncompiled;"
        "print(library.VALUE, library.uncompiled.VALUE, library.__file__.endswith('.pyc'))"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["from", "bytecode", "from", "source", "True"]


def test_extensions_lose_their_debug_information_but_grafted_libraries_are_kept(
    tmp_path: Path,
) -> None:
    packages = tmp_path / "lib/python3.11/site-packages"
    copy = packages / "markupsafe"
    shutil.copytree(Path(markupsafe.__file__).parent, copy)
    [extension] = copy.glob("_speedups.*.so")
    grafted = packages / "markupsafe.libs" / extension.name
    grafted.parent.mkdir()
    shutil.copy2(extension, grafted)
    assert b".debug_info" in extension.read_bytes(), "the wheel's extension has no debug info"
    before = extension.stat().st_size

    slim(tmp_path)

    assert b".debug_info" not in extension.read_bytes()
    assert extension.stat().st_size < before
    assert grafted.stat().st_size == before  # auditwheel's libraries are left as they are
    probe = (
        f"import sys; sys.path.insert(0, {str(packages)!r}); import markupsafe._speedups as s;"
        "print(s.__file__, str(s._escape_inner('<a>')))"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-c", probe], capture_output=True, text=True, check=True
    )
    path, escaped = out.stdout.split()
    assert path.startswith(str(copy)) and escaped == "&lt;a&gt;"
