"""Waiting on a condition with a deadline, never on a bare ``sleep()``.

``wait_for`` fails the test with what it waited for; ``poll_until`` answers ``None`` instead,
for a test that asserts something does *not* happen within a moment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")

#: What a condition returns: a value when it holds, else ``None`` or ``False`` (the
#: ``ready and value`` idiom), typed so that ``wait_for`` returns the value's own type.
Condition = Callable[[], T | Literal[False] | None]

#: Seconds between two checks of a condition.
INTERVAL = 0.05


def poll_until(predicate: Condition[T], timeout: float) -> T | None:
    """The first truthy value of ``predicate`` within ``timeout`` seconds, else ``None``.

    ``predicate`` is checked at least once, and once more at the deadline, so a loaded machine
    that oversleeps an interval still sees the last state.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(INTERVAL, left))


def wait_for(predicate: Condition[T], timeout: float = 30, *, what: str) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Raises ``AssertionError`` naming ``what`` (say "the agent to start") after ``timeout`` s.
    """
    value = poll_until(predicate, timeout)
    if value is None:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
    return value


async def wait_for_async(predicate: Condition[T], within: float = 30, *, what: str) -> T:
    """``wait_for`` in a worker thread: ``predicate`` may block (query a store, read /proc)
    while the event loop goes on running what the test waits for. ``within``: its timeout."""
    return await asyncio.to_thread(wait_for, predicate, within, what=what)
