"""How a run ended, from what the run loop saw: the rules every adapter starts from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ado.providers import resets
from ado.providers.base import Outcome, RunSummary
from ado.providers.events import EventKind
from ado.vocab import OutcomeKind

__all__ = ["classify_generic"]


def classify_generic(summary: RunSummary, now: datetime | None = None) -> Outcome:
    """How a run ended, from what the run loop gathered. Adapters refine it when needed."""
    now = now or datetime.now(UTC)
    code = summary.exit_code
    if summary.spawn_error is not None:
        kind = OutcomeKind.NOT_INSTALLED if summary.spawn_error.not_found else OutcomeKind.CRASHED
        return Outcome(kind, str(summary.spawn_error), exit_code=None)
    if summary.stop_reason is not None:
        return Outcome(summary.stop_reason, "stopped by ADO", exit_code=code)
    texts = [e.text or "" for e in summary.errors]
    if summary.result is not None and summary.result.text:
        texts.append(summary.result.text)
    texts.append(summary.stderr_tail)
    joined = "\n".join(t for t in texts if t)

    statuses = {e.status_code for e in [*summary.errors, *summary.rate_limits] if e.status_code}
    if summary.result is not None and summary.result.status_code:
        statuses.add(summary.result.status_code)
    limited = (
        summary.stopped_for_rate_limit
        or any(e.data.get("status") == "rejected" or e.retrying for e in summary.rate_limits)
        or 429 in statuses
        or resets.looks_rate_limited(joined)
    )
    if limited:
        reset_at = next((e.reset_at for e in reversed(summary.rate_limits) if e.reset_at), None)
        reset_at = reset_at or resets.parse_reset(joined, now)
        message = _limit_message(summary, texts, statuses)
        quota = (
            resets.looks_like_quota(joined)
            or 402 in statuses
            or (reset_at is not None and reset_at - now > timedelta(days=3))
        )
        kind = OutcomeKind.QUOTA_EXHAUSTED if quota else OutcomeKind.RATE_LIMITED
        return Outcome(kind, message, reset_at=reset_at, exit_code=code)
    if summary.timed_out:
        return Outcome(OutcomeKind.TIMED_OUT, "the agent did not finish in time", exit_code=code)
    if 401 in statuses or 403 in statuses or resets.looks_like_auth_error(joined):
        return Outcome(
            OutcomeKind.AUTH_MISSING, _first_line(joined) or "not logged in", exit_code=code
        )
    result = summary.result
    if result is not None and not result.is_error and code in (0, None):
        return Outcome(OutcomeKind.SUCCESS, _first_line(summary.final_text), exit_code=code)
    if any(s >= 500 for s in statuses) or resets.looks_like_server_error(joined):
        return Outcome(
            OutcomeKind.SERVER_ERROR, _first_line(joined) or "server error", exit_code=code
        )
    if result is not None:
        return Outcome(
            OutcomeKind.FAILED, _first_line(joined) or "the agent reported an error", exit_code=code
        )
    if code == 0 and not summary.errors:
        return Outcome(OutcomeKind.SUCCESS, _first_line(summary.final_text), exit_code=code)
    detail = _first_line(joined) or f"exited with code {code}"
    return Outcome(OutcomeKind.CRASHED, detail, exit_code=code)


def _limit_message(summary: RunSummary, texts: list[str], statuses: set[int]) -> str:
    """The rate-limit message that was parsed: the first line that reads as a limit (the
    agent's rate-limit events first), never an unrelated line such as a stderr warning."""
    limit_texts = [e.text or "" for e in summary.rate_limits]
    for text in (*limit_texts, *texts):
        for line in text.splitlines():
            if resets.looks_rate_limited(line):
                return line.strip()[:300]
    for event in (*summary.rate_limits, *summary.errors):
        if event.text and (event.kind is EventKind.RATE_LIMIT or event.status_code in (429, 402)):
            return _first_line(event.text)
    return "rate limited (HTTP 429)" if 429 in statuses else "rate limited"


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""
