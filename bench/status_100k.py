"""``ado status`` wall time with 100,000 tasks stored (target ≤ 300 ms).

``python -m bench status_100k`` times the installed ``ado`` script of the ADO on
``PYTHONPATH``. ``python -m bench.status_100k --compare SRC [SRC ...]`` compares source trees
(each a ``src`` directory) on one seeded store, one run of each in turn (``python -m ado``,
each tree with a cache directory of its own) beside ``python -c pass``, and prints each
one's median, range and p95 with the machine's load: a busy machine moves every figure, an
interleaved comparison moves them together.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import ADO_BIN, Result, ensure_bytecode, percentile, summary, time_command
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


def compare(trees: list[Path], runs: int, warmup: int = 3) -> None:
    """Time ``ado status`` and ``ado status --json`` of each tree and ``python -c pass``, one
    run of each in turn, on one store."""
    ensure_bytecode(*trees)
    commands = {
        **{f"{tree} status": (tree, ["status"]) for tree in trees},
        **{f"{tree} status --json": (tree, ["status", "--json"]) for tree in trees},
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ado.config.yaml").write_text(CONFIG)
        (root / ".ado").mkdir()
        seeded_store(root / ".ado" / "state.db", 100_000).close()

        def env(tree: Path) -> dict[str, str]:
            cache = root / "cache" / str(trees.index(tree))
            return {
                "HOME": tmp,
                "XDG_CONFIG_HOME": str(root / "xdg"),
                "XDG_CACHE_HOME": str(cache),
                "PYTHONPATH": str(tree),
            }

        samples: dict[str, list[float]] = {name: [] for name in [*commands, "python -c pass"]}
        loads = [os.getloadavg()[0]]
        for i in range(warmup + runs):
            order = list(commands.items()) if i % 2 == 0 else list(reversed(commands.items()))
            for name, (tree, args) in order:
                argv = [sys.executable, "-m", "ado", *args]
                (ms,) = time_command(argv, runs=1, warmup=0, cwd=root, env=env(tree))
                if i >= warmup:
                    samples[name].append(ms)
            (ms,) = time_command([sys.executable, "-c", "pass"], runs=1, warmup=0)
            if i >= warmup:
                samples["python -c pass"].append(ms)
            loads.append(os.getloadavg()[0])
    for name, times in samples.items():
        print(
            f"{name}: median {statistics.median(times):.1f} ms, "
            f"range {min(times):.1f}-{max(times):.1f}, p95 {percentile(times, 95):.1f}, "
            f"n={len(times)}"
        )
    print(f"load (1 min): {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs="+", type=Path, metavar="SRC")
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    if options.compare:
        compare([tree.resolve() for tree in options.compare], options.runs)
    else:
        for r in run():
            print(r.line())
