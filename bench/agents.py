"""Scripted agent executables for the benchmarks, and an ADO config that runs them.

Two agents stand in for ``cursor-agent`` (the adapter ADO runs them through):

- ``python_agent``: the project's own fake, ``ado.testing.fake_cursor_agent``, wrapped in an
  executable script the way the tests wrap it. Its start-up is a full Python interpreter
  with site-packages (~40-60 ms), which is the agent's time, not ADO's, but it adds noise.
- ``tiny_agent``: a C program compiled with ``gcc`` at bench time (about 1 ms from exec to
  its first line). Without a C compiler it falls back to a ``python -S -E`` script that
  imports nothing. It prints cursor's stream-json at once: ``system/init``, ``user``, then
  ``BENCH_AGENT_EVENTS`` events (alternating ``assistant`` text of ``BENCH_AGENT_TEXT_BYTES``
  bytes and ``tool_call`` started/completed pairs), one every ``BENCH_AGENT_INTERVAL_MS``
  milliseconds, then a ``result`` with usage. Both defaults are 0: a run of four lines.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

__all__ = ["ORCHESTRATOR_KINDS", "bench_config", "python_agent", "tiny_agent"]

#: Event kinds the runner emits itself; any other kind came from the agent.
ORCHESTRATOR_KINDS = frozenset(
    {"routed", "attempt_started", "attempt_finished", "failover", "task_finished", "log"}
)

_C_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long env_long(const char *name) {
    const char *v = getenv(name);
    return v ? atol(v) : 0;
}

int main(void) {
    static const char *sid = "00000000-0000-4000-8000-000000000000";
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
    long events = env_long("BENCH_AGENT_EVENTS");
    long interval_ms = env_long("BENCH_AGENT_INTERVAL_MS");
    long text_bytes = env_long("BENCH_AGENT_TEXT_BYTES");
    if (text_bytes <= 0) text_bytes = 200;
    char *text = malloc(text_bytes + 1);
    memset(text, 'x', text_bytes);
    text[text_bytes] = 0;
    struct timespec pause = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};

    printf("{\"type\":\"system\",\"subtype\":\"init\",\"apiKeySource\":\"login\","
           "\"cwd\":\"%s\",\"session_id\":\"%s\",\"model\":\"auto\","
           "\"permissionMode\":\"force\"}\n", cwd, sid);
    fflush(stdout);
    printf("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"text\","
           "\"text\":\"bench\"}]},\"session_id\":\"%s\"}\n", sid);
    fflush(stdout);
    for (long i = 0; i < events; i++) {
        if (interval_ms > 0) nanosleep(&pause, NULL);
        if (i % 3 == 0) {
            printf("{\"type\":\"assistant\",\"message\":{\"role\":\"assistant\",\"content\":"
                   "[{\"type\":\"text\",\"text\":\"%ld %s\"}]},\"session_id\":\"%s\"}\n",
                   i, text, sid);
        } else {
            const char *sub = i % 3 == 1 ? "started" : "completed";
            const char *res = i % 3 == 1 ? "" : ",\"result\":{\"success\":{\"content\":\"ok\"}}";
            printf("{\"type\":\"tool_call\",\"subtype\":\"%s\",\"call_id\":\"call_%ld\","
                   "\"tool_call\":{\"readToolCall\":{\"args\":{\"path\":\"src/m%ld.py\"}%s}},"
                   "\"session_id\":\"%s\"}\n", sub, i / 3, i / 3, res, sid);
        }
        fflush(stdout);
    }
    printf("{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"duration_ms\":1,"
           "\"duration_api_ms\":1,\"result\":\"DONE\",\"session_id\":\"%s\",\"request_id\":\"r\","
           "\"usage\":{\"inputTokens\":123,\"outputTokens\":45,\"cacheReadTokens\":0,"
           "\"cacheWriteTokens\":0}}\n", sid);
    fflush(stdout);
    return 0;
}
"""

_PY_SOURCE = """\
import os, time
sid = "00000000-0000-4000-8000-000000000000"
env = os.environ
events = int(env.get("BENCH_AGENT_EVENTS") or 0)
interval = int(env.get("BENCH_AGENT_INTERVAL_MS") or 0) / 1000
text = "x" * (int(env.get("BENCH_AGENT_TEXT_BYTES") or 0) or 200)
def out(line):
    os.write(1, (line + "\\n").encode())
out('{"type":"system","subtype":"init","apiKeySource":"login","cwd":"%s",'
    '"session_id":"%s","model":"auto","permissionMode":"force"}' % (os.getcwd(), sid))
out('{"type":"user","message":{"role":"user","content":[{"type":"text","text":"bench"}]},'
    '"session_id":"%s"}' % sid)
for i in range(events):
    if interval:
        time.sleep(interval)
    if i % 3 == 0:
        out('{"type":"assistant","message":{"role":"assistant","content":'
            '[{"type":"text","text":"%d %s"}]},"session_id":"%s"}' % (i, text, sid))
    else:
        sub = "started" if i % 3 == 1 else "completed"
        res = "" if i % 3 == 1 else ',"result":{"success":{"content":"ok"}}'
        out('{"type":"tool_call","subtype":"%s","call_id":"call_%d","tool_call":'
            '{"readToolCall":{"args":{"path":"src/m%d.py"}%s}},"session_id":"%s"}'
            % (sub, i // 3, i // 3, res, sid))
out('{"type":"result","subtype":"success","is_error":false,"duration_ms":1,'
    '"duration_api_ms":1,"result":"DONE","session_id":"%s","request_id":"r",'
    '"usage":{"inputTokens":123,"outputTokens":45,"cacheReadTokens":0,'
    '"cacheWriteTokens":0}}' % sid)
"""


def python_agent(directory: Path) -> Path:
    """The project's fake cursor-agent as an executable (as tests/fixtures/ado.py makes it)."""
    script = directory / "cursor-agent-py"
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        from ado.testing.fake_cursor_agent import main
        raise SystemExit(main())
        """)
    )
    script.chmod(0o755)
    return script


def tiny_agent(directory: Path) -> tuple[Path, str]:
    """A near-zero start-up agent: compiled C if gcc is there, else ``python -S -E``."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler:
        source = directory / "tiny_agent.c"
        binary = directory / "cursor-agent-c"
        source.write_text(_C_SOURCE)
        built = subprocess.run(
            [compiler, "-O2", "-o", str(binary), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode == 0:
            return binary, "C (gcc)"
    script = directory / "cursor-agent-min"
    script.write_text(f"#!{sys.executable} -S -E\n{_PY_SOURCE}")
    script.chmod(0o755)
    return script, "python -S -E"


def bench_config(command: Path, **env: str) -> Any:
    """An ``AdoConfig`` whose only provider is cursor-agent running ``command``."""
    from ado.config.schema import AdoConfig

    return AdoConfig.model_validate(
        {
            "version": "1.1",
            "providers": {
                "cursor-agent": {
                    "enabled": True,
                    "command": str(command),
                    "timeout": 120,
                    "env": env,
                    "accessModes": [{"mode": "subscription", "priority": 1}],
                }
            },
        }
    )
