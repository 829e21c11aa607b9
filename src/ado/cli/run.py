"""``ado run PROMPT``."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from ado.cli.context import AppContext
from ado.options import MAX_COST_USD, MAX_TURNS
from ado.orchestrator.hooks import RunnerHooks
from ado.text import lone_surrogate_at, prompt_size_error
from ado.vocab import AccessMode, HitlPolicy, TaskStatus, values

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from ado.orchestrator import TaskResult, TaskUpdate
    from ado.orchestrator.compose import Services
    from ado.orchestrator.runner import Runner
    from ado.orchestrator.start import Begun
    from ado.orchestrator.task import AttemptInfo
    from ado.providers.events import AgentEvent


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@click.command()
@click.argument("prompt", nargs=-1, required=True)
@click.option("-p", "--provider", help="Use only this provider (e.g. claude-code).")
@click.option("--providers", multiple=True, help="Only these providers, in this order (a,b,c).")
@click.option("--exclude", multiple=True, help="Never use these providers (a,b).")
@click.option("--access-mode", type=click.Choice(values(AccessMode)), help="Only this access mode.")
@click.option(
    "--require",
    multiple=True,
    metavar="CAPABILITY",
    help="Only providers with these capabilities (codeReview, testing…) or languages (python).",
)
@click.option("--no-api-fallback", is_flag=True, help="Never fall back to pay-per-token API modes.")
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0, max=MAX_COST_USD),
    help="Cost limit for this task (USD).",
)
@click.option("--model", help="Model to ask the agent for.")
@click.option(
    "--max-turns", type=click.IntRange(min=1, max=MAX_TURNS), help="Stop the agent after N turns."
)
@click.option("--resume", metavar="TASK|SESSION", help="Continue an earlier task's agent session.")
@click.option("--hitl", type=click.Choice(values(HitlPolicy)), help="Human-in-the-loop policy.")
@click.option(
    "--yolo", is_flag=True, help="No sandbox and no approvals at all (trusted repos only)."
)
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Do not ask before costly API runs.")
@click.option("--wait", is_flag=True, help="When every provider is limited, wait for a reset.")
@click.option(
    "--not-after",
    metavar="HH:MM",
    help="Wait as --wait does, but never resume after this local time (fail instead).",
)
@click.option("--cwd", type=click.Path(file_okay=False, exists=True), help="Working directory.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines of events on stdout.")
@click.pass_obj
def run(
    app: AppContext,
    prompt: tuple[str, ...],
    provider: str | None,
    providers: tuple[str, ...],
    exclude: tuple[str, ...],
    access_mode: str | None,
    require: tuple[str, ...],
    no_api_fallback: bool,
    max_cost: float | None,
    model: str | None,
    max_turns: int | None,
    resume: str | None,
    hitl: str | None,
    yolo: bool,
    assume_yes: bool,
    wait: bool,
    not_after: str | None,
    cwd: str | None,
    as_json: bool,
) -> None:
    """Run PROMPT on the best available agent (``-`` reads the prompt from stdin; at most
    ``orchestration.maxPromptBytes``, 131071 bytes by default).

    Providers are tried subscription-first (by priority); when one hits a usage or rate
    limit the task moves to the next one within seconds.

    Exit codes: 0 success, 1 task failed, 2 usage/config error, 3 no provider available,
    4 cost limit, 130 interrupted.
    """
    from ado.options import TaskOptions, check_prompt
    from ado.orchestrator import TaskSpec
    from ado.orchestrator.compose import Services, build_start, effective_config

    app.config_cache = True  # the validated configuration, read without pydantic or YAML
    app.sweep_later = True  # orphaned tasks are marked interrupted after the spawn
    text = " ".join(prompt).strip()
    if text == "-":
        text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").strip()
    for name, value in (("the prompt", text), ("--model", model), ("--cwd", cwd)):
        if value is not None and lone_surrogate_at(value) is not None:
            raise click.UsageError(
                f"{name} is not valid UTF-8 text (a byte such as 0xff was given); "
                "check the terminal's or the file's encoding"
            )
    try:
        check_prompt(text)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    limit = app.loaded.config.orchestration.max_prompt_bytes
    if (too_long := prompt_size_error(text, limit)) is not None:
        raise click.UsageError(f"{too_long}; pass a shorter prompt, or point to a file in it")
    if provider and providers:
        raise click.UsageError("use either --provider or --providers, not both")
    if cwd:
        app.cwd = os.path.realpath(cwd)
    from ado.cli.preflight import check_run

    check_run(app, provider, _split(providers), _split(exclude))  # exit 2 before any record
    # The plain-SQL store (no SQLAlchemy before the agent starts; the full one on a first run).
    store = app.reader
    config = effective_config(app.loaded, store)  # the file + settings saved through the API
    options = TaskOptions.checked(
        provider=provider,
        providers=_split(providers) or None,
        exclude=_split(exclude) or None,
        access_mode=AccessMode(access_mode) if access_mode else None,
        require_capabilities=_split(require) or None,
        allow_api=False if no_api_fallback else None,
        hitl_policy=HitlPolicy(hitl) if hitl else None,
        yolo=yolo,
        model=model,
        max_turns=max_turns,
        resume=resume,
        max_cost=max_cost,
        wait=wait or not_after is not None,
        not_after=_with_offset(not_after),
    )
    spec = TaskSpec(prompt=text, cwd=app.cwd, options=options, assume_yes=assume_yes)
    view = JsonView() if as_json else LiveView(warn_at=config.routing.quota.warn_at)
    # Notifications and telemetry (docs/telemetry.md): nothing of them loads when they are off.
    services = Services.for_run(config, app.loaded.base_dir, debug=app.debug)
    start = build_start(config, store, services, hooks=[view], confirm=view.confirm)
    # The agent starts before the event loop and the runner load (exec → spawn,
    # docs/performance.md); a Ctrl-C meanwhile is kept for the loop to act on.
    signals = _HeldSignals()
    try:
        begun = start.begin(spec)
        app.sweep_orphans()
        from ado import startup

        startup.resume()  # the collector, paused while ADO loaded
        import asyncio

        from ado.orchestrator.runner import Runner

        runner = Runner.from_start(start)
        result = asyncio.run(_run(runner, begun, view, services, signals))
    finally:
        signals.restore()
        view.close()
        services.shutdown()  # flushes spans and metrics, bounded by flushTimeout
        app.close()
    view.summary(result)
    sys.exit(result.exit_code)


class _HeldSignals:
    """SIGINT and SIGTERM noted, not acted on, until ``_run``'s loop handles them: a task
    begun must be run (and its agent stopped) by the runner, never abandoned half-way."""

    def __init__(self) -> None:
        self.count = 0
        self._before = {
            sig: signal.signal(sig, self._note) for sig in (signal.SIGINT, signal.SIGTERM)
        }

    def _note(self, signum: int, frame: object) -> None:
        self.count += 1

    def restore(self) -> None:
        for sig, handler in self._before.items():
            signal.signal(sig, handler)


def _with_offset(not_after: str | None) -> str | None:
    """``--not-after 23:00`` in this terminal's time zone: ``23:00+01:00`` (an offset given
    is kept; a bad value is left for the options' check to refuse)."""
    if not_after is None:
        return None
    from ado.routing.parking import check_not_after

    try:
        text = check_not_after(not_after)  # 23:00, or 23:00+02:00 as given
    except ValueError:
        return not_after
    offset = time.strftime("%z")  # +0100
    return f"{text}{offset[:3]}:{offset[3:]}" if len(text) == 5 and offset else text


