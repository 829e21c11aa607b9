"""One attempt of a task: one agent run, from the request to the recorded outcome.

``run_attempt`` takes an attempt ``TaskStart.open_attempt`` opened (its request built, its
row and first events stored, its agent spawned), streams the agent's events into the store
and to the hooks (the cost guard of an API mode and the quota ledger on the way), then
records how it ended: the cooldown of a limit, the costs, real spend billed through a key
or as overage. The ``Runner`` keeps the task around it: routing, failover, parking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ado.orchestrator.task import AttemptInfo, TaskSpec, TaskUpdate
from ado.providers.base import Outcome
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.vocab import OutcomeKind

if TYPE_CHECKING:
    from ado.orchestrator.runner import Runner
    from ado.orchestrator.start import Opened
    from ado.store.methods import SqlMethods

__all__ = ["run_attempt"]


async def run_attempt(runner: Runner, task_id: int, opened: Opened, spec: TaskSpec) -> AttemptInfo:
    """Attempt ``opened`` (recorded, its agent spawned by ``TaskStart.open_attempt``) run to
    its outcome: its first events and spawn announced, its events streamed, how it ended
    recorded."""
    from ado.routing.limits import cooldown_until
    from ado.routing.quota import record_event

    cand, info, request, spawned = opened.cand, opened.info, opened.request, opened.spawned
    mcfg = cand.mode_config
    adapter = runner.adapters(cand.provider)
    model = info.model
    guard = opened.guard
    run = adapter.run(request, spawned)
    runner.agent_run = run
    for event in opened.events:  # stored when it was opened
        runner.hooks.on_update(TaskUpdate(task_id, info, event))
    if spawned.pid is not None:
        if runner.warming is None:  # what the path to the spawn did not need, loaded now
            runner.warming = asyncio.create_task(asyncio.to_thread(_after_spawn_imports))
            runner.warming.add_done_callback(_ignore_result)
        runner.hooks.on_spawn(task_id, info, spawned.pid)
    if runner.cancelled:
        run.stop(OutcomeKind.CANCELLED)
    stream = aiter(run)
    try:
        async for event in stream:
            if event.usage is not None:
                info.usage += event.usage
                if guard is not None:
                    from ado import pricing

                    spent = pricing.actual_cost(
                        info.usage,
                        mcfg,
                        pricing.api_equivalent(
                            info.usage, cand.provider, model or adapter.default_model
                        ),
                    )
                    if guard.exceeded(spent):
                        run.stop(OutcomeKind.COST_LIMIT)
                        await runner.events.emit(
                            task_id,
                            info,
                            AgentEvent(EventKind.ERROR, text=guard.message(spent)),
                        )
            if event.kind is EventKind.QUOTA:  # the quota ledger (ado.routing.quota)
                await asyncio.to_thread(record_event, runner.store, cand.provider, event)
            await runner.events.emit(task_id, info, event)
    except BaseException as exc:
        # ADO itself failed (the store, an interrupt) while the agent ran: the agent is
        # stopped and the attempt recorded as what it is, never left ``running``.
        await asyncio.shield(_abandon(runner.store, stream, info, exc))
        raise
    finally:
        runner.agent_run = None
    from ado import pricing

    outcome = run.outcome or Outcome(OutcomeKind.CRASHED, "no outcome")
    summary = run.summary
    if outcome.kind.is_limit:
        # Cool the pair down until its reset (or a default), before anything else runs.
        until = cooldown_until(outcome.kind, outcome.reset_at, datetime.now(UTC))
        await asyncio.to_thread(
            runner.store.set_cooldown,
            cand.provider,
            cand.access_mode,
            until=until,
            kind=outcome.kind.value,
            reason=outcome.message,
            reset_known=outcome.reset_at is not None,
            task_id=task_id,
        )
        outcome = Outcome(outcome.kind, outcome.message, until, outcome.exit_code)
    info.outcome = outcome
    info.session_id = summary.session_id
    info.files = list(summary.files)
    info.usage = summary.usage
    info.model = summary.usage.model or info.model  # the one the agent reports using
    effective_model = summary.usage.model or model or adapter.default_model
    info.api_cost_usd = pricing.api_equivalent(summary.usage, cand.provider, effective_model)
    info.cost_usd = pricing.actual_cost(summary.usage, mcfg, info.api_cost_usd)
    if (summary.api_key_source or summary.overage) and cand.access_mode != "api":
        info.cost_usd = _real_spend(summary.usage, info.api_cost_usd)
        await _warn_real_spend(runner, task_id, info, api_key_source=summary.api_key_source)
    await runner.events.emit(
        task_id,
        info,
        AgentEvent(
            EventKind.ATTEMPT_FINISHED,
            text=outcome.message,
            reset_at=outcome.reset_at,
            data={
                "outcome": outcome.kind.value,
                "exitCode": outcome.exit_code,
                "durationS": round(summary.duration_s, 3),
                "costUsd": info.cost_usd,
                "apiCostUsd": info.api_cost_usd,
                **({"apiKeySource": summary.api_key_source} if summary.api_key_source else {}),
                **({"overage": True} if summary.overage else {}),
            },
        ),
        flush=True,
    )
    await asyncio.to_thread(_record_attempt, runner.store, task_id, info, effective_model)
    return info


async def _abandon(
    store: SqlMethods, stream: AsyncIterator[AgentEvent], info: AttemptInfo, exc: BaseException
) -> None:
    """Stop the agent and record its attempt after ``exc`` broke the run (best effort:
    the store may be what failed; the next start marks what is left interrupted)."""
    with contextlib.suppress(Exception):
        await stream.aclose()  # type: ignore[attr-defined]  # an async generator
    if isinstance(exc, Exception):
        kind, message = OutcomeKind.FAILED, f"ADO stopped the agent: {exc}"
    else:
        kind, message = OutcomeKind.CANCELLED, "ADO was interrupted"
    info.outcome = Outcome(kind, message[:1000])
    with contextlib.suppress(Exception):
        await asyncio.to_thread(store.finish_attempt, **_attempt_values(info))


def _attempt_values(info: AttemptInfo) -> dict[str, Any]:
    assert info.outcome is not None
    return {
        "attempt_id": info.id,
        "outcome": info.outcome.kind.value,
        "message": info.outcome.message,
        "exit_code": info.outcome.exit_code,
        "session_id": info.session_id,
        "reset_at": info.outcome.reset_at,
        "usage": info.usage,
        "cost_usd": info.cost_usd,
        "api_cost_usd": info.api_cost_usd,
        "files": info.files,
        "dropped_events": info.dropped_events,
        "dropped_bytes": info.dropped_bytes,
        "model": info.model,
    }


def _record_attempt(store: SqlMethods, task_id: int, info: AttemptInfo, model: str | None) -> None:
    assert info.outcome is not None
    store.finish_attempt(**_attempt_values(info))
    if info.outcome.kind not in (OutcomeKind.NOT_INSTALLED,):
        store.record_usage(
            provider=info.provider,
            access_mode=info.access_mode,
            task_id=task_id,
            attempt_id=info.id,
            model=model,
            usage=info.usage,
            cost_usd=info.cost_usd,
            api_cost_usd=info.api_cost_usd,
            reservation=info.reservation,
        )
    elif info.reservation is not None:  # no agent ran: its reserved request is given back
        store.release_request(info.reservation)


async def _warn_real_spend(
    runner: Runner, task_id: int, info: AttemptInfo, *, api_key_source: str | None
) -> None:
    """Once per process, pair and cause: a subscription-configured run whose spend is
    real — billed through an API key, or as extra usage (overage) past its window."""
    pair = f"{info.provider}/{info.access_mode}"
    warning = "api_key_billing" if api_key_source else "overage"
    if (warning, pair) in _WARNED_REAL_SPEND:
        return
    _WARNED_REAL_SPEND.add((warning, pair))
    spend = f"its spend (${info.cost_usd:.4f} here) counts as real"
    if api_key_source:
        text = (
            f"{pair} is billed through an API key ({api_key_source}), not the "
            f"{info.access_mode}: {spend} API spend. Remove the key from the agent's "
            f"environment to use the {info.access_mode}, or configure the access mode as "
            f"`mode: api`."
        )
    else:
        text = (
            f"{pair} went past its {info.access_mode}'s exhausted window and is billed as "
            f"extra usage (overage): {spend}. ADO sends it no new task until the window "
            f"resets (`ado quota` shows when); turn extra usage off in the account to stop "
            f"it going on past the window."
        )
    data = {"warning": warning, **({"source": api_key_source} if api_key_source else {})}
    logging.getLogger("ado.runner").warning("%s", text)
    await runner.events.emit(
        task_id, info, AgentEvent(EventKind.LOG, text=text, data=data), flush=True
    )


def _after_spawn_imports() -> None:
    """The price table (~80-100 ms of imports and loading): needed once the agent reports
    usage, not before it starts, so it loads in a worker thread while the agent does."""
    from ado import pricing

    pricing.warm()


def _ignore_result(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # a failed import is met again, and raised, where it is used


#: The (warning, provider/access mode) pairs already warned about real spend in this process.
_WARNED_REAL_SPEND: set[tuple[str, str]] = set()


def _real_spend(usage: Usage, api_cost: float) -> float:
    """What a run billed by an API key or as overage really cost: the agent's own figure,
    else the price table's."""
    return usage.cost_usd if usage.cost_usd is not None else api_cost
