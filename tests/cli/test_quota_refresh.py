"""``ado quota --refresh``: the windows an agent recorded, read without a run and at no cost in
quota — codex's session logs (``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-….jsonl``, runs made
outside ADO included), with the time codex wrote them; agents that keep no such record say
so. The log line is the real codex's (tests/providers/data)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ado.store import QuotaWindowView
from tests.fixtures.ado import Project

DATA = Path(__file__).parents[1] / "providers" / "data"


def _snapshot(used: float, at: datetime) -> str:
    record = json.loads((DATA / "codex.session.rate_limits.jsonl").read_text())
    record["timestamp"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    record["payload"]["rate_limits"]["primary"]["used_percent"] = used * 100
    reset = int((at + timedelta(hours=2)).timestamp())
    record["payload"]["rate_limits"]["primary"]["resets_at"] = reset
    return json.dumps(record)


def _log(home: Path, at: datetime, thread: str, lines: list[str]) -> Path:
    day = home / "sessions" / f"{at:%Y}" / f"{at:%m}" / f"{at:%d}"
    day.mkdir(parents=True, exist_ok=True)
    path = day / f"rollout-{at:%Y-%m-%dT%H-%M-%S}-{thread}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(project: Project, codex_home: Path) -> None:
    modes = [{"mode": "subscription", "priority": 1}]
    project.write_config(
        {
            "codex": {
                "enabled": True,
                "command": "/nonexistent/codex",
                "env": {"CODEX_HOME": str(codex_home)},
                "accessModes": modes,
            },
            "claude-code": {
                "enabled": True,
                "command": "/nonexistent/claude",
                "accessModes": modes,
            },
        }
    )


def _windows(project: Project, *args: str) -> dict[str, dict[str, Any]]:
    proc = project.run("quota", "--json", *args, check_code=0)
    body = json.loads(proc.stdout)  # --refresh says what it read on stderr only
    return {w["window"]: w for w in body["windows"] if w["provider"] == "codex"}


def test_refresh_reads_the_newest_session_log(project: Project, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    now = datetime.now(UTC).replace(microsecond=0)
    _log(home, now - timedelta(hours=3), "a", [_snapshot(0.2, now - timedelta(hours=3))])
    newest = now - timedelta(minutes=5)
    _log(
        home,
        newest,
        "b",
        ["not json", _snapshot(0.5, newest - timedelta(minutes=1)), _snapshot(0.61, newest)],
    )
    _config(project, home)
    assert _windows(project) == {}, "without --refresh nothing is read"
    windows = _windows(project, "--refresh")
    assert set(windows) == {"five_hour", "weekly"}
    five = windows["five_hour"]
    assert abs(five["usedRatio"] - 0.61) < 1e-9 and five["source"] == "agent"
    assert datetime.fromisoformat(five["observedAt"]) == newest  # when codex wrote it
    text = project.run("quota", "--refresh", check_code=0)
    assert "codex: 2 window(s) as the agent recorded them" in text.stderr
    assert "claude-code: no record to read without a run" in text.stderr


def test_a_newer_log_without_a_snapshot_is_passed_over(project: Project, tmp_path: Path) -> None:
    """Adversarial: the newest run logged in with an API key (no rate_limits in its log), and
    a log is cut mid-line: the snapshot before them is the latest there is."""
    home = tmp_path / "codex-home"
    now = datetime.now(UTC).replace(microsecond=0)
    earlier = now - timedelta(hours=1)
    _log(home, earlier, "a", [_snapshot(0.33, earlier)])
    _log(home, now - timedelta(minutes=30), "b", ['{"timestamp":"x","payload":{"type":"tok'])
    _log(home, now - timedelta(minutes=2), "c", ['{"type":"event_msg","payload":{}}'])
    _config(project, home)
    five = _windows(project, "--refresh")["five_hour"]
    assert abs(five["usedRatio"] - 0.33) < 1e-9
    assert datetime.fromisoformat(five["observedAt"]) == earlier


def test_an_older_log_does_not_replace_a_newer_reading(project: Project, tmp_path: Path) -> None:
    """Adversarial: a run through ADO read 0.9 a minute ago; the session logs hold only an
    older snapshot (0.4): the ledger keeps the newer reading."""
    home = tmp_path / "codex-home"
    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(hours=2)
    _log(home, old, "a", [_snapshot(0.4, old)])
    _config(project, home)
    store = project.store()
    store.record_quota(
        QuotaWindowView(
            provider="codex",
            kind="five_hour",
            status="allowed",
            source="agent",
            used_ratio=0.9,
            resets_at=now + timedelta(hours=1),
            window_minutes=300,
            observed_at=now - timedelta(minutes=1),
        )
    )
    store.close()
    windows = _windows(project, "--refresh")
    assert abs(windows["five_hour"]["usedRatio"] - 0.9) < 1e-9
    assert abs(windows["weekly"]["usedRatio"] - 0.4) < 1e-9  # that window had no reading


def test_no_codex_home_is_no_reading_and_no_error(project: Project, tmp_path: Path) -> None:
    home = tmp_path / "missing"
    _config(project, home)
    proc = project.run("quota", "--refresh", check_code=0)
    assert "codex: no record to read without a run" in proc.stderr
    assert not home.exists(), "reading created nothing"
