"""A scripted stand-in for ``cursor-agent`` (Cursor's CLI is not on npm).

Run as ``python -m ado.testing.fake_cursor_agent -p PROMPT --output-format stream-json
--force [--model M] [--resume CHAT_ID]``. It prints cursor-agent's stream-json (NDJSON)
and is scripted through the environment:

- ``FAKE_CURSOR_SCENARIO``: ``success`` (default), ``rate_limit``, ``crash``, ``hang``,
  ``garbage``.
- ``FAKE_CURSOR_WRITE=path:content``: on success, really write ``content`` to ``path``
  (relative paths resolve against the working directory) through a ``writeToolCall``.
- ``FAKE_CURSOR_SESSION_ID``: the session id to report (default: ``--resume`` or a uuid4).
- ``FAKE_CURSOR_MESSAGES=n``: on success, first ``n`` assistant messages ``message <i>``,
  ``FAKE_CURSOR_INTERVAL`` seconds apart (default 0.02); ``FAKE_CURSOR_PAUSE=k:path``:
  after message ``k``, wait until ``path`` exists (a test does something meanwhile).

The event shapes follow what Cursor documents and what integrators captured:

- Cursor's own reference, https://cursor.com/docs/cli/reference/output-format: one NDJSON
  object per line; ``system``/``init`` (``apiKeySource``, ``cwd``, ``session_id``,
  ``model``, ``permissionMode``), ``user`` (the prompt), ``assistant`` (one line per
  complete message between tool calls), ``tool_call`` with ``subtype``
  ``started``/``completed``, ``call_id`` and a ``tool_call`` object keyed by tool kind
  (``readToolCall``, ``writeToolCall``, ``function``...), a terminal ``result``
  (``subtype: "success"``, ``is_error``, ``duration_ms``, ``duration_api_ms``, ``result``,
  ``session_id``, ``request_id``). On failure it exits non-zero with the error on
  stderr and may end without a ``result`` event.
- ``writeToolCall.args{path,fileText}`` and ``result.success{path,linesCreated,fileSize}``:
  parsers in public repositories (e.g. tarq.net's "cursor-agent stream format" analysis,
  cited by the gate4agent crate's ``src/pipe/cli/cursor.rs``; consumers reading
  ``writeToolCall.result.success.linesCreated``).
- ``result.usage{inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens}``: newer
  releases (copperheadhq/copperhead PR #67 reads ``usage.inputTokens/outputTokens``);
  codexmon notes older ones reported no usage at all, so adapters must treat it as optional.
- The usage-limit text is the one users reported from real subscriptions: "You've hit
  your usage limit ... reset when your monthly cycle ends on <date>".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

USAGE = {"inputTokens": 123, "outputTokens": 45, "cacheReadTokens": 0, "cacheWriteTokens": 0}
RATE_LIMIT_TEXT = (
    "You've hit your usage limit for Pro. Your usage will reset when your monthly cycle "
    "ends on 12/17/2026. Switch to Auto or upgrade to keep going."
)


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cursor-agent")
    parser.add_argument("prompt_arg", nargs="?")
    parser.add_argument("-p", "--print", dest="prompt", nargs="?", const="")
    parser.add_argument("--output-format", default="text", choices=["text", "json", "stream-json"])
    parser.add_argument("--stream-partial-output", action="store_true")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--resume", nargs="?", const="")
    parser.add_argument("--api-key")
    parser.add_argument("-v", "--version", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.version:
        print("2026.11.20-fake")
        return 0
    prompt = args.prompt or args.prompt_arg or ""
    scenario = os.environ.get("FAKE_CURSOR_SCENARIO", "success")
    session_id = os.environ.get("FAKE_CURSOR_SESSION_ID") or args.resume or str(uuid.uuid4())
    started = time.monotonic()
    stream = args.output_format == "stream-json"

    if scenario == "garbage":
        print("this is not json {{{")
        print("\x1b[31mpanic: unexpected token\x1b[0m")
        return 0
    if stream:
        _emit(
            {
                "type": "system",
                "subtype": "init",
                "apiKeySource": "login",
                "cwd": os.getcwd(),
                "session_id": session_id,
                "model": args.model,
                "permissionMode": "force" if args.force else "default",
            }
        )
        _emit(
            {
                "type": "user",
                "message": {"role": "user", "content": [{"type": "text", "text": prompt}]},
                "session_id": session_id,
            }
        )
    if scenario == "rate_limit":
        print(f"Error: {RATE_LIMIT_TEXT}", file=sys.stderr)
        return 1
    if scenario == "crash":
        print("Error: fake cursor-agent crashed (segmentation fault)", file=sys.stderr)
        return 139
    if scenario == "hang":
        threading.Event().wait()  # until killed
        return 1

    if stream:
        _messages(session_id)
    text = "DONE"
    write = os.environ.get("FAKE_CURSOR_WRITE")
    if write:
        path_text, _, content = write.partition(":")
        path = Path(path_text)
        if stream:
            _assistant(session_id, f"I'll create {path.name}.")
        call_id = f"toolu_{uuid.uuid4().hex[:24]}"
        write_args = {"path": str(path), "fileText": content}
        if stream:
            _tool_call("started", session_id, call_id, {"writeToolCall": {"args": write_args}})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        success = {
            "path": str(path.absolute()),
            "linesCreated": len(content.splitlines()),
            "fileSize": len(content.encode()),
        }
        if stream:
            _tool_call(
                "completed",
                session_id,
                call_id,
                {"writeToolCall": {"args": write_args, "result": {"success": success}}},
            )
        text = f"DONE: wrote {path.name}"
    duration_ms = int((time.monotonic() - started) * 1000) + 1
    if stream:
        _assistant(session_id, text)
    result = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": duration_ms,
        "duration_api_ms": duration_ms,
        "result": text,
        "session_id": session_id,
        "request_id": str(uuid.uuid4()),
        "usage": USAGE,
    }
    if args.output_format == "text":
        print(text)
    else:
        _emit(result)
    return 0


def _messages(session_id: str) -> None:
    count = int(os.environ.get("FAKE_CURSOR_MESSAGES", "0"))
    interval = float(os.environ.get("FAKE_CURSOR_INTERVAL", "0.02"))
    pause_at, _, gate = os.environ.get("FAKE_CURSOR_PAUSE", "").partition(":")
    for i in range(count):
        _assistant(session_id, f"message {i}")
        if pause_at and i == int(pause_at):
            while not Path(gate).exists():
                time.sleep(0.01)
        time.sleep(interval)


def _assistant(session_id: str, text: str) -> None:
    _emit(
        {
            "type": "assistant",
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "session_id": session_id,
        }
    )


def _tool_call(subtype: str, session_id: str, call_id: str, tool_call: dict[str, Any]) -> None:
    _emit(
        {
            "type": "tool_call",
            "subtype": subtype,
            "call_id": call_id,
            "tool_call": tool_call,
            "session_id": session_id,
        }
    )


if __name__ == "__main__":
    raise SystemExit(main())
