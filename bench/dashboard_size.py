"""The dashboard's JavaScript, gzipped (target ≤ 300 KB in all).

Reads the built assets shipped in the package (``src/ado/dashboard/dist``; build them with
``scripts/build_dashboard``) and gzips each ``.js`` file at level 9, as a server or CDN
would send it. Also reported: what the first page load needs (the entry chunk and what
``index.html`` preloads) — every route's chunk loads only when the route is opened.
"""

from __future__ import annotations

import gzip
import re

from ado.dashboard import DIST
from bench.common import Result

TARGET_KB = 300.0


def sizes() -> dict[str, tuple[int, int]]:
    """Each JS file's (raw, gzipped) bytes."""
    out = {}
    for path in sorted((DIST / "assets").glob("*.js")):
        data = path.read_bytes()
        out[path.name] = (len(data), len(gzip.compress(data, 9)))
    return out


def run() -> list[Result]:
    if not (DIST / "index.html").is_file():
        raise RuntimeError(f"{DIST} is not built: run scripts/build_dashboard")
    files = sizes()
    total = sum(gz for _, gz in files.values()) / 1024
    raw = sum(r for r, _ in files.values()) / 1024
    index = (DIST / "index.html").read_text()
    initial = set(re.findall(r'/assets/([^"]+\.js)', index))
    first = sum(files[name][1] for name in initial if name in files) / 1024
    largest = max(files.items(), key=lambda kv: kv[1][1])
    return [
        Result(
            "dashboard JS, gzip",
            total,
            "KB",
            f"≤ {TARGET_KB:.0f} KB",
            total <= TARGET_KB,
            f"{len(files)} files, {raw:.1f} KB raw; first load {first:.1f} KB; largest "
            f"{largest[0]} {largest[1][1] / 1024:.1f} KB",
        )
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
