"""How a run ended, read only from what means it: the rules every adapter starts from.

The order of the rules, first match wins:

1. The agent could not start: ``not_installed`` / ``crashed``, with the spawn error.
2. ADO stopped it (cancelled, cost limit): that reason.
3. ADO stopped it for a rate limit the agent reported (a retry notice, a rejected window):
   ``rate_limited`` / ``quota_exhausted``, with that notice's message.
4. ADO stopped it at its deadline: ``timed_out``, "timed out after 20 s".
5. **Success**: the agent's own final word says it succeeded (a result that is not an error,
   or no result and no error or limit event) and it exited 0. Nothing it wrote decides otherwise:
   an answer, a tool's output, a file or a stderr line that mentions "rate limit", "429" or
   "quota" is work, not a failure.
6. Killed by a signal ADO did not send: ``crashed``, "killed by signal 9 (SIGKILL)". (ADO
   also stops an agent at an error it would retry by itself: the error decides, below.)
7. Structured signals of a failed run: HTTP statuses in its error events or its failed
   result (429 / 402 a limit, 401 / 403 auth, 5xx a server error), a rejected window.
8. Text patterns (``ado.providers.resets``), on the agent's **error text** only: its error
   events, its failed result, and its stderr only when it printed no error of its own.
9. Otherwise ``failed`` (it reported an error) or ``crashed`` (it did not).

The stored message is the one that decided: the limit notice, the error line that matched,
"killed by signal 9 (SIGKILL)", "timed out after 20 s" — never a stray warning line.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ado.providers import resets
from ado.providers.base import Outcome
from ado.providers.events import AgentEvent, Usage
from ado.providers.spawn import SpawnError
from ado.vocab import OutcomeKind

__all__ = [
    "ErrorText",
    "RunSummary",
    "classify_generic",
    "error_texts",
    "signal_message",
    "stderr_error_lines",
]

_LIMIT_STATUSES = frozenset({429, 402})
_AUTH_STATUSES = frozenset({401, 403})
#: Lines of a stack trace or a dumped object: never the reason.
_TRACE = re.compile(r"^\s+(?:at\s|\.\.\.)|^\s*[\]{}()]+[,;]?\s*$")
_STOPPED = {
    OutcomeKind.CANCELLED: "cancelled",
    OutcomeKind.COST_LIMIT: "stopped at the cost limit",
}


@dataclass(slots=True)
class RunSummary:
    """What the run loop gathered from the events; ``classify`` reads it."""

    exit_code: int | None = None
    session_id: str | None = None
    result: AgentEvent | None = None
    errors: list[AgentEvent] = field(default_factory=list)
    rate_limits: list[AgentEvent] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    files: list[str] = field(default_factory=list)
    final_text: str = ""
    stderr_tail: str = ""
    spawn_error: SpawnError | None = None
    timed_out: bool = False
    #: The deadline the run had (``RunRequest.timeout``), for the "timed out after" message.
    timeout_s: float | None = None
    stop_reason: OutcomeKind | None = None  # CANCELLED / COST_LIMIT when stopped from outside
    stopped_for_rate_limit: bool = False
    #: Stopped at an error the agent was about to retry by itself (a 5xx, a dropped stream).
    stopped_for_error: bool = False
    duration_s: float = 0.0
    #: Set when the agent was billed through an API key: where the key came from (claude's
    #: ``apiKeySource``, codex's ``env_key``...). On a subscription mode, the spend is real.
    api_key_source: str | None = None
    #: Set when the agent went on past an exhausted window billed as extra usage (claude's
    #: ``isUsingOverage``): on a subscription mode, the spend is real.
    overage: bool = False


@dataclass(frozen=True, slots=True)
class ErrorText:
    """One piece of the agent's error text, and the HTTP status it carried, if any."""

    text: str
    status: int | None = None
    #: The agent's own rate-limit notice (a ``rate_limit`` event), not a plain error.
    limit_event: bool = False


