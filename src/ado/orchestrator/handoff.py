"""Handing a task over on failover: what the next agent is told of the attempts before it.

With ``routing.failover.handoff: summary`` (the default) an attempt that follows a failed
one does not start from scratch: its prompt is a *handoff* — the original task, then what
each earlier attempt of the task did, read from the task's record in the store (so an
attempt of an earlier process counts as well as one of this run):

- the files it changed (the attempt's ``files_changed``, from the agent's tool calls);
- its tool calls in brief and its last message (its stored events);
- why it stopped (its outcome);
- ``git diff --stat HEAD`` and the untracked files of the working directory, when that is
  a git repository (git run without a shell, with a deadline and a cap on its output;
  no git, not a repository, a repository without commits: that section is left out);

and "continue from here". ``restart`` gives the next agent the original task alone.
An attempt that resumes an agent session (``--resume``, the same agent) needs no handoff:
the agent has its own history. Earlier attempts that did nothing visible (no tool call,
no file, no message: a 429 on the first request) leave nothing to hand over either.

The handoff is at most ``orchestration.maxPromptBytes`` of UTF-8 (agents take the prompt as
one command-line argument, ``ado.text``). Its detail shrinks to fit (fewer tool calls, a
shorter last message, fewer files, no diff), the original task is never cut: when even the
bare frame around it does not fit, the next agent gets the task alone.

What the agents wrote is hostile: NUL and lone surrogates are replaced
(``clean_text``), other control characters are escaped, a file name or a tool argument
stays on one line, and the last message is quoted line by line, so no agent text can pass
for a section of the handoff.

The runner stores the whole prompt given to the attempt as its ``handoff`` event
(``Handoff.event``): ``ado tasks show`` and the dashboard show which agent was told what.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ado.providers.events import AgentEvent, EventKind
from ado.text import clean_text
from ado.vocab import HandoffMode

if TYPE_CHECKING:
    from ado.store.methods import SqlMethods
    from ado.store.views import AttemptView

__all__ = ["GIT_TIMEOUT", "Handoff", "build_handoff", "git_changes"]

#: Seconds git may take, for all its calls together, before its section is left out.
GIT_TIMEOUT = 5.0
#: Bytes of git output read, at most, per call.
_GIT_MAX_BYTES = 64 * 1024
#: Tool calls remembered per attempt (the last ones).
_CALLS_KEPT = 40
#: Events read per page from the store.
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class _Detail:
    """How much of each earlier attempt goes in: tool calls, bytes of its last message,
    files, lines of ``git diff --stat``."""

    calls: int
    message_bytes: int
    files: int
    diff_lines: int


#: Ever less detail, until the handoff fits its limit.
_LEVELS = (
    _Detail(calls=40, message_bytes=4000, files=200, diff_lines=60),
    _Detail(calls=10, message_bytes=1500, files=50, diff_lines=20),
    _Detail(calls=0, message_bytes=300, files=10, diff_lines=0),
    _Detail(calls=0, message_bytes=0, files=0, diff_lines=0),
)


@dataclass(frozen=True, slots=True)
class Handoff:
    """The prompt an attempt is given in place of the task's, and what it was made of."""

    prompt: str
    #: The numbers of the attempts it tells about.
    attempts: tuple[int, ...]
    #: The files they changed.
    files: tuple[str, ...]
    #: Detail left out to fit the prompt limit.
    truncated: bool

    def event(self) -> AgentEvent:
        """The record of it, stored under the attempt it was given to."""
        return AgentEvent(
            EventKind.HANDOFF,
            text=self.prompt,
            data={
                "mode": HandoffMode.SUMMARY.value,
                "attempts": list(self.attempts),
                "files": list(self.files[:50]),
                "bytes": len(self.prompt.encode("utf-8")),
                "truncated": self.truncated,
            },
        )


@dataclass(slots=True)
class _Call:
    brief: str
    tool_id: str | None
    failed: bool = False


@dataclass(slots=True)
class _Done:
    """What one earlier attempt did, as read from its record."""

    info: AttemptView
    calls: deque[_Call] = field(default_factory=lambda: deque(maxlen=_CALLS_KEPT))
    calls_total: int = 0
    last_message: str | None = None

    @property
    def did_something(self) -> bool:
        return bool(self.calls_total or self.info.files_changed or self.last_message)


@dataclass(frozen=True, slots=True)
class GitChanges:
    """``git diff --stat`` of a working tree, and its untracked files."""

    command: str
    stat: list[str]
    untracked: list[str]
    #: Output cut (too long, or git too slow).
    partial: bool


