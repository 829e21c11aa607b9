from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ado import providers
from ado.config.schema import AdoConfig
from ado.errors import UsageError
from ado.options import TaskOptions
from ado.orchestrator import Runner, TaskSpec
from ado.providers import adapter_class, adapter_classes, builtin_refs, get_adapter
from ado.providers.base import AgentAdapter, ParseState, Permission, RunRequest
from ado.providers.events import AgentEvent, Usage
from ado.store import Store

EXPECTED = {
    "claude-code": ("ClaudeCode", "CLAUDE.md"),
    "codex": ("Codex", "AGENTS.md"),
    "gemini-cli": ("GeminiCli", "GEMINI.md"),
    "cursor-agent": ("CursorAgent", ".cursorrules"),
    "copilot": ("Copilot", ".github/copilot-instructions.md"),
    "opencode": ("OpenCode", "AGENTS.md"),
}


@pytest.fixture
def remembered() -> Iterator[dict[str, str]]:
    """``ado.providers``' remembered entry points (what ``ado run`` reads from its cache),
    and a fresh ``adapter_class`` lookup before and after."""
    adapter_class.cache_clear()
    yield providers._remembered
    providers._remembered.clear()
    adapter_class.cache_clear()


def test_remembered_entry_points_are_what_the_distribution_says() -> None:
    refs = builtin_refs(EXPECTED)
    assert refs is not None and refs["cursor-agent"] == "ado.providers.cursor_agent:CursorAgent"
    assert builtin_refs(["cursor-agent", "someone-elses-agent"]) is None  # a plugin's: unknown


@pytest.mark.parametrize(
    "ref",
    [
        "ado.providers.codex:Codex",  # an adapter, but of another id
        "os:system",  # not ADO's
        "ado.providers.cursor_agent:nothing_here",
        "ado.providers.no_such_module:CursorAgent",
        "ado.errors:AdoError",
        "not a ref",
    ],
)
def test_a_wrong_remembered_entry_point_is_not_used(remembered: dict[str, str], ref: str) -> None:
    """Adversarial: a cache entry remembering the wrong thing; the entry points decide."""
    providers.remember_builtins({"cursor-agent": ref})
    assert adapter_class("cursor-agent").__name__ == "CursorAgent"


def test_a_remembered_entry_point_is_used(remembered: dict[str, str]) -> None:
    providers.remember_builtins({"cursor-agent": "ado.providers.cursor_agent:CursorAgent"})
    assert providers._remembered_class("cursor-agent") is adapter_class("cursor-agent")


def test_every_builtin_adapter_is_registered() -> None:
    classes = adapter_classes()
    assert {k: v.__name__ for k, v in classes.items() if k in EXPECTED} == {
        k: name for k, (name, _) in EXPECTED.items()
    }


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
def test_capability_flags(provider_id: str) -> None:
    adapter = get_adapter(provider_id)
    assert isinstance(adapter, AgentAdapter)
    assert adapter.id == provider_id
    assert adapter.context_file == EXPECTED[provider_id][1]
    assert adapter.display_name and adapter.executable and adapter.install_hint
    for permission in Permission:
        args = adapter.build_args(RunRequest(prompt="hello", cwd=".", permission=permission))
        assert "hello" in args


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
@pytest.mark.parametrize(
    "line",
    [
        {},
        {"type": None},
        {"type": "result", "usage": "x", "stats": []},
        {"type": "error"},
        {"type": "assistant", "message": {"content": [None, 3, "x"]}},
    ],
)
def test_odd_lines_never_raise(provider_id: str, line: dict[str, object]) -> None:
    list(get_adapter(provider_id).parse_line(line, ParseState()))


class _NoResume(AgentAdapter):
    """An agent that cannot continue a session (registered as a plugin would be)."""

    id = "no-resume"
    display_name = "No Resume"
    executable = "no-resume-agent"
    install_hint = "none"
    context_file = "AGENTS.md"
    supports_resume = False

    def build_args(self, request: RunRequest) -> list[str]:
        return [request.prompt]

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        return ()


async def test_resume_on_an_agent_without_resume_is_refused(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``supports_resume = False`` is a promise: ``--resume`` is refused before anything runs."""
    monkeypatch.setitem(adapter_classes(), _NoResume.id, _NoResume)
    task_id = store.create_task(
        prompt="first", cwd=str(tmp_path), hitl_policy="autonomous", options={}
    )
    attempt = store.start_attempt(
        task_id, number=1, provider=_NoResume.id, access_mode="subscription", model=None, reason="t"
    )
    store.finish_attempt(
        attempt, outcome="success", message="", exit_code=0, session_id="s-1", reset_at=None,
        usage=Usage(), cost_usd=0.0, api_cost_usd=0.0, files=[],
    )  # fmt: skip
    runner = Runner(AdoConfig(), store)
    for resume in (str(task_id), "s-1"):
        spec = TaskSpec(prompt="go on", cwd=tmp_path, options=TaskOptions(resume=resume))
        with pytest.raises(UsageError, match="No Resume cannot resume a session"):
            await runner.run(spec)
    assert [t.id for t in store.list_tasks()] == [task_id]  # nothing else stored