def classify_generic(
    summary: RunSummary, now: datetime | None = None, noise: Iterable[str] = ()
) -> Outcome:
    """How a run ended (see the module's rules). ``noise``: prefixes of stderr lines that
    are never an error (an adapter's ``stderr_noise``)."""
    now = now or datetime.now(UTC)
    code = summary.exit_code
    if summary.spawn_error is not None:
        kind = OutcomeKind.NOT_INSTALLED if summary.spawn_error.not_found else OutcomeKind.CRASHED
        return Outcome(kind, str(summary.spawn_error), exit_code=None)
    if summary.stop_reason is not None:
        message = _STOPPED.get(summary.stop_reason, "stopped")
        return Outcome(summary.stop_reason, message, exit_code=code)
    errors = error_texts(summary, noise)
    if summary.stopped_for_rate_limit:
        return _limited(summary, errors, now)
    if summary.timed_out:
        limit = f" after {summary.timeout_s:g} s" if summary.timeout_s else ""
        return Outcome(OutcomeKind.TIMED_OUT, f"timed out{limit}", exit_code=code)
    if succeeded(summary):
        return Outcome(OutcomeKind.SUCCESS, _first_line(summary.final_text), exit_code=code)
    if code is not None and code < 0 and not summary.stopped_for_error:
        return Outcome(OutcomeKind.CRASHED, signal_message(-code), exit_code=code)

    statuses = {e.status for e in errors if e.status}
    rejected = any(e.data.get("status") == "rejected" for e in summary.rate_limits)
    if rejected or statuses & _LIMIT_STATUSES:
        return _limited(summary, errors, now)
    if found := _by_status(errors, _AUTH_STATUSES):
        return Outcome(OutcomeKind.AUTH_MISSING, found, exit_code=code)
    if found := _by_status(errors, range(500, 600)):
        return Outcome(OutcomeKind.SERVER_ERROR, found, exit_code=code)

    if _matching_line(errors, resets.looks_rate_limited):
        return _limited(summary, errors, now)
    if found := _matching_line(errors, resets.looks_like_auth_error):
        return Outcome(OutcomeKind.AUTH_MISSING, found, exit_code=code)
    if found := _matching_line(errors, resets.looks_like_server_error):
        return Outcome(OutcomeKind.SERVER_ERROR, found, exit_code=code)
    message = next((m for e in errors if (m := _first_line(e.text))), "")
    if summary.result is not None and summary.result.is_error:
        return Outcome(OutcomeKind.FAILED, message or "the agent reported an error", None, code)
    if summary.errors:
        return Outcome(OutcomeKind.FAILED, message or "the agent reported an error", None, code)
    return Outcome(OutcomeKind.CRASHED, message or f"exited with code {code}", exit_code=code)


def succeeded(summary: RunSummary) -> bool:
    """The agent's own final word: a result that is not an error (or, from an agent that
    prints no result, no error and no limit notice at all), and exit status 0."""
    if summary.exit_code not in (0, None):
        return False
    if summary.result is not None:
        return not summary.result.is_error
    return not summary.errors and not summary.rate_limits


def error_texts(summary: RunSummary, noise: Iterable[str] = ()) -> list[ErrorText]:
    """The agent's error text, the only text patterns are matched against: its rate-limit
    notices, its error events, its failed result, and — only when it printed none of
    those — the lines of its stderr that are not noise or a stack trace."""
    out = [ErrorText(e.text or "", e.status_code, True) for e in summary.rate_limits]
    out += [ErrorText(e.text or "", e.status_code) for e in summary.errors]
    result = summary.result
    if result is not None and result.is_error:
        out.append(ErrorText(result.text or "", result.status_code))
    if not any(e.text or e.status for e in out):
        lines = stderr_error_lines(summary.stderr_tail, noise)
        out += [ErrorText(line) for line in lines]
    return [e for e in out if e.text or e.status]


def stderr_error_lines(tail: str, noise: Iterable[str] = ()) -> list[str]:
    """Stderr lines that may say why the agent failed, last first: not blank, not a stack
    frame, not one of the adapter's known warnings (``noise`` prefixes)."""
    prefixes = tuple(noise)
    lines = [
        line.strip()
        for line in tail.splitlines()
        if line.strip() and not _TRACE.match(line) and not line.strip().startswith(prefixes)
    ]
    return lines[::-1]


def signal_message(number: int) -> str:
    """ "killed by signal 9 (SIGKILL)"."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"killed by signal {number}"
    return f"killed by signal {number} ({name})"


def _limited(summary: RunSummary, errors: list[ErrorText], now: datetime) -> Outcome:
    message = _limit_message(errors)
    reset_at = next((e.reset_at for e in reversed(summary.rate_limits) if e.reset_at), None)
    joined = "\n".join(e.text for e in errors)
    reset_at = reset_at or resets.parse_reset(joined, now)
    statuses = {e.status for e in errors}
    quota = (
        resets.looks_like_quota(message)
        or 402 in statuses
        or (reset_at is not None and reset_at - now > timedelta(days=3))
    )
    kind = OutcomeKind.QUOTA_EXHAUSTED if quota else OutcomeKind.RATE_LIMITED
    return Outcome(kind, message, reset_at=reset_at, exit_code=summary.exit_code)


def _limit_message(errors: list[ErrorText]) -> str:
    """The limit notice that decided: the first error line that reads as a limit (the
    agent's rate-limit events first), else the text of an error with status 429 / 402."""
    if found := _matching_line(errors, resets.looks_rate_limited):
        return found
    for e in errors:
        if (e.limit_event or e.status in _LIMIT_STATUSES) and (line := _first_line(e.text)):
            return line
    return "rate limited (HTTP 429)" if any(e.status == 429 for e in errors) else "rate limited"


def _by_status(errors: list[ErrorText], statuses: Iterable[int]) -> str | None:
    wanted = set(statuses)
    for e in errors:
        if e.status in wanted:
            return _first_line(e.text) or f"HTTP {e.status}"
    return None


def _matching_line(errors: list[ErrorText], test: Callable[[str], bool]) -> str | None:
    for e in errors:
        for line in e.text.splitlines():
            if line.strip() and test(line):
                return line.strip()[:300]
    return None


def _first_line(text: str | None, limit: int = 300) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""
