"""Events' data in camelCase, the form the API serves (``EventData``): ADO's own keys only.

An event's stored ``data`` was ``AgentEvent.to_dict()`` with snake_case keys; it is now the
wire form, sent as stored. This rewrites the rows an older ADO stored, in batches of ids,
on SQLite and PostgreSQL alike: the top-level keys (``tool_name`` → ``toolName``), those of
``usage``, and the keys ADO itself put in the nested ``data`` (``exit_code``,
``duration_s``...). What the agent gave keeps its spelling: ``tool_input`` is renamed, its
value (the tool's arguments, ``file_path``...) is not touched, and keys an adapter copied
from the agent's output into ``data`` (claude's ``num_turns``, ``retry_delay_ms``) stay.
The names are written out here, not taken from the code: a migration must mean tomorrow
what it means today.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``AgentEvent``'s fields (the top level of ``data``); ``text``, ``usage``, ``files``,
#: ``retrying`` and ``data`` are spelled the same in both.
TOP = {
    "tool_id": "toolId",
    "tool_name": "toolName",
    "tool_input": "toolInput",
    "is_error": "isError",
    "session_id": "sessionId",
    "reset_at": "resetAt",
    "status_code": "statusCode",
}
USAGE = {
    "input_tokens": "inputTokens",
    "output_tokens": "outputTokens",
    "cache_read_tokens": "cacheReadTokens",
    "cache_write_tokens": "cacheWriteTokens",
    "cost_usd": "costUsd",
}
#: The keys ADO wrote in the nested ``data`` (the runner, the output caps, the quota
#: readings, the adapters' own names); no agent output copied there uses them.
DETAILS = {
    "access_mode": "accessMode",
    "exit_code": "exitCode",
    "duration_s": "durationS",
    "cost_usd": "costUsd",
    "api_cost_usd": "apiCostUsd",
    "api_key_source": "apiKeySource",
    "output_truncated": "outputTruncated",
    "max_events": "maxEvents",
    "max_bytes": "maxBytes",
    "truncated_bytes": "truncatedBytes",
    "used_ratio": "usedRatio",
    "window_minutes": "windowMinutes",
}
#: gemini's rate limit: a delay ADO read from its message. claude's ``retry_delay_ms`` is
#: copied from claude's output, so it keeps its name: this one is renamed by provider.
GEMINI_DELAY = ("gemini-cli", "rate_limit", "retry_delay_ms", "retryDelayMs")
BATCH = 2000


def _renamed(values: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in values.items()}


def convert(
    data: dict[str, Any], kind: str, provider: str | None, *, down: bool = False
) -> dict[str, Any]:
    """``data`` with ADO's keys in the other casing (camelCase; snake_case when ``down``)."""
    flip: Callable[[Mapping[str, str]], Mapping[str, str]] = (
        (lambda m: {v: k for k, v in m.items()}) if down else (lambda m: m)
    )
    out = _renamed(data, flip(TOP))
    if isinstance(out.get("usage"), dict):
        out["usage"] = _renamed(out["usage"], flip(USAGE))
    details = out.get("data")
    if isinstance(details, dict):
        names = dict(flip(DETAILS))
        gemini, which, snake, camel = GEMINI_DELAY
        if provider == gemini and kind == which:
            names.update({camel: snake} if down else {snake: camel})
        out["data"] = _renamed(details, names)
    return out


def _text(value: dict[str, Any]) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode().decode()
    except UnicodeEncodeError:  # a lone surrogate: escaped, as ado.store.codec does
        return json.dumps(value, separators=(",", ":"))


def rewrite(connection: sa.Connection, *, down: bool = False) -> int:
    """Rewrite every event's data, ``BATCH`` rows at a time; how many rows changed."""
    postgres = connection.dialect.name == "postgresql"
    select = sa.text(
        "SELECT e.id, e.kind, e.data, a.provider FROM events e"
        " LEFT JOIN attempts a ON a.id = e.attempt_id"
        " WHERE e.id > :after ORDER BY e.id LIMIT :limit"
    )
    update = sa.text(
        "UPDATE events SET data = "
        + ("CAST(:data AS json)" if postgres else ":data")
        + " WHERE id = :id"
    )
    after, changed = 0, 0
    while True:
        rows = connection.execute(select, {"after": after, "limit": BATCH}).all()
        if not rows:
            return changed
        updates = []
        for event_id, kind, raw, provider in rows:
            data = json.loads(raw) if isinstance(raw, str | bytes) else raw
            if isinstance(data, dict):
                new = convert(data, kind, provider, down=down)
                if new != data:
                    updates.append({"id": event_id, "data": _text(new)})
        if updates:
            connection.execute(update, updates)
            changed += len(updates)
        after = rows[-1][0]


def upgrade() -> None:
    rewrite(op.get_bind())


def downgrade() -> None:
    rewrite(op.get_bind(), down=True)
