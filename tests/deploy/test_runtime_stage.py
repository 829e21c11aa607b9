"""The image's runtime stage without Docker: its wheels built and installed as the Dockerfile
does, then its command and health check run from the fresh environment.

As in the Dockerfile: ADO's wheel is built from ``pyproject.toml``, ``README.md`` and ``src/``
alone (the built dashboard inside), the dependencies' wheels are collected into a wheelhouse,
a fresh virtual environment installs ADO from the wheelhouse only (``--no-index``), and
``deploy/docker/slim_venv.py`` slims it. The wheelhouse is kept in the test cache
(``$ADO_TEST_CACHE``), so only a change of the dependencies downloads anything. Then the
runtime stage's ``CMD`` serves, bound beyond loopback, and its ``HEALTHCHECK`` command passes;
and the environment, on the published size of the base image, fits the image's budget.
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

from tests.deploy.test_dockerfile import DOCKERFILE, ENTRYPOINT, copy_sources, stages
from tests.deploy.tools import ROOT
from tests.support.servers import free_port, spawn_server

#: What the Dockerfile installs: ADO with these extras (one absent from this ADO is skipped).
EXTRAS = "postgresql,celery"
CACHE = Path(os.environ.get("ADO_TEST_CACHE", Path.home() / ".cache/ado-test"))
SLIM_VENV = ROOT / "deploy/docker/slim_venv.py"

#: The image without the agents must stay within this (issue 13), in MB (10^6 bytes).
BUDGET_MB = 250
#: The base image's size as published: "Virtual Size: ~ 124.35 Mb (total size of all layers
#: on-disk)", linux/amd64, in docker-library/repo-info's repos/python/local/
#: 3.12.14-slim-bookworm.md (the image of 2026-08-25; 3.12.13's of 2026-08-05: 124.3). The
#: `docker image ls` of python:3.12-slim on bookworm read 124 MB a year earlier.
BASE_IMAGE = "python:3.12-slim-bookworm"
BASE_IMAGE_MB = 124.35
#: The standard library's bytecode the runtime stage compiles (the base ships none): 11 MB
#: for Python 3.12's library without idlelib, tkinter, turtledemo, lib2to3, ensurepip and
#: pydoc_data (measured on a 3.12 install; 14 MB with them), rounded up.
STDLIB_BYTECODE_MB = 12.0


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
    # The wheel stage's last step, with the environment's own interpreter.
    subprocess.run([str(python), str(SLIM_VENV), str(venv)], check=True, timeout=300)
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


def test_the_wheel_stage_slims_the_environment_the_runtime_copies() -> None:
    by_name = {stage.name: stage for stage in stages(DOCKERFILE.read_text())}
    built = " ".join(args for kw, args in by_name["wheel"].instructions if kw == "RUN")
    assert "/opt/ado/bin/python /build/slim_venv.py /opt/ado" in built
    assert "deploy/docker/slim_venv.py" in copy_sources()
    copied = [args for kw, args in by_name["runtime"].instructions if kw == "COPY"]
    assert "--from=wheel /opt/ado /opt/ado" in copied
    # No pip, compiler or build tool in the runtime: it only copies the environment.
    runs = " ".join(args for kw, args in by_name["runtime"].instructions if kw == "RUN")
    assert re.search(r"\bpip\b", runs) is None and "apt-get" not in runs


def test_the_slimmed_environment_runs_on_bytecode_and_keeps_ados_sources(
    runtime: tuple[Path, Path],
) -> None:
    _, bin_dir = runtime
    probe = (
        "import json, sqlalchemy, uvloop, celery.apps.worker, ado.cli;"
        "print(json.dumps([m.__file__ for m in (sqlalchemy, celery.apps.worker, ado.cli)]))"
    )
    env = {"HOME": str(bin_dir.parent), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    sqlalchemy, worker, cli = map(Path, json.loads(done.stdout))
    # Third-party modules: their bytecode beside them, their sources gone.
    assert sqlalchemy.name == "__init__.pyc" and not sqlalchemy.with_suffix(".py").exists()
    assert worker.suffix == ".pyc"
    # ADO keeps its sources (tracebacks; Alembic reads the migrations as .py) and bytecode.
    assert cli.name == "__init__.py"
    assert list((cli.parent / "__pycache__").glob("__init__.*.pyc"))
    assert list((cli.parent.parent / "store/migrations/versions").glob("0001_*.py"))
    # The compiled extensions lost their debugging information.
    [loop] = (sqlalchemy.parent.parent / "uvloop").glob("loop.*.so")
    assert b".debug_info" not in loop.read_bytes()


def test_the_image_fits_its_size_budget(runtime: tuple[Path, Path]) -> None:
    _, bin_dir = runtime
    arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert arg and arg[1] == BASE_IMAGE, "a new base image: update BASE_IMAGE_MB from its size"
    venv = bin_dir.parent
    sizes: dict[str, int] = {}
    for path in venv.rglob("*"):
        if path.is_file() and not path.is_symlink():
            parts = path.relative_to(venv).parts
            top = parts[3] if parts[:1] == ("lib",) and len(parts) > 4 else parts[0]
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    # What the runtime stage adds beside the environment: the entrypoint (and empty dirs),
    # and the standard library's bytecode.
    stage = next(s for s in stages(DOCKERFILE.read_text()) if s.name == "runtime")
    assert "compileall" in " ".join(args for kw, args in stage.instructions if kw == "RUN")
    added_mb = (sum(sizes.values()) + ENTRYPOINT.stat().st_size) / 1e6 + STDLIB_BYTECODE_MB
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:8]
    summary = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in largest)
    assert BASE_IMAGE_MB + added_mb <= BUDGET_MB, (
        f"{BASE_IMAGE_MB} MB base + {added_mb:.1f} MB (/opt/ado, the standard library's "
        f"bytecode) > {BUDGET_MB} MB; "
        f"the largest (MB): {summary}"
    )
