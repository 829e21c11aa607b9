"""A task's start, up to its first agent's spawn: synchronous, with nothing of asyncio.

    start = build_start(config, store, services, hooks=[view])   # ado.orchestrator.compose
    begun = start.begin(spec)        # stored, routed, the first attempt's agent spawned
    runner = Runner.from_start(start)                # asyncio and the runner load now
    result = await runner.run(spec, begun=begun)

``ado run`` calls ``begin`` before its event loop exists, so the agent starts while the rest
of ADO loads (exec → spawn: docs/performance.md); ``Runner.run`` calls it in a worker thread
when it was not called. Every later attempt is opened with ``open_attempt`` too: there is one
way into an attempt. ``begin`` leaves to the Runner what needs its loop or a question: an API
mode's cost checks, a handoff to write, parking when every provider is limited.

The hooks' ``on_task_start`` and ``attempt_env`` run where the start runs (they must not need
an event loop); the events an attempt starts with, and its spawn, are announced by the Runner
on the loop's thread (``ado.orchestrator.attempt``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ado.errors import TaskNotFound, UsageError
from ado.orchestrator.task import AttemptInfo, TaskSpec
from ado.providers.base import Permission, RunRequest
from ado.providers.events import AgentEvent, EventKind
from ado.providers.orphans import GROUP_MARK_ENV
from ado.records import Record
from ado.store.ids import parse_id
from ado.text import clean_text
from ado.vocab import TaskStatus

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.orchestrator.caps import EventCaps
    from ado.orchestrator.handoff import Handoff
    from ado.orchestrator.hooks import HookChain
    from ado.providers.base import AgentAdapter
    from ado.providers.spawn import Spawned
    from ado.routing.costs import CostGuard
    from ado.routing.router import Candidate, RouteFilters, Router
    from ado.store.methods import SqlMethods
    from ado.store.views import TaskView

__all__ = ["Begun", "Opened", "TaskStart"]


class Opened(Record):
    """An attempt recorded and its agent spawned (or not: ``spawned.error``)."""

    __slots__ = ("cand", "info", "request", "spawned", "events", "guard")

    def __init__(
        self,
        cand: Candidate,
        info: AttemptInfo,
        request: RunRequest,
        spawned: Spawned,
        events: list[AgentEvent],
        guard: CostGuard | None = None,
    ) -> None:
        self.cand = cand
        self.info = info
        self.request = request
        self.spawned = spawned
        #: What the attempt starts with (``attempt_started``, a handoff), stored; the Runner
        #: shows them to the hooks.
        self.events = events
        #: An API mode's spend limit for this run (``ado.routing.costs.CostGuard``).
        self.guard = guard


class Begun(Record):
    """A task stored and routed, and its first attempt when it could start at once."""

    __slots__ = (
        "task_id",
        "spec",
        "policy",
        "filters",
        "router",
        "created_at",
        "resume_provider",
        "resume_session",
        "parks",
        "done_before",
        "first",
        "failure",
    )

    def __init__(
        self,
        task_id: int,
        spec: TaskSpec,
        policy: str,
        filters: RouteFilters,
        router: Router,
        created_at: datetime,
        resume_provider: str | None = None,
        resume_session: str | None = None,
        parks: int = 0,
        done_before: int = 0,
        first: Opened | None = None,
        failure: Exception | None = None,
    ) -> None:
        self.task_id = task_id
        #: The task as stored: its prompt cleaned, its HITL policy decided.
        self.spec = spec
        self.policy = policy
        self.filters = filters
        self.router = router
        self.created_at = created_at
        #: ``--resume``: the provider and session to resume.
        self.resume_provider = resume_provider
        self.resume_session = resume_session
        #: Parks and attempts before this process took the task (a pool resuming it).
        self.parks = parks
        self.done_before = done_before
        self.first = first
        #: What broke after the task was stored: the Runner records the task failing with it.
        self.failure = failure


class TaskStart:
    """The synchronous steps of a task's start, for the Runner and for ``ado run``."""

    def __init__(
        self,
        config: AdoConfig,
        store: SqlMethods,
        *,
        hooks: HookChain,
        adapters: Callable[[str], AgentAdapter],
        caps: EventCaps,
        confirm: Callable[[str], bool] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.hooks = hooks
        #: The adapter of a provider id (the registered ones; a test passes scripted ones).
        self.adapters = adapters
        self.caps = caps
        self.confirm = confirm

    def begin(
        self,
        spec: TaskSpec,
        *,
        task_id: int | None = None,
        resumed: TaskView | None = None,
        open_first: bool = True,
    ) -> Begun:
        """Store the task (``task_id``: one queued, ``resumed``: its row), route it, and open
        its first attempt when nothing is left to ask or wait for (and ``open_first``: not
        when the task was cancelled already). Raises only before the task is stored (a bad
        ``--resume``); later failures are in ``Begun.failure``."""
        from ado.routing.router import Router

        cfg, opts = self.config, spec.options
        policy = opts.hitl_policy or cfg.hitl.default_policy
        resume_provider, resume_session = self.resolve_resume(opts.resume)
        filters = spec.filters
        if resume_provider is not None:
            self.check_resumable(resume_provider, opts.resume or "")
            filters = filters.replace(provider=resume_provider, providers=None)
        options = opts.replace(hitl_policy=policy).stored()
        spec = spec.replace(prompt=clean_text(spec.prompt))  # a NUL, a surrogate
        if task_id is None:
            task_id = self.store.create_task(
                prompt=spec.prompt, cwd=str(spec.cwd), hitl_policy=policy, options=options
            )
        else:
            self.store.update_task(task_id, status=TaskStatus.RUNNING, started_at=datetime.now(UTC))
        self.hooks.on_task_start(task_id, spec)
        begun = Begun(
            task_id,
            spec,
            policy,
            filters,
            Router(cfg, self.store, installed=self.installed()),
            resumed.created_at if resumed is not None else datetime.now(UTC),
            resume_provider,
            resume_session,
            parks=resumed.parks if resumed is not None else 0,
            done_before=resumed.attempt_count if resumed is not None else 0,
        )
        try:
            begun.first = self._first(begun) if open_first else None
        except Exception as exc:  # recorded by the Runner, as any failure of the task's
            begun.failure = exc
        return begun

    def _first(self, begun: Begun) -> Opened | None:
        """The first attempt, opened, unless the Runner must decide it (see the module)."""
        from ado.routing.reserve import reserve

        if begun.parks:  # due after a park: the Runner checks the not-after time first
            return None
        plan = begun.router.plan(begun.filters)
        if not plan.candidates:
            return None  # no provider, or park: the Runner raises or parks
        cand = plan.candidates[0]
        resume = begun.resume_session if cand.provider == begun.resume_provider else None
        if cand.is_api or (begun.done_before and resume is None):
            return None  # cost checks (maybe a question), or a handoff to write
        reserved = reserve(self.store, plan, begun.task_id)
        if reserved is None:  # another process took the pair's last request: the Runner
            return None  # routes again
        cand = reserved
        begun.router.commit_choice(cand)
        return self.open_attempt(
            begun.task_id, begun.done_before + 1, cand, begun.spec, begun.policy, resume
        )

    def open_attempt(
        self,
        task_id: int,
        number: int,
        cand: Candidate,
        spec: TaskSpec,
        policy: str,
        resume_session: str | None,
        handoff: Handoff | None = None,
    ) -> Opened:
        """Record attempt ``number`` on ``cand`` and spawn its agent: the request (permissions,
        model, turns, timeout, environment, the group mark), the attempt's row and first
        events, the agent's pid."""
        cfg = self.config
        pcfg, mcfg = cand.provider_config, cand.mode_config
        adapter = self.adapters(cand.provider)
        model = spec.options.model or pcfg.default_options.model
        thresholds = cfg.hitl.escalation_thresholds
        timeout = pcfg.timeout
        if thresholds.max_duration:
            timeout = min(timeout, thresholds.max_duration)
        request = RunRequest(
            prompt=handoff.prompt if handoff else spec.prompt,
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
        store = self.store
        attempt_id = store.start_attempt(
            task_id,
            number=number,
            provider=cand.provider,
            access_mode=cand.access_mode,
            model=model,
            reason=cand.reason,
        )
        info = AttemptInfo(attempt_id, number, cand.provider, cand.access_mode, model, cand.reason)
        info.reservation = cand.reservation  # the usage row its request was reserved as
        started = AgentEvent(
            EventKind.ATTEMPT_STARTED,
            text=cand.reason,
            data={
                "number": number,
                "provider": cand.provider,
                "accessMode": cand.access_mode,
                "model": model,
            },
        )
        events = self._admit(task_id, info, [started, *([handoff.event()] if handoff else [])])
        request.extra_env.update(self.hooks.attempt_env(task_id, info))
        # Marks every process of the agent's group, so a later start can tell them from
        # unrelated processes that reuse its pid (ado.providers.orphans).
        group_mark = os.urandom(8).hex()  # as secrets.token_hex(8), without its imports
        request.extra_env[GROUP_MARK_ENV] = group_mark
        guard = None
        if cand.is_api:  # per-task limit, capped by today's budget left
            from ado.routing.costs import CostGuard

            guard = CostGuard.for_task(
                store, cfg, max_cost=spec.options.max_cost, now=datetime.now(UTC)
            )
        spawned = adapter.start(request)
        try:
            if spawned.pid is not None:
                store.set_agent_pid(attempt_id, spawned.pid, group_mark)
            # Stored once the agent runs: storing an event loads the wire form of events
            # (``ado.api.keys``), which the spawn need not wait for. Nothing else writes to
            # the attempt in between, so it is still its first event.
            store.add_events(task_id, attempt_id, events)
        except BaseException:  # the pid not recorded, or the task taken from this process
            spawned.abandon()  # (``TaskDisowned``): nobody would stop the agent later
            raise
        return Opened(cand, info, request, spawned, events, guard)

    def _admit(self, task_id: int, info: AttemptInfo, events: list[AgentEvent]) -> list[AgentEvent]:
        """``events`` as the task's event caps keep them (``ado.orchestrator.caps``)."""
        kept = []
        for event in events:
            keep, notice = self.caps.admit(task_id, info, event)
            if notice is not None:
                kept.append(notice)
            if keep:
                kept.append(event)
        return kept

    # -- resuming a session -------------------------------------------------------------------

    def resolve_resume(self, resume: str | None) -> tuple[str | None, str | None]:
        """``--resume`` takes an ADO task id or an agent session id; returns (provider, sid)."""
        if not resume:
            return None, None
        if resume.isascii() and resume.isdigit():
            task_id = parse_id(resume)  # None beyond 64 bits: no such task either
            task = None if task_id is None else self.store.get_task(task_id)
            if task is None:
                raise TaskNotFound(resume, option="--resume")
            for attempt in reversed(task.attempts):
                if attempt.session_id:
                    return attempt.provider, attempt.session_id
            raise UsageError(f"--resume {resume}: task {resume} has no agent session to resume")
        found = self.store.find_session(resume)
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

    def installed(self) -> Callable[[str], bool]:
        """Whether a provider's agent is installed (asked once per provider per task)."""
        cache: dict[str, bool] = {}

        def installed(provider: str) -> bool:
            if provider not in cache:
                pcfg = self.config.providers.get(provider)
                adapter = self.adapters(provider)
                command = pcfg.command if pcfg else None
                cache[provider] = adapter.resolve_command(command) is not None
            return cache[provider]

        return installed