def build_handoff(
    store: SqlMethods,
    task_id: int,
    prompt: str,
    cwd: Path,
    *,
    mode: HandoffMode,
    limit: int,
) -> Handoff | None:
    """The handoff for the next attempt of task ``task_id``, from its finished attempts;
    None when the next agent gets the task as it is (``restart``, nothing done yet, or no
    room for it within ``limit``)."""
    if mode is HandoffMode.RESTART:
        return None
    task = store.get_task(task_id)
    attempts = [a for a in task.attempts if a.finished_at is not None] if task else []
    if not attempts:
        return None
    done = _read_attempts(store, task_id, attempts)
    if not any(d.did_something for d in done):
        return None
    changes = git_changes(cwd)
    files = tuple(dict.fromkeys(f for d in done for f in d.info.files_changed))
    for level, detail in enumerate(_LEVELS):
        text, cut = _render(prompt, done, changes, cwd, detail)
        if len(text.encode("utf-8")) <= limit:
            numbers = tuple(d.info.number for d in done)
            return Handoff(text, numbers, files, truncated=cut or level > 0)
    return None


# -- what the attempts did ---------------------------------------------------------------------


def _read_attempts(store: SqlMethods, task_id: int, attempts: Sequence[AttemptView]) -> list[_Done]:
    done = {a.id: _Done(a) for a in attempts}
    after = 0
    while True:
        page = store.list_events(task_id, after_id=after, limit=_PAGE)
        for view in page:
            one = done.get(view.attempt_id) if view.attempt_id is not None else None
            if one is not None and view.kind in _READ:
                _note(one, view.to_agent_event())
        if len(page) < _PAGE:
            break
        after = page[-1].id
    return list(done.values())


#: The events a handoff reads (the others are not decoded).
_READ = frozenset({EventKind.TOOL_CALL, EventKind.TOOL_RESULT, EventKind.TEXT, EventKind.RESULT})


def _note(done: _Done, event: AgentEvent) -> None:
    if event.kind is EventKind.TOOL_CALL:
        done.calls_total += 1
        brief = _one_line(f"{event.tool_name or 'tool'} {_brief_input(event.tool_input)}", 200)
        done.calls.append(_Call(brief.rstrip(), event.tool_id))
    elif event.kind is EventKind.TOOL_RESULT and event.is_error and event.tool_id:
        for call in done.calls:
            if call.tool_id == event.tool_id:
                call.failed = True
    elif event.kind is EventKind.TEXT and event.text and event.text.strip():
        done.last_message = event.text
    elif event.kind is EventKind.RESULT and event.text and not event.is_error:
        done.last_message = done.last_message or event.text


#: Tool arguments that say what a call did, in the order looked for.
_BRIEF_KEYS = ("file_path", "filePath", "path", "command", "cmd", "pattern", "url", "query")


def _brief_input(tool_input: dict[str, Any] | None) -> str:
    if not tool_input:
        return ""
    for key in _BRIEF_KEYS:
        value = tool_input.get(key)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        if isinstance(value, str) and value:
            return value
    return json.dumps(tool_input, ensure_ascii=False, default=str)


# -- the working directory ---------------------------------------------------------------------

#: Never run what a repository's config names (a hostile .git/config or .gitattributes).
_GIT_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.quotepath=on", "--no-pager")
#: What would point git away from the working directory's own repository (set in a hook).
_GIT_REDIRECTS = frozenset({"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"})


