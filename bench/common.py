"""Helpers shared by the benchmarks: timing commands and summarising samples."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADO = [sys.executable, "-m", "ado"]
ADO_BIN = str(Path(sys.executable).with_name("ado"))


@dataclass
class Result:
    name: str
    value: float
    unit: str
    target: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        mark = "✔" if self.ok else "✘"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{mark} {self.name}: {self.value:.1f} {self.unit} — target {self.target}{extra}"


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def time_command(
    argv: Sequence[str],
    *,
    runs: int = 20,
    warmup: int = 3,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[float]:
    """Wall-clock milliseconds of each run of ``argv`` (stdout discarded)."""
    samples = []
    full_env = {**os.environ, **(env or {})}
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
        if i >= warmup:
            samples.append(elapsed)
    return samples


def summary(samples: Sequence[float]) -> str:
    return (
        f"median {statistics.median(samples):.1f}, p95 {percentile(samples, 95):.1f}, "
        f"min {min(samples):.1f}, n={len(samples)}"
    )


def ensure_bytecode(*others: str | Path) -> None:
    """Compile ADO's modules (and those of ``others``, source trees compared with this one),
    as ``pip install`` does for an installed package.

    The checkout is installed editable and this machine sets ``PYTHONDONTWRITEBYTECODE=1``,
    so without this every timed run would compile ADO's sources from scratch — a cost no
    installed ADO pays. (Dependencies were compiled by pip already.)
    """
    import compileall

    for src in (ROOT / "src", *map(Path, others)):
        compileall.compile_dir(str(Path(src) / "ado"), quiet=1)
