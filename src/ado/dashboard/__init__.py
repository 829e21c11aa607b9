"""The web dashboard's built assets (``dist/``), shipped inside the package.

The React source lives in ``dashboard/`` at the repository root; ``scripts/build_dashboard``
builds it into ``dist/`` here, and ``ado serve`` serves that directory at ``/``. Nothing here
needs Node.js at run time.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIST", "is_built"]

#: The built dashboard: ``index.html`` and ``assets/``.
DIST = Path(__file__).resolve().parent / "dist"


def is_built() -> bool:
    """Whether ``dist/`` holds a built dashboard (``scripts/build_dashboard`` makes it)."""
    return (DIST / "index.html").is_file()
