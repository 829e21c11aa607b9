"""``ado --help`` wall time (target ≤ 150 ms)."""

from __future__ import annotations

import statistics

from bench.common import ADO_BIN, Result, ensure_bytecode, summary, time_command


def run() -> list[Result]:
    ensure_bytecode()
    samples = time_command([ADO_BIN, "--help"], runs=30)
    median = statistics.median(samples)
    return [
        Result("ado --help", median, "ms (median)", "≤ 150 ms", median <= 150, summary(samples))
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
