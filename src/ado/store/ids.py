"""The range of the integers the store keeps (ids, counters): signed 64 bits, SQLite's
INTEGER and PostgreSQL's BIGINT alike. Anything outside is refused where it comes in (an
API path or query, a CLI argument, a cursor) instead of overflowing in the driver."""

from __future__ import annotations

import re

__all__ = ["MAX_ID", "MIN_INT", "parse_id"]

#: The largest id (and integer) a store holds: 2**63 - 1.
MAX_ID = 2**63 - 1
#: The smallest integer a store holds: -2**63.
MIN_INT = -(2**63)


def parse_id(text: str) -> int | None:
    """``text`` as an id (ASCII digits, 1 ≤ id ≤ ``MAX_ID``), None when it is not one:
    no sign, no spaces, no underscores, no non-ASCII digits (which ``int()`` accepts)."""
    if not re.fullmatch(r"[0-9]{1,19}", text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
