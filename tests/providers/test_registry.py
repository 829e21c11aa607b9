import pytest

from ado.providers import adapter_classes, get_adapter
from ado.providers.base import AgentAdapter, ParseState, Permission, RunRequest

EXPECTED = {
    "claude-code": ("ClaudeCode", "CLAUDE.md"),
    "codex": ("Codex", "AGENTS.md"),
    "gemini-cli": ("GeminiCli", "GEMINI.md"),
    "cursor-agent": ("CursorAgent", ".cursorrules"),
    "copilot": ("Copilot", ".github/copilot-instructions.md"),
    "opencode": ("OpenCode", "AGENTS.md"),
}


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
