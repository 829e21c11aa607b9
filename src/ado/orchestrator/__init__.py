"""Running a task: route it, run the agent, record everything, fail over on limits."""

from ado.orchestrator.runner import Runner, TaskResult, TaskSpec, TaskUpdate

__all__ = ["Runner", "TaskResult", "TaskSpec", "TaskUpdate"]
