"""Running a task: route it, run the agent, record everything, fail over on limits.

The names below load on first use: ``ado run`` starts its agent (``ado.orchestrator.start``)
before the Runner and asyncio are imported.
"""

from typing import TYPE_CHECKING

from ado._lazy import lazy_exports
from ado.orchestrator.task import AttemptInfo, TaskResult, TaskSpec, TaskUpdate

if TYPE_CHECKING:
    from ado.orchestrator.runner import Runner

__all__ = ["AttemptInfo", "Runner", "TaskResult", "TaskSpec", "TaskUpdate"]

__getattr__ = lazy_exports(__name__, {"Runner": "runner"})
