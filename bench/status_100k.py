"""``ado status`` wall time with 100,000 tasks stored (target ≤ 300 ms)."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.common import ADO_BIN, Result, ensure_bytecode, summary, time_command
from bench.seed import seeded_store

CONFIG = """\
version: "1.1"
providers:
  claude-code:
    enabled: true
    accessModes:
      - mode: subscription
        priority: 1
        subscription:
          rateLimits: {requestsPerDay: 500, requestsPerHour: 100, tokensPerDay: 5000000}
  codex:
    enabled: true
    accessModes:
      - mode: subscription
        priority: 2
"""


def run() -> list[Result]:
    ensure_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ado.config.yaml").write_text(CONFIG)
        (root / ".ado").mkdir()
        seeded_store(root / ".ado" / "state.db", 100_000).close()
        env = {"HOME": tmp, "XDG_CONFIG_HOME": str(root / "xdg")}
        samples = time_command([ADO_BIN, "status"], runs=15, cwd=root, env=env)
        json_samples = time_command([ADO_BIN, "status", "--json"], runs=15, cwd=root, env=env)
    median = statistics.median(samples)
    return [
        Result(
            "ado status, 100k tasks",
            median,
            "ms (median)",
            "≤ 300 ms",
            median <= 300,
            summary(samples),
        ),
        Result(
            "ado status --json, 100k tasks",
            statistics.median(json_samples),
            "ms (median)",
            "≤ 300 ms",
            statistics.median(json_samples) <= 300,
            summary(json_samples),
        ),
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
