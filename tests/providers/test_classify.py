"""How a run ended, read only from what means it: each rule on every agent's recorded output.

The samples are real captures (``tests/data/agent-samples``); the adversarial variants put
limit words where a successful run may well have them — its answer, a tool's output, a
stray stderr line — and the run must still read as a success.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ado.providers import get_adapter
from ado.providers.base import AgentAdapter, Outcome, ParseState
from ado.providers.classify import RunSummary, classify_generic, signal_message
from ado.providers.events import AgentEvent, EventKind
from ado.providers.run import stops_run
from ado.vocab import OutcomeKind

from .helpers import replay, sample_path

#: A successful answer that talks about limits, as a real one may.
LIMIT_ANSWER = (
    "I added a rate limiter: over quota the API answers 429 Too Many Requests "
    "(usage limit reached, resets 2pm; 503 Service Unavailable when overloaded)"
)
#: stderr lines an agent may print on a run that succeeds.
LIMIT_STDERR = [
    "warning: rate limit headers not found; quota unknown (429 handling off)",
    "Resource has been exhausted? no: 401 Unauthorized retried fine, server overloaded",
]

SUCCESS_SAMPLES = {
    "claude-code": "claude.success.jsonl",
    "codex": "codex.success.jsonl",
    "gemini-cli": "gemini.success.jsonl",
    "opencode": "opencode.success.jsonl",
    "copilot": "copilot.success.jsonl",
    "cursor-agent": "cursor.success.jsonl",
}


def _adapter(provider: str) -> AgentAdapter:
    return get_adapter(provider)


def _with_limit_words(name: str) -> list[str]:
    """The sample with its final answer replaced by ``LIMIT_ANSWER`` and every tool output
    naming limits too."""
    text = sample_path(name).read_text()
    text = text.replace("DONE: wrote hello.txt", LIMIT_ANSWER)
    text = text.replace("Done! I've created the summary in summary.txt", LIMIT_ANSWER)
    text = text.replace("File created successfully", "429 rate limit quota exceeded")
    text = text.replace("Wrote file successfully.", "429 rate limit quota exceeded")
    return text.splitlines()


@pytest.mark.parametrize("provider", sorted(SUCCESS_SAMPLES))
def test_success_sample_is_a_success(provider: str) -> None:
    _, _, outcome = replay(_adapter(provider), SUCCESS_SAMPLES[provider])
    assert outcome.kind is OutcomeKind.SUCCESS and outcome.exit_code == 0


@pytest.mark.parametrize("provider", sorted(SUCCESS_SAMPLES))
def test_success_mentioning_limits_everywhere_is_still_a_success(
    provider: str, tmp_path: Path
) -> None:
    stderr = tmp_path / "stderr"
    stderr.write_text("\n".join(LIMIT_STDERR))
    lines = _with_limit_words(SUCCESS_SAMPLES[provider])
    assert any("rate limiter" in line for line in lines)
    _, summary, outcome = replay(_adapter(provider), "", lines=lines, stderr=str(stderr))
    assert outcome.kind is OutcomeKind.SUCCESS, outcome
    assert outcome.reset_at is None and outcome.exit_code == 0
    assert not summary.stopped_for_rate_limit


def test_claude_warning_window_on_a_success_is_not_a_limit() -> None:
    """claude reports its usage window on every subscription run, successful ones too."""
    window = {"status": "allowed_warning", "rateLimitType": "five_hour", "resetsAt": 2000000000}
    lines = sample_path("claude.success.jsonl").read_text().splitlines()
    lines.insert(1, json.dumps({"type": "rate_limit_event", "rate_limit_info": window}))
    _, _, outcome = replay(_adapter("claude-code"), "", lines=lines)
    assert outcome.kind is OutcomeKind.SUCCESS and outcome.reset_at is None


def test_non_zero_exit_after_a_success_result_is_not_a_success() -> None:
    _, _, outcome = replay(_adapter("claude-code"), "claude.success.jsonl", exit_code=1)
    assert outcome.kind is not OutcomeKind.SUCCESS


# -- limits: the parsed limit message is the reason -------------------------------------------


@pytest.mark.parametrize(
    ("provider", "stdout", "stderr", "code", "message"),
    [
        (
            "claude-code",
            "claude.ratelimit.noretry.jsonl",
            None,
            1,
            "API Error: Request rejected (429) · FAKE: This request would exceed the rate "
            "limit for your organization.",
        ),
        (
            "codex",
            "codex.ratelimit.noretry.jsonl",
            "codex.ratelimit.noretry.stderr",
            1,
            "exceeded retry limit, last status: 429 Too Many Requests, request id: "
            "req_fake_5831480d",
        ),
        (
            "gemini-cli",
            "gemini.ratelimit.noretry.jsonl",
            "gemini.ratelimit.noretry.stderr",
            1,
            "[API Error: FAKE: Resource has been exhausted (e.g. check quota).",
        ),
        (
            "opencode",
            "opencode.ratelimit.default.jsonl",
            None,
            1,
            "FAKE: Rate limit reached for requests. Please try again in 60s.",
        ),
        (
            "copilot",
            "copilot.ratelimit.default.jsonl",
            None,
            1,
            "FAKE: Rate limit reached for requests. Please try again in 60s.",
        ),
    ],
)
def test_limit_reason_is_the_limit_message(
    provider: str, stdout: str, stderr: str | None, code: int, message: str
) -> None:
    _, _, outcome = replay(_adapter(provider), stdout, stderr=stderr, exit_code=code)
    assert outcome.kind.is_limit
    assert outcome.message == message


# -- 5xx / overloaded / high demand: server_error for every agent -----------------------------

#: codex's message for a 5xx (a typographic apostrophe in "We're")
HIGH_DEMAND = (
    "We\N{RIGHT SINGLE QUOTATION MARK}re currently experiencing high demand, "
    "which may cause temporary errors."
)
SERVER_ERRORS: dict[str, tuple[list[dict[str, Any]], str]] = {
    # what each real CLI printed for an HTTP 500 from the scripted model server
    "claude-code": (
        [
            {
                "type": "result",
                "subtype": "success",
                "is_error": True,
                "api_error_status": 500,
                "result": "API Error: 500 FAKE: Internal server error.",
            }
        ],
        "API Error: 500 FAKE: Internal server error.",
    ),
    "codex": (
        [
            {"type": "thread.started", "thread_id": "t"},
            {
                "type": "error",
                "message": HIGH_DEMAND,
            },
            {
                "type": "turn.failed",
                "error": {"message": HIGH_DEMAND},
            },
        ],
        HIGH_DEMAND,
    ),
    "gemini-cli": (
        [
            {
                "type": "result",
                "status": "error",
                "error": {
                    "type": "unknown",
                    "message": '[API Error: {"error":{"code":500,"message":"FAKE: An internal '
                    'error has occurred.","status":"INTERNAL"}}]',
                },
                "stats": {},
            }
        ],
        '[API Error: {"error":{"code":500,"message":"FAKE: An internal error has occurred.",'
        '"status":"INTERNAL"}}]',
    ),
    "opencode": (
        [
            {
                "type": "error",
                "sessionID": "ses_1",
                "error": {
                    "name": "APIError",
                    "data": {"message": "Overloaded", "statusCode": 529, "isRetryable": True},
                },
            }
        ],
        "Overloaded",
    ),
    "copilot": (
        [
            {
                "type": "session.error",
                "data": {
                    "errorType": "query",
                    "message": "Failed to get response from the AI model; retried 5 times "
                    "Last error: 500 FAKE: The server had an error processing your request.",
                    "statusCode": 500,
                },
            },
            {"type": "result", "sessionId": "s", "exitCode": 1, "usage": {}},
        ],
        "Failed to get response from the AI model; retried 5 times Last error: 500 FAKE: "
        "The server had an error processing your request.",
    ),
    "cursor-agent": (
        [{"type": "error", "message": "503 Service Unavailable: model overloaded"}],
        "503 Service Unavailable: model overloaded",
    ),
}


@pytest.mark.parametrize("provider", sorted(SERVER_ERRORS))
def test_5xx_is_a_server_error(provider: str, tmp_path: Path) -> None:
    objs, message = SERVER_ERRORS[provider]
    stderr = tmp_path / "stderr"
    stderr.write_text("Reading additional input from stdin...\n")
    lines = [json.dumps(o) for o in objs]
    _, _, outcome = replay(_adapter(provider), "", lines=lines, stderr=str(stderr), exit_code=1)
    assert outcome.kind is OutcomeKind.SERVER_ERROR
    assert outcome.message == message


def test_opencode_retrying_a_5xx_on_stderr_is_stopped_as_a_server_error() -> None:
    line = (
        'timestamp=t level=ERROR run=1 message="stream error" providerID=fake '
        "modelID=fake-model session.id=ses_1 small=false agent=build mode=primary "
        'error.error="AI_APICallError: FAKE: The server had an error processing your request."'
    )
    outcome = _stderr_run("opencode", [line], exit_code=-2)  # ADO stopped it with SIGINT
    assert outcome.kind is OutcomeKind.SERVER_ERROR and outcome.exit_code == -2
    assert outcome.message == (
        "AI_APICallError: FAKE: The server had an error processing your request."
    )


def _stderr_run(provider: str, stderr_lines: list[str], exit_code: int) -> Outcome:
    """A run that printed only these stderr lines, classified as the run loop would."""
    adapter = _adapter(provider)
    summary = RunSummary(exit_code=exit_code, stderr_tail="\n".join(stderr_lines))
    state = ParseState()
    for line in stderr_lines:
        for event in adapter.parse_stderr_line(line, state):
            if event.kind is EventKind.ERROR:
                summary.errors.append(event)
            if stops_run(event):
                summary.stopped_for_error = True
    return adapter.classify(summary)


# -- the reason is the message that decided, never a stray stderr line ------------------------


def test_codex_crash_reason_skips_its_start_up_notices() -> None:
    stderr_lines = [
        "WARNING: proceeding, even though we could not create PATH aliases: Refusing ...",
        "Reading additional input from stdin...",
    ]
    outcome = _stderr_run("codex", stderr_lines, exit_code=1)
    assert outcome.kind is OutcomeKind.CRASHED
    assert outcome.message == "exited with code 1"
    stderr_lines.append("Error: config.toml: unknown field `modle`")
    outcome = _stderr_run("codex", stderr_lines, exit_code=1)
    assert outcome.message == "Error: config.toml: unknown field `modle`"


def test_gemini_reason_skips_its_terminal_warnings() -> None:
    stderr_lines = [
        "Warning: Basic terminal detected (TERM=dumb). Visual rendering will be limited.",
        "Warning: 256-color support not detected. Using a terminal with at least 256-color ...",
        "YOLO mode is enabled. All tool calls will be automatically approved.",
    ]
    outcome = _stderr_run("gemini-cli", stderr_lines, exit_code=1)
    assert outcome.message == "exited with code 1"


def test_a_stack_trace_is_not_the_reason() -> None:
    summary = RunSummary(
        exit_code=1,
        stderr_tail="TypeError: x is undefined\n    at main (file.js:1:2)\n}",
    )
    assert classify_generic(summary).message == "TypeError: x is undefined"


def test_limit_words_on_stderr_of_a_crash_with_its_own_error_do_not_decide() -> None:
    """The agent's error event decides; an unrelated stderr line naming a limit does not."""
    summary = RunSummary(
        exit_code=1,
        stderr_tail="note: rate limit 429 quota headers missing",
        errors=[AgentEvent(EventKind.ERROR, text="config error: unknown model `x`")],
    )
    outcome = classify_generic(summary)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.message == "config error: unknown model `x`"


# -- killed, timed out: the signal, never exit code 0 -----------------------------------------


@pytest.mark.parametrize("provider", sorted(SUCCESS_SAMPLES))
def test_killed_by_a_signal(provider: str) -> None:
    """Killed half-way (OOM killer, ``kill -9``): the signal is the reason."""
    lines = sample_path(SUCCESS_SAMPLES[provider]).read_text().splitlines()[:2]
    _, _, outcome = replay(_adapter(provider), "", lines=lines, exit_code=-9)
    assert outcome.kind is OutcomeKind.CRASHED
    assert outcome.message == "killed by signal 9 (SIGKILL)" and outcome.exit_code == -9


def test_timed_out_names_the_deadline_and_keeps_the_signal() -> None:
    summary = RunSummary(exit_code=-2, timed_out=True, timeout_s=20)
    outcome = classify_generic(summary)
    assert outcome.kind is OutcomeKind.TIMED_OUT
    assert outcome.message == "timed out after 20 s" and outcome.exit_code == -2


def test_signal_message() -> None:
    assert signal_message(15) == "killed by signal 15 (SIGTERM)"
    assert signal_message(200) == "killed by signal 200"
