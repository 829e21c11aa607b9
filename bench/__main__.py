"""Run every benchmark and print the figures (``python -m bench [name ...]``)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (
    "cli_startup",
    "run_spawn",
    "status_100k",
    "first_event",
    "memory_agents",
    "telemetry_overhead",
    "event_path",
    "ws_latency",
    "api_throughput",
    "dashboard_size",
    "ws_browser_latency",
    "db_backup",
    "reservation",
    "load_sim",  # 100 tasks a setup here (ADO_BENCH_LOAD_TASKS); 2,000: python -m bench.load_sim
)


def main(names: list[str]) -> int:
    failed = 0
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        for result in module.run():
            print(result.line(), flush=True)
            failed += not result.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
