"""Normalized events: what every agent adapter turns its CLI's output into.

An adapter maps each line its CLI prints to zero or more ``AgentEvent``. The runner stores
every event, shows it live, and derives the attempt's outcome from them.

Conventions every adapter follows:

- ``USAGE`` events carry *increments*: summing every ``usage`` of an attempt gives its totals.
  An agent that only reports a cumulative total emits it once.
- ``RATE_LIMIT`` with ``retrying=True`` means the agent is about to back off and retry on its
  own; the runner stops it at once so ADO decides where the task goes next.
- ``QUOTA`` is a reading of one of the plan's usage windows (``ado.providers.quota``); it
  never stops a run by itself (a rejected window also comes as ``RATE_LIMIT``).
- ``RESULT`` is the agent's own final word (``is_error`` when it gave up).
- ``data`` holds details. A key ADO names is camelCase (``exitCode``, ``usedRatio``); a key
  copied from the agent's output keeps the agent's spelling (claude's ``num_turns``), as do
  the values an agent gave (``tool_input`` is stored verbatim). ``to_dict`` is the form
  stored and served (``EventData`` of ``ado.api.schemas``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from ado.records import Record

__all__ = ["AgentEvent", "EventKind", "Usage"]


class EventKind(StrEnum):
    # From the agent
    SESSION_STARTED = "session_started"
    TEXT = "text"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    USAGE = "usage"
    RATE_LIMIT = "rate_limit"
    ERROR = "error"
    RESULT = "result"
    #: A usage window's reading (``data``: window, usedRatio, status, windowMinutes;
    #: ``reset_at``): the runner records it in the quota ledger.
    QUOTA = "quota"
    # From the orchestrator
    ROUTED = "routed"
    ATTEMPT_STARTED = "attempt_started"
    ATTEMPT_FINISHED = "attempt_finished"
    FAILOVER = "failover"
    #: What an attempt was told of the earlier ones (``ado.orchestrator.handoff``): ``text``
    #: is the whole prompt it was given.
    HANDOFF = "handoff"
    TASK_FINISHED = "task_finished"
    LOG = "log"


class Usage(Record):
    """Tokens, and the agent's own cost figure when it reports one."""

    __slots__ = (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "model",
    )

    def __init__(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        cost_usd: float | None = None,
        model: str | None = None,
    ) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_write_tokens = cache_write_tokens
        self.cost_usd = cost_usd
        self.model = model

    def __iadd__(self, other: Usage) -> Usage:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd
        if other.model:
            self.model = other.model
        return self

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )

    def to_dict(self) -> dict[str, Any]:
        """Its JSON dict (``EventUsage``'s keys) without the empty fields."""
        return {
            key: value
            for key, name in _pairs("EventUsage")
            if (value := getattr(self, name)) is not None
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Usage:
        names = dict(_pairs("EventUsage"))
        return cls(**{names[k]: v for k, v in raw.items() if k in names})


class AgentEvent(Record):
    """One thing an agent or the orchestrator did (the module's conventions)."""

    __slots__ = (
        "kind",
        "text",
        "tool_id",
        "tool_name",
        "tool_input",
        "is_error",
        "session_id",
        "usage",
        "files",
        "reset_at",
        "retrying",
        "status_code",
        "data",
    )

    def __init__(
        self,
        kind: EventKind,
        text: str | None = None,
        tool_id: str | None = None,
        tool_name: str | None = None,
        tool_input: dict[str, Any] | None = None,
        is_error: bool | None = None,
        session_id: str | None = None,
        usage: Usage | None = None,
        files: list[str] | None = None,
        reset_at: datetime | None = None,
        retrying: bool | None = None,
        status_code: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        #: Tool calls and results: the agent's id for the call, the tool and its input.
        self.tool_id = tool_id
        self.tool_name = tool_name
        self.tool_input = tool_input
        self.is_error = is_error
        self.session_id = session_id
        self.usage = usage
        #: Files the agent created or changed with this tool call.
        self.files = files
        #: Rate limits: when the window resets, and whether the agent is retrying by itself.
        self.reset_at = reset_at
        self.retrying = retrying
        self.status_code = status_code
        #: Anything else worth keeping (model, turns, duration, limit type...).
        self.data: dict[str, Any] = {} if data is None else data

    def to_dict(self) -> dict[str, Any]:
        """Its JSON dict without the empty fields: ``kind`` and ``EventData``'s keys, the
        form it is stored in and served as (``data`` and ``tool_input`` as they are)."""
        return (_TO_DICT or _compile_to_dict())(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AgentEvent:
        """The event of a ``to_dict()`` (unknown keys ignored)."""
        names = dict(_pairs("EventData"))
        values = {names[k]: v for k, v in raw.items() if k in names}
        if "usage" in values:
            values["usage"] = Usage.from_dict(values["usage"])
        if "reset_at" in values:
            values["reset_at"] = datetime.fromisoformat(values["reset_at"])
        return cls(kind=EventKind(raw["kind"]), **values)


_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {}
_TO_DICT: Callable[[AgentEvent], dict[str, Any]] | None = None


def _pairs(model: str) -> tuple[tuple[str, str], ...]:
    """(JSON key, attribute) of ``model``: the keys of the API's response model, so that the
    stored event is its wire form (read at the first event, not when this module loads)."""
    pairs = _PAIRS.get(model)
    if pairs is None:
        from ado.api.keys import pairs as model_pairs

        pairs = _PAIRS[model] = model_pairs(model)
    return pairs


def _compile_to_dict() -> Callable[[AgentEvent], dict[str, Any]]:
    """``AgentEvent.to_dict``, compiled once from ``EventData``'s keys (it runs for every
    stored event): a test per field, as fast as one written by hand."""
    global _TO_DICT
    lines = ["def to_dict(e):", "    out = {'kind': e.kind.value}"]
    for key, name in _pairs("EventData"):
        value = {"usage": "v.to_dict()", "reset_at": "v.isoformat()"}.get(name, "v")
        test = "if v:" if name == "data" else "if v is not None:"
        lines += [f"    v = e.{name}", f"    {test}", f"        out[{key!r}] = {value}"]
    lines.append("    return out")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)
    compiled: Callable[[AgentEvent], dict[str, Any]] = namespace["to_dict"]
    _TO_DICT = compiled
    return compiled