def git_changes(cwd: Path, timeout: float = GIT_TIMEOUT) -> GitChanges | None:
    """``git diff --stat HEAD`` (``git diff --stat`` in a repository without commits) and
    the untracked files of ``cwd``; None when git is missing, fails, or ``cwd`` is not in a
    repository."""
    git = shutil.which("git")
    if git is None or not cwd.is_dir():
        return None
    deadline = time.monotonic() + timeout
    diff = ["diff", "--stat=200", "--no-color", "--no-ext-diff", "--no-textconv"]
    command = "git diff --stat HEAD"
    run = _git(git, cwd, [*diff, "HEAD", "--"], deadline)
    if run is None or run[0] not in (0, None):
        command = "git diff --stat"
        run = _git(git, cwd, [*diff, "--"], deadline)
    if run is None or run[0] not in (0, None):
        return None
    code, out = run
    stat = [line for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
    partial = code is None
    untracked: list[str] = []
    listed = _git(git, cwd, ["ls-files", "--others", "--exclude-standard", "-z"], deadline)
    if listed is not None and listed[0] in (0, None):
        partial = partial or listed[0] is None
        names = listed[1].split(b"\0")
        if listed[0] is None:
            names = names[:-1]  # the last one may be cut
        untracked = [n.decode("utf-8", "replace") for n in names if n]
    return GitChanges(command, stat, untracked, partial)


def _git(git: str, cwd: Path, args: list[str], deadline: float) -> tuple[int | None, bytes] | None:
    """Run git (no shell, stdin from /dev/null, its own process group) until ``deadline``,
    reading at most ``_GIT_MAX_BYTES``: (exit code, or None when cut short; its output)."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_REDIRECTS}
    env |= {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.Popen(
            [git, *_GIT_SAFE, *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    except OSError:
        return None
    assert proc.stdout is not None
    out = bytearray()
    finished = False
    with proc, selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while len(out) < _GIT_MAX_BYTES:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                finished = True
                break
            out += chunk
        if not finished:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        code = proc.wait()
    return (code if finished else None), bytes(out[:_GIT_MAX_BYTES])


# -- the prompt --------------------------------------------------------------------------------


def _render(
    prompt: str, done: list[_Done], changes: GitChanges | None, cwd: Path, detail: _Detail
) -> tuple[str, bool]:
    """The handoff at one level of detail, and whether anything was cut from it."""
    cut = False
    last = done[-1].info
    parts = [
        "[ADO handoff] Another agent started this task and stopped before finishing it "
        f"({_pair(last)}: {_outcome(last)}). You are taking it over in the same working "
        "directory, where its changes are. Check what is already done, do not redo it, "
        "and finish the task.",
        "",
        "## The task",
        prompt,
        "",
        "## What the earlier attempts did",
    ]
    for one in done:
        info = one.info
        parts.append(f"### Attempt {info.number}: {_pair(info)}, stopped: {_outcome(info)}")
        if not one.did_something:
            parts.append("It did nothing visible.")
            continue
        files = [_one_line(_relative(f, cwd), 300) for f in info.files_changed]
        if files:
            shown = files[: detail.files]
            cut |= len(shown) < len(files)
            more = f" (and {len(files) - len(shown)} more)" if len(shown) < len(files) else ""
            parts.append(f"Files it changed ({len(files)}): {', '.join(shown) or '…'}{more}")
        if one.calls_total:
            calls = list(one.calls)[-detail.calls :] if detail.calls else []
            cut |= len(calls) < one.calls_total
            if not calls:
                parts.append(f"Its tool calls: {one.calls_total}.")
            elif len(calls) < one.calls_total:
                parts.append(f"Its tool calls ({one.calls_total}, the last {len(calls)}):")
            else:
                parts.append(f"Its tool calls ({one.calls_total}):")
            parts.extend(f"- {c.brief}{' (failed)' if c.failed else ''}" for c in calls)
        if one.last_message and detail.message_bytes:
            message, shortened = _cut_middle(_block(one.last_message), detail.message_bytes)
            cut |= shortened
            parts.append("Its last message:")
            parts.extend(f"> {line}" for line in message.splitlines() or [""])
    if changes is not None and detail.diff_lines:
        parts += ["", f"## The working directory now (`{changes.command}`)"]
        stat = [_one_line(line, 300) for line in changes.stat]
        if len(stat) > detail.diff_lines:  # keep the summary line ("N files changed")
            stat = [*stat[: detail.diff_lines - 1], "…", stat[-1]]
            cut = True
        parts.extend(stat or ["(no changes to tracked files)"])
        if changes.untracked:
            names = [_one_line(n, 300) for n in changes.untracked]
            shown = names[: detail.files]
            cut |= len(shown) < len(names)
            more = f" (and {len(names) - len(shown)} more)" if len(shown) < len(names) else ""
            parts.append(f"Untracked files ({len(names)}): {', '.join(shown)}{more}")
        if changes.partial:
            parts.append("(git's output was cut: too long, or too slow)")
    elif changes is not None:
        cut = True
    parts += ["", "Continue from here."]
    return "\n".join(parts), cut


def _pair(info: AttemptView) -> str:
    return _one_line(f"{info.provider}/{info.access_mode}", 200)


def _outcome(info: AttemptView) -> str:
    message = _one_line(info.outcome_message or "", 300)
    return _one_line(info.outcome, 100) + (f" — {message}" if message else "")


def _relative(path: str, cwd: Path) -> str:
    base = str(cwd).rstrip("/") + "/"
    return path[len(base) :] if path.startswith(base) else path


#: Control characters but newline and tab (C0, DEL, C1), shown as escapes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_BREAKS = re.compile("[\n\t]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, f"\\u{ord(char):04x}")


def _block(text: str) -> str:
    """Agent text for a quoted block: lines kept, other control characters escaped."""
    return _CONTROL.sub(_escape, clean_text(text).replace("\r\n", "\n"))


def _one_line(text: str, max_bytes: int) -> str:
    """Agent text on one line, at most about ``max_bytes`` of UTF-8."""
    line = _BREAKS.sub(_escape, _block(text))
    return _cut(line, max_bytes)


def _cut(text: str, max_bytes: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[: max(0, max_bytes - 3)].decode("utf-8", "ignore") + "…"


def _cut_middle(text: str, max_bytes: int) -> tuple[str, bool]:
    """``text`` within ``max_bytes``: its start and its end, the middle left out."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text, False
    note = f"\n[… {len(raw) - max_bytes:,} bytes left out …]\n"
    room = max(0, max_bytes - len(note))
    head = raw[: room // 3].decode("utf-8", "ignore")
    tail = raw[len(raw) - (room - room // 3) :].decode("utf-8", "ignore")
    return head + note + tail, True
