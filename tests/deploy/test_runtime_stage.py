"""The image's runtime stage without Docker: its wheels built and installed as the Dockerfile
does, then its command and health check run from the fresh environment.

As in the Dockerfile: ADO's wheel is built from ``pyproject.toml``, ``README.md`` and ``src/``
alone (the built dashboard inside), the dependencies' wheels are collected into a wheelhouse,
and a fresh virtual environment installs ADO from the wheelhouse only (``--no-index``).
The wheelhouse is kept in the test cache (``$ADO_TEST_CACHE``), so only a change of the
dependencies downloads anything. Then the runtime stage's ``CMD`` serves, bound beyond
loopback, and its ``HEALTHCHECK`` command passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.deploy.test_dockerfile import DOCKERFILE, copy_sources, stages
from tests.deploy.tools import ROOT
from tests.support.servers import free_port, spawn_server

#: What the Dockerfile installs: ADO with these extras (one absent from this ADO is skipped).
EXTRAS = "postgresql,celery"
CACHE = Path(os.environ.get("ADO_TEST_CACHE", Path.home() / ".cache/ado-test"))


def pip(*args: str, python: Path | None = None) -> None:
    target = ["--python", str(python)] if python else []
    subprocess.run(
        [sys.executable, "-m", "pip", *target, *args, "--quiet", "--disable-pip-version-check"],
        check=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ADO's wheel, the fresh environment's bin directory)."""
    tmp = tmp_path_factory.mktemp("runtime")
    build = tmp / "build"
    build.mkdir()
    # The wheel stage's build context: what the Dockerfile copies from the repository.
    for source in ("pyproject.toml", "README.md", "src/"):
        assert source in copy_sources()
        if source.endswith("/"):
            shutil.copytree(
                ROOT / source, build / source, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / source, build / source)
    wheels = tmp / "wheels"
    pip("wheel", "--no-deps", "--wheel-dir", str(wheels), str(build))
    [wheel] = wheels.glob("ado-*.whl")
    wheelhouse = CACHE / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin/python"
    requirement = f"{wheel}[{EXTRAS}]"
    offline = ["install", "--no-index", "--find-links", str(wheelhouse), requirement]
    try:
        pip(*offline, python=python)
    except subprocess.CalledProcessError:  # a dependency changed: fill the wheelhouse
        _drop_ado_wheels(wheelhouse)  # a stale ADO of the same version hides new extras
        pip("wheel", "--wheel-dir", str(wheelhouse), requirement)
        _drop_ado_wheels(wheelhouse)  # the wheelhouse is for the dependencies only
        pip(*offline, python=python)
    return wheel, venv / "bin"


def _drop_ado_wheels(wheelhouse: Path) -> None:
    for stale in wheelhouse.glob("ado-*.whl"):
        stale.unlink()


def test_the_wheel_carries_the_dashboard_and_the_migrations(runtime: tuple[Path, Path]) -> None:
    wheel, _ = runtime
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ado/dashboard/dist/index.html" in names
    assert any(re.match(r"ado/store/migrations/versions/0001_.*\.py$", n) for n in names)
    index = zipfile.ZipFile(wheel).read("ado/dashboard/dist/index.html").decode()
    for asset in re.findall(r'(?:src|href)="/(assets/[^"]+)"', index):
        assert f"ado/dashboard/dist/{asset}" in names, asset
    assert not any(n.startswith("tests/") for n in names)


def test_the_image_command_serves_the_api_and_dashboard_behind_a_token(
    runtime: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bin_dir = runtime
    runtime_stage = next(s for s in stages(DOCKERFILE.read_text()) if s.name == "runtime")
    cmd = runtime_stage.last("CMD")
    healthcheck = runtime_stage.last("HEALTHCHECK")
    assert cmd and healthcheck
    argv = json.loads(cmd)
    port = free_port()
    argv = [str(bin_dir / argv[0]), *argv[1:]]
    argv[argv.index("--port") + 1] = str(port)
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    # Off loopback the server needs a token to exist; the documented first step.
    created = subprocess.run(
        [str(bin_dir / "ado"), "tokens", "create", "admin"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    token = created.stdout.strip()
    server = spawn_server(
        argv, port=port, cwd=workspace, log=tmp_path / "serve.log", env=env, host="0.0.0.0"
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health/ready").status_code == 200
        page = httpx.get(f"{url}/")
        assert page.status_code == 200 and '<div id="root">' in page.text
        assert httpx.get(f"{url}/api/tasks").status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/api/tasks", headers=auth).status_code == 200
        # The image's HEALTHCHECK, run by the environment's own interpreter.
        probe = json.loads(healthcheck.split("CMD", 1)[1].strip())
        assert probe[0] == "python"
        probe = [str(bin_dir / "python"), *probe[1:]]
        probe[-1] = probe[-1].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        assert subprocess.run(probe, env=env, timeout=30, check=False).returncode == 0
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.output()
    # And the health check fails once nothing answers.
    assert subprocess.run(probe, env=env, timeout=30, check=False).returncode != 0


def test_the_entrypoint_migrates_a_fresh_store_then_runs_the_command(
    runtime: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bin_dir = runtime
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    has_db = subprocess.run(
        [str(bin_dir / "ado"), "db", "--help"], env=env, capture_output=True, check=False
    )
    if has_db.returncode != 0:
        pytest.skip("`ado db upgrade` comes with the backup and restore commands (issue 13)")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    entrypoint = str(ROOT / "deploy/docker/entrypoint.sh")
    env["ADO_LOGINS_DIR"] = str(tmp_path / "no-logins")
    listed = subprocess.run(
        [entrypoint, "ado", "tokens", "list", "--json"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(listed.stdout) == []
    assert (workspace / ".ado/state.db").is_file()
