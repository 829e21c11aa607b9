"""Executable Python scripts the tests write: scripted agents run by path, as a real CLI is."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path


def python_script(path: Path, source: str) -> Path:
    """Write ``source`` (dedented) to ``path`` as an executable run by this interpreter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(source))
    path.chmod(0o755)
    return path
