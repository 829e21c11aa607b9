"""Running a task: route it, run the agent, record everything, fail over on limits."""

from ado.orchestrator.runner import Runner
from ado.orchestrator.task import AttemptInfo, TaskResult, TaskSpec, TaskUpdate

__all__ = ["AttemptInfo", "Runner", "TaskResult", "TaskSpec", "TaskUpdate"]
