#!/usr/bin/env python3
"""A hostile agent: speaks cursor-agent's stream-json, then misbehaves in every way an agent
CLI (or what it runs) can. Configured as ``providers.cursor-agent.command`` (the adapter
builds ``-p PROMPT --output-format stream-json --force``, ignored here).

``HOSTILE_STEPS`` is a comma-separated list of steps, run in order:

- ``surrogate``: text, a tool call and the result carrying lone surrogate escapes
  (``"\\ud83d"``, as JavaScript cuts an emoji) and a valid pair written as escapes
- ``nul``: ``"\\u0000"`` escapes in text, tool input and session id; a raw NUL byte line
- ``utf8``: invalid UTF-8 bytes inside a JSON string and in plain lines, on both streams
- ``control``: ESC/OSC/CSI/C1 sequences, carriage returns and bidi overrides in text
- ``flood:MB``: about MB megabytes of small assistant lines, as fast as the pipe takes them
- ``huge:N:MB``: N assistant lines of MB megabytes each
- ``toolong``: one line longer than ADO's line limit (9 MiB), then a normal line
- ``errors:N``: N error events of 64 KiB each (a flood of what classification reads)
- ``child``: start a child (own process, same group) that ignores SIGTERM, SIGINT and
  SIGHUP and sleeps; its pid goes to ``$HOSTILE_PID_FILE``
- ``hang``: sleep until killed (ignoring SIGTERM)
- ``result``: the final result with usage (``HOSTILE_TOKENS`` input/output, default 1000/200)

The agent always starts with ``system/init``; without ``result`` it just exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

OUT = sys.stdout.buffer
SESSION = "hostile-session"


def emit(obj: dict[str, object]) -> None:
    OUT.write(json.dumps(obj).encode() + b"\n")


def raw(line: bytes, stream: object = OUT) -> None:
    stream.write(line + b"\n")  # type: ignore[attr-defined]


def assistant_json(text_json: str) -> bytes:
    """An assistant line whose text is ``text_json`` (already a JSON string literal)."""
    return (
        b'{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":'
        + text_json.encode()
        + b'}]},"session_id":"'
        + SESSION.encode()
        + b'"}'
    )


def assistant(text: str) -> None:
    emit(
        {
            "type": "assistant",
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "session_id": SESSION,
        }
    )


def tool_call_json(path_json: str) -> bytes:
    return (
        b'{"type":"tool_call","subtype":"started","call_id":"c1","tool_call":{"writeToolCall":'
        b'{"args":{"path":' + path_json.encode() + b',"fileText":"x"}}},"session_id":"s"}'
    )


FLOOD_LINE = assistant_json(json.dumps("f" * 900))
FLOOD_BLOCK = 64


def flood_lines(megabytes: float) -> int:
    """How many assistant lines ``flood:MB`` prints."""
    block = (len(FLOOD_LINE) + 1) * FLOOD_BLOCK
    return (int(megabytes * 1024 * 1024 / block) + 1) * FLOOD_BLOCK


def flood(megabytes: float) -> None:
    block = b"\n".join([FLOOD_LINE] * FLOOD_BLOCK) + b"\n"
    for _ in range(flood_lines(megabytes) // FLOOD_BLOCK):
        OUT.write(block)


def huge(count: int, megabytes: float) -> None:
    text = "h" * int(megabytes * 1024 * 1024)
    for _ in range(count):
        assistant(text)


def errors(count: int) -> None:
    for i in range(count):
        emit({"type": "error", "message": f"error {i}: " + "e" * 65536})


def child() -> None:
    code = (
        "import signal, time\n"
        "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    with open(os.environ["HOSTILE_PID_FILE"], "w") as f:
        f.write(str(proc.pid))


def result() -> None:
    tokens_in, _, tokens_out = os.environ.get("HOSTILE_TOKENS", "1000/200").partition("/")
    usage = {"inputTokens": int(tokens_in), "outputTokens": int(tokens_out)}
    emit(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": "hostile agent done",
            "session_id": SESSION,
            "usage": usage,
        }
    )


def main() -> int:
    emit({"type": "system", "subtype": "init", "session_id": SESSION, "model": "hostile"})
    for step in filter(None, os.environ.get("HOSTILE_STEPS", "result").split(",")):
        name, *args = step.split(":")
        if name == "surrogate":
            OUT.write(
                assistant_json('"cut \\ud83d here, pair \\ud83d\\ude00, low \\udc00"') + b"\n"
            )
            OUT.write(tool_call_json('"file-\\ud83d.txt"') + b"\n")
        elif name == "nul":
            OUT.write(assistant_json('"nul \\u0000 inside"') + b"\n")
            OUT.write(tool_call_json('"a\\u0000b.txt"') + b"\n")
            raw(b"plain \x00 text with a raw NUL")
            raw(b"stderr \x00 NUL", sys.stderr.buffer)
        elif name == "utf8":
            start = b'{"type":"assistant","message":{"content":[{"type":"text","text":"'
            raw(start + b'bad \xff\xfe"}]}}')
            raw(start + b'cut \xc3"}]}}')
            raw(b"\xff\xfe\x80 not utf-8 at all")
            raw(b"\xed\xa0\xbd encoded surrogate", sys.stderr.buffer)
        elif name == "control":
            assistant("clear\x1b[2J\x1b[H home, title \x1b]0;pwned\x07, csi \x9b31m, cr\roverwrite")
            assistant("bidi \u202eevil\u202c done, bell \x07, backspace \x08")
        elif name == "flood":
            flood(float(args[0]))
        elif name == "huge":
            huge(int(args[0]), float(args[1]))
        elif name == "toolong":
            assistant("t" * (9 * 1024 * 1024))
            assistant("after the long line")
        elif name == "errors":
            errors(int(args[0]))
        elif name == "child":
            child()
        elif name == "hang":
            OUT.flush()
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(600)
        elif name == "result":
            result()
        OUT.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
