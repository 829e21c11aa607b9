"""Spans from a task's events.

The runner hands every event to its ``on_update`` listeners the moment it happens, so the
span tree is built from them (the time an event arrives is when it happened):

```
ado.task                           task start → task_finished
├── ado.route                      task start (or the failover) → attempt_started
├── ado.attempt                    attempt_started → attempt_finished   (invoke_agent)
│   ├── execute_tool Edit          tool_call → tool_result (matched by the call id)
│   └── execute_tool Bash
├── ado.route                      failover → the next attempt_started
└── ado.attempt
```

Attributes follow the OpenTelemetry GenAI conventions where they fit (``gen_ai.system``,
``gen_ai.request.model``, ``gen_ai.usage.input_tokens``, ``gen_ai.tool.name``...), ADO's own
under ``ado.*``. A failed attempt, a failed tool call and a task error are recorded as
exception events with status ERROR. The prompt is never exported: its length, and a prefix
only when ``promptPrefix`` asks for one. Agent text and tool inputs are not exported either.

While a task runs, its current span is also the current OpenTelemetry context of the task's
coroutine, so log records (``ado.telemetry.logging``) and ``ado.telemetry.span()`` blocks
(e.g. notification deliveries) join the task's trace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from ado.providers.events import EventKind

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Tracer

    from ado.orchestrator.task import AttemptInfo, TaskSpec, TaskUpdate

__all__ = ["GEN_AI_SYSTEMS", "TaskTracer"]

#: ``gen_ai.system`` of each built-in provider's models.
GEN_AI_SYSTEMS = {
    "claude-code": "anthropic",
    "codex": "openai",
    "gemini-cli": "gcp.gemini",
    "copilot": "github.copilot",
    "cursor-agent": "cursor",
    "opencode": "opencode",
}
MAX_TEXT = 240  # characters of an error message kept on a span


def _clip(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass(slots=True)
class _TaskSpans:
    task: Span
    base: Context
    route: Span | None = None
    route_number: int = 1
    attempt: Span | None = None
    #: The attempt ``attempt`` is the span of (``AttemptInfo.id``).
    attempt_id: int | None = None
    tools: dict[str, Span] = field(default_factory=dict)
    attempts: int = 0
    provider: str | None = None


class TaskTracer:
    """Builds each task's span tree from its ``TaskUpdate``s."""

    def __init__(self, tracer: Tracer, *, prompt_prefix: int = 0, retry_delay_ms: int = 0) -> None:
        self.tracer = tracer
        self.prompt_prefix = prompt_prefix
        self.retry_delay_ms = retry_delay_ms
        self._tasks: dict[int, _TaskSpans] = {}

    # -- hooks --------------------------------------------------------------------------------

    def task_started(self, task_id: int, spec: TaskSpec | None = None) -> None:
        """The task exists and routing begins (the runner's ``on_task_start``)."""
        if task_id in self._tasks:
            return
        base = otel_context.get_current()
        parent = base
        if not trace.get_current_span(base).get_span_context().is_valid:
            parent = _parent_from_environment(base)
        attrs: dict[str, Any] = {"ado.task.id": task_id}
        if spec is not None:
            attrs["ado.prompt.length"] = len(spec.prompt)
            if self.prompt_prefix:
                attrs["ado.prompt.prefix"] = spec.prompt[: self.prompt_prefix]
            if spec.options.hitl_policy:
                attrs["ado.hitl.policy"] = str(spec.options.hitl_policy)
        task = self.tracer.start_span("ado.task", context=parent, attributes=attrs)
        state = _TaskSpans(task=task, base=base)
        self._tasks[task_id] = state
        state.route = self._start_route(state)
        self._activate(state, task)

    def attempt_span(self, task_id: int, info: AttemptInfo | None = None) -> Span | None:
        """The running attempt's span (what the agent's ``TRACEPARENT`` names); with
        ``info``, that attempt's, started now when its ``attempt_started`` update has not
        come yet: an attempt's agent environment is built before the Runner announces its
        first events (``ado.orchestrator.start``)."""
        state = self._tasks.get(task_id)
        if info is not None:
            if state is None:
                self.task_started(task_id)
                state = self._tasks[task_id]
            if state.attempt_id != info.id:
                self._attempt_started(state, info, info.reason, activate=False)
        return state.attempt if state is not None else None

    def update(self, update: TaskUpdate) -> None:
        ev = update.event
        state = self._tasks.get(update.task_id)
        if state is None:
            if ev.kind is EventKind.TASK_FINISHED:
                return
            self.task_started(update.task_id)
            state = self._tasks[update.task_id]
        kind = ev.kind
        if kind is EventKind.ATTEMPT_STARTED and update.attempt is not None:
            if state.attempt is not None and state.attempt_id == update.attempt.id:
                self._activate(state, state.attempt)  # started for its agent's environment
            else:
                self._attempt_started(state, update.attempt, ev.text)
        elif kind is EventKind.TOOL_CALL and state.attempt is not None:
            key = ev.tool_id or f"#{len(state.tools)}"
            name = ev.tool_name or "tool"
            state.tools[key] = self.tracer.start_span(
                f"execute_tool {name}",
                context=trace.set_span_in_context(state.attempt),
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": name,
                    "gen_ai.tool.call.id": ev.tool_id or "",
                },
            )
        elif kind is EventKind.TOOL_RESULT:
            tool = state.tools.pop(ev.tool_id or "", None)
            if tool is not None:
                if ev.files:
                    tool.set_attribute("ado.tool.files", len(ev.files))
                if ev.is_error:
                    _fail(tool, "ToolError", ev.text)
                tool.end()
        elif kind is EventKind.SESSION_STARTED and state.attempt is not None:
            if ev.session_id:
                state.attempt.set_attribute("gen_ai.conversation.id", ev.session_id)
        elif kind is EventKind.RATE_LIMIT:
            target = state.attempt or state.task
            attrs: dict[str, Any] = {"ado.rate_limit.retrying": bool(ev.retrying)}
            if ev.reset_at is not None:
                attrs["ado.rate_limit.reset_at"] = ev.reset_at.isoformat()
            if ev.status_code is not None:
                attrs["http.response.status_code"] = ev.status_code
            target.add_event("rate_limit", attrs)
        elif kind is EventKind.ERROR:
            if update.attempt is not None and state.attempt is not None:
                _exception_event(state.attempt, "AgentError", ev.text)
            elif state.route is not None:
                _fail(state.route, "RoutingError", ev.text)
                state.route.end()
                state.route = None
            else:
                _exception_event(state.task, "TaskError", ev.text)
        elif kind is EventKind.ATTEMPT_FINISHED and update.attempt is not None:
            self._attempt_finished(state, update.attempt, ev.data)
        elif kind is EventKind.FAILOVER:
            state.task.add_event("failover", {"ado.failover.from": str(ev.data.get("from", ""))})
            state.route = self._start_route(state)
            state.route.set_attribute("ado.routing.retry_delay_ms", self.retry_delay_ms)
        elif kind is EventKind.LOG:
            (state.route or state.attempt or state.task).add_event(
                "log", {"message": _clip(ev.text)}
            )
        elif kind is EventKind.TASK_FINISHED:
            self._task_finished(update.task_id, state, ev.data, ev.text)

    # -- the steps ----------------------------------------------------------------------------

    def _start_route(self, state: _TaskSpans) -> Span:
        return self.tracer.start_span(
            "ado.route",
            context=trace.set_span_in_context(state.task),
            attributes={"ado.attempt.number": state.attempts + 1},
        )

    def _attempt_started(
        self, state: _TaskSpans, info: AttemptInfo, reason: str | None, *, activate: bool = True
    ) -> None:
        self._end_attempt(state, "a new attempt started")
        route_attrs: dict[str, Any] = {
            "ado.routing.provider": info.provider,
            "ado.routing.access_mode": info.access_mode,
            "ado.routing.reason": _clip(reason),
        }
        if state.route is not None:
            state.route.set_attributes(route_attrs)
            state.route.end()
            state.route = None
        state.attempts += 1
        state.provider = info.provider
        attrs: dict[str, Any] = {
            "ado.attempt.number": info.number,
            "ado.provider": info.provider,
            "ado.access_mode": info.access_mode,
            "ado.routing.reason": _clip(reason),
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": info.provider,
            "gen_ai.system": GEN_AI_SYSTEMS.get(info.provider, info.provider),
        }
        if info.model:
            attrs["ado.model"] = info.model
            attrs["gen_ai.request.model"] = info.model
        state.attempt = self.tracer.start_span(
            "ado.attempt", context=trace.set_span_in_context(state.task), attributes=attrs
        )
        state.attempt_id = info.id
        if activate:
            self._activate(state, state.attempt)

    def _attempt_finished(self, state: _TaskSpans, info: AttemptInfo, data: dict[str, Any]) -> None:
        span = state.attempt
        if span is None:
            return
        self._end_tools(state)
        usage, outcome = info.usage, info.outcome
        attrs: dict[str, Any] = {
            "gen_ai.usage.input_tokens": usage.input_tokens,
            "gen_ai.usage.output_tokens": usage.output_tokens,
            "ado.usage.cache_read_tokens": usage.cache_read_tokens,
            "ado.usage.cache_write_tokens": usage.cache_write_tokens,
            "ado.cost_usd": info.cost_usd,
            "ado.api_cost_usd": info.api_cost_usd,
            "ado.files_changed": len(info.files),
        }
        if usage.model:
            attrs["gen_ai.response.model"] = usage.model
        if info.session_id:
            attrs["gen_ai.conversation.id"] = info.session_id
        if data.get("durationS") is not None:
            attrs["ado.agent.duration_s"] = data["durationS"]
        if outcome is not None:
            attrs["ado.attempt.outcome"] = outcome.kind.value
            if outcome.exit_code is not None:
                attrs["ado.agent.exit_code"] = outcome.exit_code
            if outcome.reset_at is not None:
                attrs["ado.cooldown.until"] = outcome.reset_at.isoformat()
        span.set_attributes(attrs)
        if outcome is not None and outcome.kind.value != "success":
            _fail(span, outcome.kind.value, outcome.message or outcome.kind.value)
        else:
            span.set_status(Status(StatusCode.OK))
        span.end()
        state.attempt = None
        self._activate(state, state.task)

    def _task_finished(
        self, task_id: int, state: _TaskSpans, data: dict[str, Any], text: str | None
    ) -> None:
        self._end_attempt(state, "the task ended during the attempt")
        if state.route is not None:
            state.route.end()
            state.route = None
        status = str(data.get("status", ""))
        task = state.task
        task.set_attribute("ado.task.status", status)
        task.set_attribute("ado.task.attempts", state.attempts)
        if data.get("exitCode") is not None:
            task.set_attribute("ado.task.exit_code", int(data["exitCode"]))
        if state.provider:
            task.set_attribute("ado.provider", state.provider)
        if status == "succeeded":
            task.set_status(Status(StatusCode.OK))
        elif status == "failed":
            _fail(task, "TaskFailed", text)
        task.end()
        otel_context.attach(state.base)
        del self._tasks[task_id]

    def task_disowned(self, task_id: int) -> None:
        """The task went on in another process (this one's pool was taken as lost): its
        spans here end, failed as such; the other process traces what became of it."""
        state = self._tasks.pop(task_id, None)
        if state is None:
            return
        why = "the task was taken over by another process (this worker pool was lost)"
        self._end_attempt(state, why)
        if state.route is not None:
            state.route.end()
        state.task.set_attribute("ado.task.attempts", state.attempts)
        _fail(state.task, "TaskDisowned", why)
        state.task.end()
        otel_context.attach(state.base)

    def _end_attempt(self, state: _TaskSpans, why: str) -> None:
        if state.attempt is None:
            return
        self._end_tools(state)
        _fail(state.attempt, "Interrupted", why)
        state.attempt.end()
        state.attempt = None

    def _end_tools(self, state: _TaskSpans) -> None:
        for tool in state.tools.values():
            tool.set_attribute("ado.tool.unfinished", True)
            tool.end()
        state.tools.clear()

    @staticmethod
    def _activate(state: _TaskSpans, span: Span) -> None:
        # Set, never detached: the value lives in the task's own coroutine context, and
        # ``task_finished`` puts the context the task started with back.
        otel_context.attach(trace.set_span_in_context(span, state.base))


def _exception_event(span: Span, kind: str, message: str | None) -> None:
    span.add_event(
        "exception", {"exception.type": kind, "exception.message": _clip(message) or kind}
    )


def _fail(span: Span, kind: str, message: str | None) -> None:
    _exception_event(span, kind, message)
    span.set_status(Status(StatusCode.ERROR, _clip(message) or kind))


def _parent_from_environment(base: Context) -> Context:
    """A ``TRACEPARENT`` in ADO's own environment makes the task join that trace."""
    value = os.environ.get("TRACEPARENT")
    if not value:
        return base
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": value}
    if os.environ.get("TRACESTATE"):
        carrier["tracestate"] = os.environ["TRACESTATE"]
    return TraceContextTextMapPropagator().extract(carrier, context=base)
