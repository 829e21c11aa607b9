from collections.abc import Iterator

import pytest

from ado import providers
from ado.providers import adapter_class, adapter_classes, builtin_refs, get_adapter
from ado.providers.base import AgentAdapter, ParseState, Permission, RunRequest

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
