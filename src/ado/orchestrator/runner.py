"""The task runner: the one path every task takes, from the CLI or the server.

route → cost checks → attempt (``ado.orchestrator.attempt``: the agent's events streamed,
stored and shown) → outcome → cooldown and failover to the next candidate (with a handoff),
parked until a reset, or done. Store calls run in worker threads so the event loop only ever
waits on the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ado.errors import AdoError, TaskDisowned
from ado.orchestrator.attempt import run_attempt
from ado.orchestrator.caps import EventCaps
from ado.orchestrator.hooks import HookChain, OnUpdate, RunnerHooks
from ado.orchestrator.recorder import EventRecorder
from ado.orchestrator.start import Begun, Opened, TaskStart
from ado.orchestrator.task import AttemptInfo, TaskResult, TaskSpec, TaskUpdate
from ado.providers import get_configured_adapter
from ado.providers.base import AgentAdapter, Outcome
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.run import AgentRun
from ado.vocab import OutcomeKind, TaskStatus

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.orchestrator.handoff import Handoff
    from ado.routing.router import Candidate, RouteFilters, Router, RoutingPlan
    from ado.store.methods import SqlMethods
    from ado.store.views import TaskView

__all__ = ["Runner", "TaskResult", "TaskSpec", "TaskUpdate"]

#: Seconds between looks at the store while ``--wait`` waits for a provider's reset.
WAIT_RECHECK = 2.0
#: The exit code of a task left parked (``ado serve``: it resumes later, not finished).
PARKED_EXIT = 75


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
        storage = config.storage
        self._setup(
            TaskStart(
                config,
                store,
                hooks=HookChain([*hooks, *([OnUpdate(on_update)] if on_update else [])]),
                # The adapter of a provider id: the registered ones, through its ``adapter:``
                # when it is an account of another id (a test passes scripted ones).
                adapters=adapters or partial(get_configured_adapter, config),
                caps=EventCaps(storage.max_events_per_task, storage.max_bytes_per_task),
                confirm=confirm,
            )
        )

    @classmethod
    def from_start(cls, start: TaskStart) -> Runner:
        """The Runner that goes on from ``start`` (``ado run`` began the task with it)."""
        runner = cls.__new__(cls)
        runner._setup(start)
        return runner

    def _setup(self, start: TaskStart) -> None:
        #: The task's synchronous steps (``ado.orchestrator.start``): its start, each attempt's.
        self.start = start
        self.config = start.config
        self.store = start.store
        self.hooks = start.hooks
        #: The agent's run in progress (``cancel`` stops it; ``ado run`` kills its group).
        self.agent_run: AgentRun | None = None
        self._cancelled = asyncio.Event()
        #: The imports the path to the spawn left for later (``attempt._after_spawn_imports``).
        self.warming: asyncio.Task[None] | None = None
        #: ``ado serve``: a task with every candidate limited is parked in the queue (any
        #: pool resumes it at its reset) and ``run`` returns; else only ``--wait`` parks,
        #: and waits in process (``ado.routing.parking``).
        self.park_in_queue = False
        self.events = EventRecorder(start.store, start.hooks.on_update, start.caps)
        self.events.on_disowned = self._stop_agent  # the store refused a write: not ours

    @property
    def adapters(self) -> Callable[[str], AgentAdapter]:
        """The adapter of a provider id (``TaskStart.adapters``; a test sets scripted ones)."""
        return self.start.adapters

    @adapters.setter
    def adapters(self, adapters: Callable[[str], AgentAdapter]) -> None:
        self.start.adapters = adapters

    # -- control ----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the task: the running agent's process group is signalled, the task recorded."""
        self._cancelled.set()
        if self.agent_run is not None:
            self.agent_run.stop(OutcomeKind.CANCELLED)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _stop_agent(self) -> None:
        """The task is no longer this process's (``TaskDisowned``): its agent stops now."""
        if self.agent_run is not None:
            self.agent_run.stop(OutcomeKind.INTERRUPTED)

    # -- the task -----------------------------------------------------------------------------

    async def run(
        self,
        spec: TaskSpec,
        *,
        task_id: int | None = None,
        resumed: TaskView | None = None,
        begun: Begun | None = None,
    ) -> TaskResult:
        """Run the task (``task_id``: one queued in the store; ``resumed``: its row, when a
        worker pool took it, parked before or not; ``begun``: ``ado run`` began it already,
        with ``self.start``)."""
        from ado.routing.reserve import reserve

        started = time.monotonic()
        if begun is None:
            begun = await asyncio.to_thread(
                self.start.begin,
                spec,
                task_id=task_id,
                resumed=resumed,
                open_first=not self.cancelled,  # cancelled already: no agent starts
            )
        cfg = self.config
        spec, task_id, router = begun.spec, begun.task_id, begun.router
        opts, filters, first = spec.options, begun.filters, begun.first
        attempts: list[AttemptInfo] = []
        tried: set[tuple[str, str]] = set()
        total, cost, api_cost = Usage(), 0.0, 0.0
        status, error, exit_code = TaskStatus.FAILED, None, 1
        max_attempts = (cfg.routing.failover.max_retries + 1) if cfg.routing.failover.enabled else 1
        parks, done_before = begun.parks, begun.done_before
        since_park = 0  # attempts made before the last wake-up in this process
        created_at = begun.created_at
        disowned: TaskDisowned | None = None
        try:
            if begun.failure is not None:
                raise begun.failure
            if parks:  # due after a park: not after the task's not-after time
                from ado.routing.parking import resume_refused

                if refused := resume_refused(opts.not_after, created_at, datetime.now(UTC)):
                    raise refused
            # An attempt begun is run even when cancelled meanwhile: its agent is running,
            # and only its run stops it and records its attempt (``run_attempt``).
            while first is not None or (
                len(attempts) - since_park < max_attempts and not self.cancelled
            ):
                if first is not None:  # begun: routed, and its agent running already
                    opened, first = first, None
                else:
                    plan = await asyncio.to_thread(
                        router.plan, filters, exclude_pairs=frozenset(tried)
                    )
                    if not plan.candidates:
                        if not (self.park_in_queue or opts.wait):
                            raise plan.unavailable()
                        parks = await self._park(task_id, plan, parks, opts.not_after, created_at)
                        if self.park_in_queue:  # a pool resumes it: not finished
                            status, error, exit_code = TaskStatus.PARKED, None, PARKED_EXIT
                            break
                        await self._wait_parked(router, filters, plan)
                        if not self.cancelled:
                            tried.clear()  # a fresh start after the reset
                            since_park = len(attempts)
                            await asyncio.to_thread(
                                self.store.update_task, task_id, status=TaskStatus.RUNNING
                            )
                        continue
                    cand = await asyncio.to_thread(reserve, self.store, plan, task_id)
                    if cand is None:  # another process took the pair's last request: again
                        continue
                    earlier = done_before + len(attempts)  # a resumed park's attempts count too
                    opened = await self._open(begun, cand, earlier)
                cand = opened.cand
                info = await run_attempt(self, task_id, opened, spec)
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
                    task_id, info, cand, outcome, len(attempts) - since_park, max_attempts
                ):
                    break
            else:
                if self.cancelled:
                    status, error, exit_code = TaskStatus.CANCELLED, "cancelled by the user", 130
        except TaskDisowned as exc:  # taken from this process: nothing more is written
            disowned = exc
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
            if status is not TaskStatus.PARKED and disowned is None:
                await self._finish(task_id, status, error, result_text, exit_code)
        except TaskDisowned as exc:
            disowned = exc
        except Exception as exc:  # the store refuses the last event: the status still
            await self._finish_anyway(task_id, TaskStatus.FAILED, f"{error or ''} {exc}".strip(), 1)
            raise
        if disowned is not None:  # what became of the task is its new owner's to record
            self.hooks.on_task_disowned(task_id)
            status, error, exit_code = TaskStatus.INTERRUPTED, str(disowned), disowned.exit_code
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

    async def _open(self, begun: Begun, cand: Candidate, earlier: int) -> Opened:
        """Attempt ``earlier + 1`` on ``cand``: chosen, told of the earlier ones (a handoff),
        its costs checked (API modes), opened (``TaskStart.open_attempt``)."""
        spec = begun.spec
        await asyncio.to_thread(begun.router.commit_choice, cand)
        resume = begun.resume_session if cand.provider == begun.resume_provider else None
        handoff = None if resume else await self._handoff(begun.task_id, spec, earlier)
        if cand.is_api:
            await self._check_costs(cand, spec)
        await self.events.flush()  # the earlier attempt's events stay before this one's
        return await asyncio.to_thread(
            self.start.open_attempt,
            begun.task_id,
            earlier + 1,
            cand,
            spec,
            begun.policy,
            resume,
            handoff,
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

    async def _handoff(self, task_id: int, spec: TaskSpec, earlier: int) -> Handoff | None:
        """What the next attempt is told of the task's ``earlier`` ones, as stored
        (``ado.orchestrator.handoff``; a parked task's, made by another process, too); the
        task's first attempt needs no look."""
        if not earlier:
            return None
        from ado.orchestrator.handoff import build_handoff

        cfg = self.config
        return await asyncio.to_thread(
            build_handoff,
            self.store,
            task_id,
            spec.prompt,
            Path(spec.cwd),
            mode=cfg.routing.failover.handoff,
            limit=cfg.orchestration.max_prompt_bytes,
        )

    # -- helpers ------------------------------------------------------------------------------

    async def _check_costs(self, cand: Candidate, spec: TaskSpec) -> None:
        from ado import pricing
        from ado.routing.costs import check_costs

        estimate = pricing.estimate_task_cost(
            spec.prompt,
            cand.provider,
            cand.mode_config,
            spec.options.model or cand.provider_config.default_options.model,
        )
        confirm = None if spec.assume_yes else self.start.confirm
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

    async def _finish(
        self, task_id: int, status: str, error: str | None, result_text: str, exit_code: int
    ) -> None:
        await self.events.emit(
            task_id,
            None,
            AgentEvent(
                EventKind.TASK_FINISHED,
                text=error or result_text,
                data={"status": status, "exitCode": exit_code},
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
        except TaskDisowned:
            pass  # the task is another's now: its status is not this process's to write
        except Exception:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.store.finish_task, task_id, status=status, error=error, exit_code=exit_code
                )

    async def _park(
        self,
        task_id: int,
        plan: RoutingPlan,
        parks: int,
        not_after: str | None,
        created_at: datetime,
    ) -> int:
        """Park the task until the plan's earliest reset (``ado.routing.parking.decide``
        raises when it may not be parked); the number of parks so far."""
        from ado.routing.limits import clock
        from ado.routing.parking import decide

        now = datetime.now(UTC)
        park = decide(
            plan,
            parks=parks,
            max_parks=self.config.routing.quota.max_parks,
            not_after=not_after,
            created_at=created_at,
            now=now,
        )
        # The event first: parked in the queue, the task is no longer this process's.
        await self.events.emit(
            task_id,
            None,
            AgentEvent(
                EventKind.LOG,
                text=f"parked: {park.reason}; every provider is limited, waiting until "
                f"{clock(park.until, now)} (park {parks + 1})",
                reset_at=park.until,
                data={"parked": True, "parks": parks + 1},
            ),
            flush=True,
        )
        return await asyncio.to_thread(
            self.store.park_task,
            task_id,
            until=park.until,
            reason=park.reason,
            in_queue=self.park_in_queue,
        )

    async def _wait_parked(self, router: Router, filters: RouteFilters, plan: RoutingPlan) -> None:
        """``--wait``: sleep until the plan's earliest reset, looking at the store every
        ``WAIT_RECHECK`` seconds (no agent runs): a cooldown cleared meanwhile ends it early."""
        when = plan.earliest_reset
        assert when is not None  # a plan is parked on only with a known reset
        while not self.cancelled:
            left = (when - datetime.now(UTC)).total_seconds()
            if left <= 0:
                return
            await self._sleep(min(left + 0.05, WAIT_RECHECK))
            if (await asyncio.to_thread(router.plan, filters)).candidates:
                return

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._cancelled.wait(), seconds)
        except TimeoutError:
            pass