async def _run(
    runner: Runner,
    begun: Begun,
    view: LiveView | JsonView,
    services: Services,
    signals: _HeldSignals,
) -> TaskResult:
    import asyncio  # loaded after the agent's spawn

    loop = asyncio.get_running_loop()
    presses = 0

    def interrupt() -> None:
        nonlocal presses
        presses += 1
        view.note("stopping the agent… (Ctrl-C again to force)" if presses == 1 else "forcing")
        runner.cancel()
        if presses > 1 and runner.agent_run is not None and runner.agent_run.process is not None:
            runner.agent_run.process._kill_group(signal.SIGKILL)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    for _ in range(signals.count):  # pressed while the task began
        interrupt()
    ticker = asyncio.create_task(view.tick())
    try:
        result: TaskResult = await runner.run(begun.spec, begun=begun)
        return result
    finally:
        ticker.cancel()
        await services.aclose()  # pending notifications, bounded
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class LiveView(RunnerHooks):
    """Events as lines, with a status line (provider, elapsed, tokens, cost) kept at the bottom.

    Rich loads once the agent has spawned (``on_spawn``), or when something must be shown
    before (a question, a note, the end of a task that spawned none); the lines of the events
    until then ("▶ attempt 1…") are printed at that moment, in order."""

    console: Console
    live: Live

    def __init__(self, warn_at: float = 1.0) -> None:
        self.started = time.monotonic()
        self.warn_at = warn_at  # routing.quota.warnAt: a window past it gets a line, once
        self._warned: set[tuple[str, str]] = set()
        self.provider = ""
        self.tokens_in = self.tokens_out = 0
        self.cost = 0.0
        self._pending: list[TaskUpdate] | None = []

    def on_spawn(self, task_id: int, attempt: AttemptInfo, pid: int) -> None:
        self._open()

    def _open(self) -> None:
        if self._pending is None:
            return
        from rich.live import Live

        from ado.cli.context import console

        pending, self._pending = self._pending, None
        self.console = console(stderr=False)
        self.live = Live(
            self._status(),
            console=self.console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        if self.console.is_terminal:
            self.live.start()
        for update in pending:
            self.on_update(update)

    def _status(self) -> Any:
        from rich.text import Text

        from ado.cli.render import format_cost, format_duration, format_tokens

        elapsed = format_duration(time.monotonic() - self.started)
        return Text.from_markup(
            f"[dim]{self.provider or 'routing'} · {elapsed} · "
            f"{format_tokens(self.tokens_in)} in / {format_tokens(self.tokens_out)} out · "
            f"{format_cost(self.cost)}[/]"
        )

    async def tick(self) -> None:
        import asyncio  # loaded with the event loop, after the agent's spawn

        while True:
            await asyncio.sleep(0.25)
            if self._pending is None and self.live.is_started:
                self.live.update(self._status(), refresh=True)

    def on_update(self, update: TaskUpdate) -> None:
        if self._pending is not None:
            self._pending.append(update)
            return
        from ado.cli.render import event_line
        from ado.providers.events import EventKind

        ev = update.event
        if update.attempt is not None:
            self.provider = f"{update.attempt.provider}/{update.attempt.access_mode}"
        if ev.usage is not None:
            self.tokens_in += ev.usage.input_tokens + ev.usage.cache_read_tokens
            self.tokens_out += ev.usage.output_tokens
            if ev.usage.cost_usd:
                self.cost += ev.usage.cost_usd
        if ev.kind is EventKind.ERROR and update.attempt is None:
            return  # the task's own error: printed once, by the command, as it exits
        if ev.kind is EventKind.QUOTA and update.attempt is not None:
            self._quota_warning(update.attempt.provider, ev)
        line = event_line(ev)
        if line is not None:
            self.console.print(line)
        if self.live.is_started:
            self.live.update(self._status(), refresh=True)

    def _quota_warning(self, provider: str, event: AgentEvent) -> None:
        """A usage window at ``routing.quota.warnAt``: one line per window, in the words of
        the ``rate_limit.warning`` notification ("claude-code 5-hour window at 82 %, resets
        14:05 UTC"). A rejected window is a limit reached: the attempt's end tells it."""
        from datetime import UTC, datetime

        from ado.cli.render import safe
        from ado.routing.headroom import window_summary
        from ado.routing.quota import reading_of
        from ado.vocab import QuotaStatus

        now = datetime.now(UTC)
        view = reading_of(provider, event, now)
        if view is None or view.used_ratio is None or view.used_ratio < self.warn_at:
            return
        if view.status == QuotaStatus.REJECTED or (provider, view.kind) in self._warned:
            return
        self._warned.add((provider, view.kind))
        self.console.print(f"[yellow]⚠ {safe(provider)} {window_summary(view, now)}[/]")

    def note(self, text: str) -> None:
        self._open()
        self.console.print(f"[yellow]{text}[/]")

    def confirm(self, message: str) -> bool:
        self._open()
        if not sys.stdin.isatty():
            return False
        was_live = self.live.is_started
        if was_live:
            self.live.stop()
        try:
            return click.confirm(message, default=False)
        finally:
            if was_live:
                self.live.start()

    def close(self) -> None:
        self._open()
        if self.live.is_started:
            self.live.stop()

    def summary(self, result: TaskResult) -> None:
        from ado.cli.render import summary_line

        self._open()
        files = [f for a in result.attempts for f in a.files]
        self.console.print(
            summary_line(
                result.status,
                result.duration_s,
                result.usage.input_tokens + result.usage.cache_read_tokens,
                result.usage.output_tokens,
                result.cost_usd,
                result.api_cost_usd,
                files,
                result.task_id,
            )
        )
        if result.error and result.status != TaskStatus.SUCCEEDED:
            from ado.cli.context import console
            from ado.cli.render import safe

            console(stderr=True).print(f"[red]Error: {safe(result.error)}[/]", soft_wrap=True)


class JsonView(RunnerHooks):
    """One JSON object per line: every event (``RunEvent``), then a summary (``RunSummary``),
    their keys those of the models in ``ado.api.schemas``."""

    def on_update(self, update: TaskUpdate) -> None:
        from ado.api.keys import keyed

        data = update.event.to_dict()
        kind = data.pop("kind")
        attempt = update.attempt
        record = keyed(
            "RunEvent",
            task_id=update.task_id,
            attempt_id=attempt.id if attempt else None,
            attempt=attempt.number if attempt else None,
            provider=attempt.provider if attempt else None,
            access_mode=attempt.access_mode if attempt else None,
            kind=kind,
            data=data,
        )
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    async def tick(self) -> None:
        return None

    def note(self, text: str) -> None:
        print(text, file=sys.stderr)

    def confirm(self, message: str) -> bool:
        return False

    def close(self) -> None:
        pass

    def summary(self, result: TaskResult) -> None:
        from ado.api.keys import keyed

        attempts = [
            keyed(
                "RunAttempt",
                number=a.number,
                provider=a.provider,
                access_mode=a.access_mode,
                outcome=a.outcome.kind.value if a.outcome else None,
                reset_at=a.outcome.reset_at.isoformat()
                if a.outcome and a.outcome.reset_at
                else None,
                session_id=a.session_id,
                files_changed=a.files,
            )
            for a in result.attempts
        ]
        record = keyed(
            "RunSummary",
            kind="summary",
            task_id=result.task_id,
            status=result.status,
            exit_code=result.exit_code,
            duration_s=round(result.duration_s, 3),
            usage=result.usage.to_dict(),
            cost_usd=result.cost_usd,
            api_cost_usd=result.api_cost_usd,
            error=result.error,
            attempts=attempts,
        )
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        if result.error and result.status != TaskStatus.SUCCEEDED:
            from ado.cli.render import printable

            print(f"Error: {printable(result.error)}", file=sys.stderr)
