"""Slim the image's virtual environment after pip installed it, keeping its bytecode.

    /opt/ado/bin/python slim_venv.py /opt/ado

Run by the Dockerfile's ``wheel`` stage (and by tests/deploy/test_runtime_stage.py on the
environment it builds), with the environment's own interpreter, so that the bytecode it keeps
is the one that interpreter reads. Two things go, neither of them read at run time:

- the debugging information of the compiled extension modules (``strip --strip-debug``; the
  symbol tables stay). The libraries auditwheel grafted into ``<package>.libs`` are left as
  they are.
- the sources of the third-party Python modules that pip compiled: each ``module.py`` is
  replaced by its bytecode, moved from ``__pycache__`` to ``module.pyc`` beside it, which
  Python imports as sourceless. Start-up reads the same bytecode as before; a traceback
  through those modules shows file and line but not the line's text. ADO's own package keeps
  its sources (its tracebacks, and Alembic reads its migrations as ``.py`` files), and a
  module pip could not compile keeps its source.

It prints how many bytes each step saved.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

#: The top-level packages that keep their ``.py`` sources.
KEEP_SOURCES = frozenset({"ado"})
ELF_MAGIC = b"\x7fELF"


def site_packages(venv: Path) -> Path:
    [found] = venv.glob("lib/python3.*/site-packages")
    return found


def strip_extensions(packages: Path) -> int:
    strip = shutil.which("strip")
    if strip is None:
        sys.exit("slim_venv: `strip` is missing (Debian's binutils package)")
    saved = 0
    for path in sorted(packages.rglob("*.so*")):
        if not path.is_file() or path.is_symlink() or path.parent.name.endswith(".libs"):
            continue
        with path.open("rb") as file:
            if file.read(4) != ELF_MAGIC:
                continue
        before = path.stat().st_size
        subprocess.run([strip, "--strip-debug", str(path)], check=True)
        saved += before - path.stat().st_size
    return saved


def drop_sources(packages: Path) -> int:
    tag = sys.implementation.cache_tag
    saved = 0
    for source in sorted(packages.rglob("*.py")):
        if source.relative_to(packages).parts[0] in KEEP_SOURCES:
            continue
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not compiled.is_file():  # pip could not compile it: the source stays
            continue
        saved += source.stat().st_size
        compiled.replace(source.with_suffix(".pyc"))
        source.unlink()
    for cache in sorted(packages.rglob("__pycache__"), reverse=True):
        if cache.is_dir() and not any(cache.iterdir()):
            cache.rmdir()
    return saved


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.exit(__doc__)
    packages = site_packages(Path(argv[0]))
    stripped = strip_extensions(packages)
    dropped = drop_sources(packages)
    print(
        f"slim_venv: {stripped / 1e6:.1f} MB of debugging information, "
        f"{dropped / 1e6:.1f} MB of third-party sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
