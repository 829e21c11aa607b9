"""The running telemetry of this process, if any (set by ``setup.start``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ado.telemetry.setup import Telemetry

current: Telemetry | None = None
