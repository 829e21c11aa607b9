"""The task runner: the one path every task takes, from the CLI or the server.

route → cost checks → attempt (the agent's events streamed, stored and shown) → outcome →
cooldown and failover to the next candidate, or done. Store calls run in worker threads so
the event loop only ever waits on the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from ado.errors import AdoError, TaskNotFound, UsageError
from ado.orchestrator.caps import EventCaps
from ado.orchestrator.hooks import HookChain, OnUpdate, RunnerHooks
from ado.orchestrator.recorder import EventRecorder
from ado.orchestrator.task import AttemptInfo, TaskResult, TaskSpec, TaskUpdate
from ado.providers import get_configured_adapter
from ado.providers.base import AgentAdapter, Outcome, Permission, RunRequest
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.orphans import GROUP_MARK_ENV
from ado.providers.run import AgentRun
from ado.store.ids import parse_id
from ado.text import clean_text
from ado.vocab import AccessMode, OutcomeKind, TaskStatus

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.routing.router import Candidate, RouteFilters
    from ado.store.methods import SqlMethods

__all__ = ["Runner", "TaskResult", "TaskSpec", "TaskUpdate"]

#: Seconds between looks at the store while ``--wait`` waits for a provider's reset.
WAIT_RECHECK = 2.0


class Runner:
    """Runs tasks on ``config`` (already resolved: ``ado.orchestrator.compose`` builds it),
    recording into ``store`` (``Store`` or the SQLAlchemy-free ``SqlStore``), reporting to
    ``hooks`` in order; ``on_update`` is a shorthand for one more hook watching events.
    ``confirm`` asks the user before a costly API run (None: nobody to ask, refused)."""

    def __init__(
        self,
        config: AdoConfig,
        store: SqlMethods,
        *,
        hooks: Sequence[RunnerHooks] = (),
        on_update: Callable[[TaskUpdate], None] | None = None,
        confirm: Callable[[str], bool] | None = None,
        adapters: Callable[[str], AgentAdapter] | None = None,
    ) -> None:
        self.config = config
        #: The adapter of a provider id: the registered ones, through its ``adapter:`` when it
        #: is an account of another id (a test passes scripted ones).
        self.adapters = adapters or partial(get_configured_adapter, config)
        self.store = store
        self.hooks = HookChain([*hooks, *([OnUpdate(on_update)] if on_update else [])])
        self.confirm = confirm
        self._run: AgentRun | None = None
        self._cancelled = asyncio.Event()
        self._warm: asyncio.Task[None] | None = None
        self._waiting_for: datetime | None = None
        storage = config.storage
        self.events = EventRecorder(
            store,
            self.hooks.on_update,
            EventCaps(storage.max_events_per_task, storage.max_bytes_per_task),
        )

    # -- control ----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the task: the running agent's process group is signalled, the task recorded."""
        self._cancelled.set()
        if self._run is not None:
            self._run.stop(OutcomeKind.CANCELLED)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    # -- the task -----------------------------------------------------------------------------

    async def run(self, spec: TaskSpec, *, task_id: int | None = None) -> TaskResult:
        from ado.routing.router import Router

        cfg = self.config
        opts = spec.options
        policy = opts.hitl_policy or cfg.hitl.default_policy
        started = time.monotonic()
        resume_provider, resume_session = await self._resolve_resume(opts.resume)
        filters = spec.filters
        if resume_provider is not None:
            self.check_resumable(resume_provider, opts.resume or "")
            filters = _with_provider(filters, resume_provider)
        options = opts.model_copy(update={"hitl_policy": policy}).stored()
        spec = dataclasses.replace(spec, prompt=clean_text(spec.prompt))  # a NUL, a surrogate
        if task_id is None:
            task_id = await asyncio.to_thread(
                self.store.create_task,
                prompt=spec.prompt,
                cwd=str(spec.cwd),
                hitl_policy=policy,
                options=options,
            )
        else:
            await asyncio.to_thread(
                self.store.update_task,
                task_id,
                status=TaskStatus.RUNNING,
                started_at=datetime.now(UTC),
            )
        self.hooks.on_task_start(task_id, spec)
        router = Router(cfg, self.store, installed=_is_installed(cfg, self.adapters))
        attempts: list[AttemptInfo] = []
        tried: set[tuple[str, str]] = set()
        total, cost, api_cost = Usage(), 0.0, 0.0
        status, error, exit_code = TaskStatus.FAILED, None, 1
        max_attempts = (cfg.routing.failover.max_retries + 1) if cfg.routing.failover.enabled else 1
        try:
            while len(attempts) < max_attempts and not self.cancelled:
                plan = await asyncio.to_thread(router.plan, filters, exclude_pairs=frozenset(tried))
                if not plan.candidates:
                    if opts.wait and plan.earliest_reset is not None and not attempts:
                        await self._wait_until(task_id, plan.earliest_reset)
                        continue
                    raise plan.unavailable()
                cand = plan.candidates[0]
                await asyncio.to_thread(router.commit_choice, cand)
                if cand.access_mode == "api":
                    await self._check_costs(cand, spec)
                info = await self._attempt(
                    task_id,
                    len(attempts) + 1,
                    cand,
                    spec,
                    policy,
                    resume_session if cand.provider == resume_provider else None,
                )
                attempts.append(info)
                total += info.usage
                cost += info.cost_usd
                api_cost += info.api_cost_usd
                outcome = info.outcome
                assert outcome is not None
                if outcome.kind is OutcomeKind.SUCCESS:
                    status, error, exit_code = TaskStatus.SUCCEEDED, None, 0
                    break
                if outcome.kind is OutcomeKind.CANCELLED or self.cancelled:
                    status, error, exit_code = TaskStatus.CANCELLED, "cancelled by the user", 130
                    break
                if outcome.kind is OutcomeKind.COST_LIMIT:
                    status, error, exit_code = TaskStatus.FAILED, outcome.message, 4
                    break
                error = (
                    f"{cand.provider}/{cand.access_mode}: {outcome.kind.value}: "
                    f"{outcome.message}".rstrip(": ")
                )
                tried.add((cand.provider, cand.access_mode))
                if not await self._after_failure(
                    task_id, info, cand, outcome, len(attempts), max_attempts
                ):
                    break
            else:
                if self.cancelled:
                    status, error, exit_code = TaskStatus.CANCELLED, "cancelled by the user", 130
        except AdoError as exc:
            # No provider, a cost limit, the store failing...: the task fails with the
            # error's own exit code.
            status, error, exit_code = TaskStatus.FAILED, str(exc), exc.exit_code
            with contextlib.suppress(Exception):  # the store may be what failed
                await self.events.emit(task_id, None, AgentEvent(EventKind.ERROR, text=str(exc)))
        except Exception as exc:
            # A bug: the task is recorded failed (never left running), then it surfaces.
            await self._finish_anyway(task_id, TaskStatus.FAILED, f"ADO failed: {exc!r}", 1)
            raise
        except BaseException:
            await asyncio.shield(
                self._finish_anyway(task_id, TaskStatus.CANCELLED, "ADO was interrupted", 130)
            )
            raise
        result_text = attempts[-1].outcome.message if attempts and attempts[-1].outcome else ""
        try:
            await self._finish(task_id, status, error, result_text, exit_code)
        except Exception as exc:  # the store refuses the last event: the status still
            await self._finish_anyway(task_id, TaskStatus.FAILED, f"{error or ''} {exc}".strip(), 1)
            raise
        return TaskResult(
            task_id=task_id,
            status=status,
            attempts=attempts,
            usage=total,
            cost_usd=cost,
            api_cost_usd=api_cost,
            result_text=result_text,
            error=error,
            exit_code=exit_code,
            duration_s=time.monotonic() - started,
        )

    # -- one attempt --------------------------------------------------------------------------

    async def _attempt(
        self,
        task_id: int,
        number: int,
        cand: Candidate,
        spec: TaskSpec,
        policy: str,
        resume_session: str | None,
    ) -> AttemptInfo:
        from ado.routing.costs import CostGuard
        from ado.routing.limits import cooldown_until
        from ado.routing.quota import record_event

        cfg = self.config
        pcfg, mcfg = cand.provider_config, cand.mode_config
        adapter = self.adapters(cand.provider)
        model = spec.options.model or pcfg.default_options.model
        thresholds = cfg.hitl.escalation_thresholds
        timeout = pcfg.timeout
        if thresholds.max_duration:
            timeout = min(timeout, thresholds.max_duration)
        request = RunRequest(
            prompt=spec.prompt,
            cwd=str(spec.cwd),
            permission=Permission.from_policy(policy, yolo=spec.options.yolo),
            model=model,
            max_turns=spec.options.max_turns
            or pcfg.default_options.max_turns
            or thresholds.max_iterations,
            resume_session_id=resume_session,
            permission_mode=pcfg.default_options.permission_mode,
            access_mode=cand.access_mode,
            api_key=(
                mcfg.api.api_key.get_secret_value() if mcfg.api and mcfg.api.api_key else None
            ),
            base_url=mcfg.api.base_url if mcfg.api else None,
            command=pcfg.command,
            extra_args=list(pcfg.args),
            extra_env=dict(pcfg.env),
            pass_env=tuple(pcfg.pass_env),
            timeout=timeout,
            max_event_bytes=cfg.storage.max_event_bytes,
        )
        attempt_id = await asyncio.to_thread(
            self.store.start_attempt,
            task_id,
            number=number,
            provider=cand.provider,
            access_mode=cand.access_mode,
            model=model,
            reason=cand.reason,
        )
        info = AttemptInfo(attempt_id, number, cand.provider, cand.access_mode, model, cand.reason)
        await asyncio.to_thread(self.store.update_task, task_id, routing_reason=cand.reason)
        await self.events.emit(
            task_id,
            info,
            AgentEvent(
                EventKind.ATTEMPT_STARTED,
                text=cand.reason,
                data={
                    "number": number,
                    "provider": cand.provider,
                    "access_mode": cand.access_mode,
                    "model": model,
                },
            ),
            flush=True,
        )
        request.extra_env.update(self.hooks.attempt_env(task_id, info))
        # Marks every process of the agent's group, so a later start can tell them from
        # unrelated processes that reuse its pid (ado.providers.orphans).
        group_mark = os.urandom(8).hex()  # as secrets.token_hex(8), without its imports
        request.extra_env[GROUP_MARK_ENV] = group_mark
        guard = None
        if cand.access_mode == AccessMode.API:  # per-task limit, capped by today's budget left
            guard = await asyncio.to_thread(
                CostGuard.for_task,
                self.store,
                cfg,
                max_cost=spec.options.max_cost,
                now=datetime.now(UTC),
            )
        run = adapter.run(request)
        self._run = run

        async def spawned(pid: int) -> None:
            if self._warm is None:  # what the path to the spawn did not need, loaded now
                self._warm = asyncio.create_task(asyncio.to_thread(_after_spawn_imports))
                self._warm.add_done_callback(_ignore_result)
            self.hooks.on_spawn(task_id, info, pid)
            await asyncio.to_thread(self.store.set_agent_pid, attempt_id, pid, group_mark)

        run.on_spawn = spawned
        if self.cancelled:
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
                            await self.events.emit(
                                task_id,
                                info,
                                AgentEvent(EventKind.ERROR, text=guard.message(spent)),
                            )
                if event.kind is EventKind.QUOTA:  # the quota ledger (ado.routing.quota)
                    await asyncio.to_thread(record_event, self.store, cand.provider, event)
                await self.events.emit(task_id, info, event)
        except BaseException as exc:
            # ADO itself failed (the store, an interrupt) while the agent ran: the agent is
            # stopped and the attempt recorded as what it is, never left ``running``.
            await asyncio.shield(self._abandon(stream, info, exc))
            raise
        finally:
            self._run = None
        from ado import pricing

        outcome = run.outcome or Outcome(OutcomeKind.CRASHED, "no outcome")
        summary = run.summary
        if outcome.kind.is_limit:
            # Cool the pair down until its reset (or a default), before anything else runs.
            until = cooldown_until(outcome.kind, outcome.reset_at, datetime.now(UTC))
            await asyncio.to_thread(
                self.store.set_cooldown,
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
        if summary.api_key_source and cand.access_mode != "api":
            info.cost_usd = _api_key_spend(summary.usage, info.api_cost_usd)
            await self._warn_api_key_billing(task_id, info, summary.api_key_source)
        await self.events.emit(
            task_id,
            info,
            AgentEvent(
                EventKind.ATTEMPT_FINISHED,
                text=outcome.message,
                reset_at=outcome.reset_at,
                data={
                    "outcome": outcome.kind.value,
                    "exit_code": outcome.exit_code,
                    "duration_s": round(summary.duration_s, 3),
                    "cost_usd": info.cost_usd,
                    "api_cost_usd": info.api_cost_usd,
                    **(
                        {"api_key_source": summary.api_key_source} if summary.api_key_source else {}
                    ),
                },
            ),
            flush=True,
        )
        await asyncio.to_thread(self._record_attempt, task_id, info, effective_model)
        return info

    async def _abandon(
        self, stream: AsyncIterator[AgentEvent], info: AttemptInfo, exc: BaseException
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
            await asyncio.to_thread(self.store.finish_attempt, **self._attempt_values(info))

    def _attempt_values(self, info: AttemptInfo) -> dict[str, Any]:
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

    def _record_attempt(self, task_id: int, info: AttemptInfo, model: str | None) -> None:
        assert info.outcome is not None
        self.store.finish_attempt(**self._attempt_values(info))
        if info.outcome.kind not in (OutcomeKind.NOT_INSTALLED,):
            self.store.record_usage(
                provider=info.provider,
                access_mode=info.access_mode,
                task_id=task_id,
                attempt_id=info.id,
                model=model,
                usage=info.usage,
                cost_usd=info.cost_usd,
                api_cost_usd=info.api_cost_usd,
            )

    async def _after_failure(
        self,
        task_id: int,
        info: AttemptInfo,
        cand: Candidate,
        outcome: Outcome,
        attempts_made: int,
        max_attempts: int,
    ) -> bool:
        """Say whether to try the next candidate (the cooldown is already stored)."""
        from ado.routing.outcomes import should_fail_over

        failover = self.config.routing.failover
        reset_at = outcome.reset_at
        if not failover.enabled or not should_fail_over(outcome.kind, failover.on_errors):
            return False
        if attempts_made >= max_attempts:
            return False
        await self.events.emit(
            task_id,
            info,
            AgentEvent(
                EventKind.FAILOVER,
                text=f"{cand.provider}/{cand.access_mode} {outcome.kind.value.replace('_', ' ')}"
                f"{' until ' + reset_at.isoformat() if reset_at else ''}"
                f"; looking for another provider",
                reset_at=reset_at,
                data={"from": f"{cand.provider}/{cand.access_mode}", "outcome": outcome.kind.value},
            ),
            flush=True,
        )
        if failover.retry_delay:
            await self._sleep(failover.retry_delay / 1000)
        return True

    # -- helpers ------------------------------------------------------------------------------

    async def _warn_api_key_billing(self, task_id: int, info: AttemptInfo, source: str) -> None:
        """Once per process and pair: a subscription-configured agent billed by an API key."""
        pair = f"{info.provider}/{info.access_mode}"
        if pair in _WARNED_API_KEY_BILLING:
            return
        _WARNED_API_KEY_BILLING.add(pair)
        text = (
            f"{pair} is billed through an API key ({source}), not the {info.access_mode}: "
            f"its spend (${info.cost_usd:.4f} here) counts as real API spend. Remove the key "
            f"from the agent's environment to use the {info.access_mode}, or configure the "
            f"access mode as `mode: api`."
        )
        logging.getLogger("ado.runner").warning("%s", text)
        await self.events.emit(
            task_id,
            info,
            AgentEvent(
                EventKind.LOG, text=text, data={"warning": "api_key_billing", "source": source}
            ),
            flush=True,
        )

    async def _check_costs(self, cand: Candidate, spec: TaskSpec) -> None:
        from ado import pricing
        from ado.routing.costs import check_costs

        estimate = pricing.estimate_task_cost(
            spec.prompt,
            cand.provider,
            cand.mode_config,
            spec.options.model or cand.provider_config.default_options.model,
        )
        confirm = None if spec.assume_yes else self.confirm
        await asyncio.to_thread(
            check_costs,
            self.store,
            self.config,
            cand,
            estimate=estimate,
            max_cost=spec.options.max_cost,
            confirm=confirm,
            now=datetime.now(UTC),
        )

    async def _resolve_resume(self, resume: str | None) -> tuple[str | None, str | None]:
        """``--resume`` takes an ADO task id or an agent session id; returns (provider, sid)."""
        if not resume:
            return None, None
        if resume.isascii() and resume.isdigit():
            task_id = parse_id(resume)  # None beyond 64 bits: no such task either
            task = (
                None if task_id is None else await asyncio.to_thread(self.store.get_task, task_id)
            )
            if task is None:
                raise TaskNotFound(resume, option="--resume")
            for attempt in reversed(task.attempts):
                if attempt.session_id:
                    return attempt.provider, attempt.session_id
            raise UsageError(f"--resume {resume}: task {resume} has no agent session to resume")
        found = await asyncio.to_thread(self.store.find_session, resume)
        if found is None:
            raise UsageError(
                f"--resume {resume}: no agent issued that session id in this store",
                hint="pass an ADO task id, or a session id from `ado tasks show`",
            )
        return found, resume

    def check_resumable(self, provider: str, resume: str) -> None:
        """Refuse ``--resume`` for an agent whose adapter cannot resume a session."""
        adapter = self.adapters(provider)
        if not adapter.supports_resume:
            raise UsageError(
                f"--resume {resume}: {adapter.display_name} cannot resume a session.",
                hint="Run the task again without --resume.",
            )

    async def _finish(
        self, task_id: int, status: str, error: str | None, result_text: str, exit_code: int
    ) -> None:
        await self.events.emit(
            task_id,
            None,
            AgentEvent(
                EventKind.TASK_FINISHED,
                text=error or result_text,
                data={"status": status, "exit_code": exit_code},
            ),
            flush=True,
        )
        budget = self.events.caps.release(task_id) if self.events.caps else None
        await asyncio.to_thread(
            self.store.finish_task,
            task_id,
            status=status,
            error=error,
            result_text=result_text or None,
            exit_code=exit_code,
            dropped_events=budget.dropped_events if budget else 0,
            dropped_bytes=budget.dropped_bytes if budget else 0,
        )

    async def _finish_anyway(self, task_id: int, status: str, error: str, exit_code: int) -> None:
        """``_finish`` when something broke: without the event if the store refuses it."""
        try:
            await self._finish(task_id, status, error, "", exit_code)
        except Exception:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.store.finish_task, task_id, status=status, error=error, exit_code=exit_code
                )

    async def _wait_until(self, task_id: int, when: datetime) -> None:
        """Wait for the earliest reset (said once per reset time), looking again every
        ``WAIT_RECHECK`` seconds: a cooldown cleared meanwhile ends the wait at once."""
        if when != self._waiting_for:
            self._waiting_for = when
            await self.events.emit(
                task_id,
                None,
                AgentEvent(
                    EventKind.LOG,
                    text=f"every provider is limited; waiting until {when.isoformat()}",
                    reset_at=when,
                ),
                flush=True,
            )
        delay = max(0.0, (when - datetime.now(UTC)).total_seconds())
        await self._sleep(min(delay + 1, WAIT_RECHECK))

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._cancelled.wait(), seconds)
        except TimeoutError:
            pass


def _after_spawn_imports() -> None:
    """The price table (~80-100 ms of imports and loading): needed once the agent reports
    usage, not before it starts, so it loads in a worker thread while the agent does."""
    from ado import pricing

    pricing.warm()


def _ignore_result(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # a failed import is met again, and raised, where it is used


#: The (provider/access mode) pairs already warned about API-key billing in this process.
_WARNED_API_KEY_BILLING: set[str] = set()


def _api_key_spend(usage: Usage, api_cost: float) -> float:
    """What an API-key-billed run really cost: the agent's own figure, else the price table's."""
    return usage.cost_usd if usage.cost_usd is not None else api_cost


def _with_provider(filters: RouteFilters, provider: str) -> RouteFilters:
    import dataclasses

    return dataclasses.replace(filters, provider=provider, providers=None)


def _is_installed(
    config: AdoConfig, adapters: Callable[[str], AgentAdapter]
) -> Callable[[str], bool]:
    cache: dict[str, bool] = {}

    def installed(provider: str) -> bool:
        if provider not in cache:
            pcfg = config.providers.get(provider)
            adapter = adapters(provider)
            cache[provider] = adapter.resolve_command(pcfg.command if pcfg else None) is not None
        return cache[provider]

    return installed
