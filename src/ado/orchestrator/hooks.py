"""What watches a task: typed hooks the ``Runner`` calls, instead of loose callables.

Subclass ``RunnerHooks`` and override what you need (every method is a no-op by default), as
openai-agents' ``RunHooks``. The views of ``ado run``, telemetry and the notification
listener are hooks; ``Runner(config, store, hooks=[...])`` calls them in the order given.

- ``on_task_start(task_id, spec)``   the task is stored and about to be routed
- ``on_update(update)``              every event, the moment it happens (never blocks)
- ``attempt_env(task_id, attempt)``  extra environment variables for an attempt's agent
- ``on_spawn(task_id, attempt, pid)``  an attempt's agent process started
- ``on_task_disowned(task_id)``      the task is no longer this process's (its pool was taken
                                     as lost): no more updates, no ``task_finished``; forget it

A hook must not raise into the task; the ones ADO ships catch and log their own failures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ado.orchestrator.task import AttemptInfo, TaskSpec, TaskUpdate

__all__ = ["HookChain", "OnUpdate", "RunnerHooks"]


class RunnerHooks:
    """The Runner's callbacks; each is a no-op here."""

    def on_task_start(self, task_id: int, spec: TaskSpec) -> None:
        return None

    def on_update(self, update: TaskUpdate) -> None:
        return None

    def attempt_env(self, task_id: int, attempt: AttemptInfo) -> dict[str, str]:
        return {}

    def on_spawn(self, task_id: int, attempt: AttemptInfo, pid: int) -> None:
        return None

    def on_task_disowned(self, task_id: int) -> None:
        return None


class OnUpdate(RunnerHooks):
    """A plain ``on_update`` callable as hooks (a live view, a test's recorder)."""

    def __init__(self, callback: Callable[[TaskUpdate], None]) -> None:
        self.callback = callback

    def on_update(self, update: TaskUpdate) -> None:
        self.callback(update)


class HookChain(RunnerHooks):
    """Several hooks as one, called in order; ``attempt_env`` merges what each gives."""

    def __init__(self, hooks: Iterable[RunnerHooks] = ()) -> None:
        self.hooks = list(hooks)

    def on_task_start(self, task_id: int, spec: TaskSpec) -> None:
        for hook in self.hooks:
            hook.on_task_start(task_id, spec)

    def on_update(self, update: TaskUpdate) -> None:
        for hook in self.hooks:
            hook.on_update(update)

    def attempt_env(self, task_id: int, attempt: AttemptInfo) -> dict[str, str]:
        env: dict[str, str] = {}
        for hook in self.hooks:
            env.update(hook.attempt_env(task_id, attempt))
        return env

    def on_spawn(self, task_id: int, attempt: AttemptInfo, pid: int) -> None:
        for hook in self.hooks:
            hook.on_spawn(task_id, attempt, pid)

    def on_task_disowned(self, task_id: int) -> None:
        for hook in self.hooks:
            hook.on_task_disowned(task_id)
