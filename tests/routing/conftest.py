from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ado.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path / 'state.db'}")
    db.migrate()
    yield db
    db.close()
