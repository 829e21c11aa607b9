"""The ``ado`` command's entry point: the cyclic garbage collector paused while ADO loads.

Loading the command line creates tens of thousands of objects that live as long as the
process (modules, classes, functions). The collector would walk them again and again as
they load: ~14 M instructions, ~7 ms, of ``ado run``'s path to its agent's spawn
(docs/performance.md). So ``main`` pauses it, and ``resume`` moves what exists by then out of
its way (``gc.freeze``) and starts it again: when a command's own work begins, and for
``ado run`` once its agent has spawned (or could not). Loading makes almost no cyclic
garbage, so nothing is left uncollected for long.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["main", "resume"]

_paused = False


def main() -> Any:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True
    from ado.cli import main as cli_main

    return cli_main()


def resume() -> None:
    """Start the collector again if ``main`` paused it (a no-op in any other process)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
