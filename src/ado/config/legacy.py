"""Files written for the TypeScript original (github.com/DXHeroes/ado) load unchanged.

``normalize`` runs on a file's plain data before validation. It never refuses anything the
original's shipped files (``ado.config.yaml``, ``ado.config.example.yaml``, the Helm chart's
config map) or its ``ado init`` template contain; instead each key ADO reads differently or
does not act on yields one line of warning naming the key:

- **ignored** keys (``IGNORED``): the schema accepts them (``ado config show`` shows them),
  nothing reads them; the warning says what ADO does instead;
- **renamed** provider ids (``codex-cli`` → ``codex``...) and **translated** values
  (``logging.format: pretty`` → ``text``, ``level: warn`` → ``warning``) are read as ADO's.

The warnings are returned, not printed: the CLI prints them once per command on stderr
(``ado config validate`` lists them on stdout), ``ado serve`` logs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ado.config.loader import KeyPath, _line_for
from ado.config.loader import dotted as dotted_key

__all__ = ["IGNORED", "PROVIDER_IDS", "is_ignored", "normalize"]

#: Keys of the original ADO accepts without acting on them, ``*`` standing for any one key,
#: each with what happens instead.
IGNORED: dict[str, str] = {
    "orchestration.worktreeIsolation": "each task runs in its own working directory (--cwd)",
    "orchestration.checkpointInterval": "ADO records every event as it happens",
    "orchestration.taskQueue": "`ado serve` queues tasks itself (orchestration."
    "maxParallelAgents; failover: routing.failover)",
    "routing.matching": "routing follows routing.strategy and --require",
    "storage.rateLimitTracking": "limits are counted from the usage records in the store",
    "providers.*.capabilities.supportsMCP": "the agent's own MCP configuration applies",
    "providers.*.capabilities.supportsStreaming": "every agent is read as a stream",
    "providers.*.capabilities.supportsResume": "each adapter knows whether its agent resumes",
    "providers.*.defaultOptions.approvalMode": "ADO sets the agent's approvals from the HITL "
    "policy (hitl.defaultPolicy, --hitl)",
    "hitl.approvalTimeout": "ADO does not wait for approvals",
    "hitl.escalateOnCost": "cost limits are routing.apiFallback.maxCostPerTask and maxDailyCost",
    "observability.costTracking": "ADO records every attempt's cost; `ado report` shows it",
    "deployment": "ADO runs where it is started (`ado serve`)",
}

#: The original's provider ids and ADO's.
PROVIDER_IDS = {"codex-cli": "codex", "cursor-cli": "cursor-agent", "copilot-cli": "copilot"}

#: The original's values that ADO spells differently.
_VALUES: dict[str, dict[Any, Any]] = {
    "observability.logging.format": {"pretty": "text"},
    "observability.logging.level": {"warn": "warning"},
}

_SUFFIX = "not used by ADO (a key of the TypeScript original)"


def normalize(data: dict[str, Any], lines: Mapping[KeyPath, int], file: str) -> list[str]:
    """Rewrite ``data`` (in place) into ADO's shape; one warning per key read differently."""
    warnings: list[str] = []

    def warn(loc: KeyPath, text: str) -> None:
        line = _line_for(loc, lines)
        where = f"{file}:{line}" if line else file
        warnings.append(f"{where}: {dotted_key(loc)}: {text}")

    providers = data.get("providers")
    if isinstance(providers, dict):
        for old, new in PROVIDER_IDS.items():
            if old not in providers:
                continue
            if new in providers:
                warn(
                    ("providers", old),
                    f"the original's id for {new}, which is also configured "
                    f"here: ignored (remove it, or merge it into providers.{new})",
                )
                providers.pop(old)
                continue
            warn(
                ("providers", old),
                f"the original's id, read as providers.{new} (rename it to silence this)",
            )
            providers[new] = providers.pop(old)
            _move_lines(lines, ("providers", old), ("providers", new))
    for dotted, mapping in _VALUES.items():
        loc: KeyPath = tuple(dotted.split("."))
        parent = _parent(data, loc)
        if parent is not None:
            value = parent.get(str(loc[-1]))
            if isinstance(value, str) and value in mapping:
                parent[str(loc[-1])] = mapping[value]
                warn(loc, f"{value!r} (the original's value) read as {mapping[value]!r}")
    for pattern, why in IGNORED.items():
        found = list(_matches(data, tuple(pattern.split("."))))
        if found:  # one line per key, however many providers set it
            more = f" (and {len(found) - 1} more provider{'s' * (len(found) > 2)})"
            warn(found[0], f"{_SUFFIX}{more if len(found) > 1 else ''}: {why}")
    return warnings


def is_ignored(loc: KeyPath) -> bool:
    """Whether ``loc`` is (inside) a key of ``IGNORED``: its ``${VAR}`` need not be set."""
    keys = [str(p) for p in loc if not isinstance(p, int)]
    if len(keys) > 1 and keys[0] == "providers" and keys[1] in PROVIDER_IDS:
        keys[1] = PROVIDER_IDS[keys[1]]
    for pattern in IGNORED:
        parts = pattern.split(".")
        if len(keys) >= len(parts) and all(
            p in ("*", k) for p, k in zip(parts, keys, strict=False)
        ):
            return True
    return False


def _matches(data: Any, pattern: KeyPath, where: KeyPath = ()) -> Iterator[KeyPath]:
    if not pattern:
        yield where
        return
    if not isinstance(data, dict):
        return
    head, rest = pattern[0], pattern[1:]
    keys = list(data) if head == "*" else ([head] if head in data else [])
    for key in keys:
        yield from _matches(data[key], rest, (*where, key))


def _parent(data: Any, loc: KeyPath) -> dict[str, Any] | None:
    for part in loc[:-1]:
        if not isinstance(data, dict):
            return None
        data = data.get(str(part))
    return data if isinstance(data, dict) and loc[-1] in data else None


def _move_lines(lines: Mapping[KeyPath, int], old: KeyPath, new: KeyPath) -> None:
    if not isinstance(lines, dict):
        return
    for key in [k for k in lines if k[: len(old)] == old]:
        lines[(*new, *key[len(old) :])] = lines[key]
