"""Package attributes imported on first use (PEP 562 module ``__getattr__``), so that
importing one module of a package (the config validator needs ``ado.routing.outcomes``,
the config schema ``ado.notifications.config``) does not load the whole package.

    __getattr__ = lazy_exports(__name__, {"Router": "router", "check_costs": "costs"})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` finding each name in ``package.<homes[name]>``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{home}"), name)

    return __getattr__
