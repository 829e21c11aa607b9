"""Point each real agent CLI at the scripted model server (``ado.testing``).

For every CLI, ``<provider>_provider(server_url, tmp_dir)`` writes what that CLI needs under
``tmp_dir`` (a fake HOME, config files) and returns an ADO provider config dict, in
``ado.config.yaml`` shape, whose ``env`` holds everything the agent needs: it is given to
the agent through ``providers.<id>.env``. ``direct_command()`` builds the full
non-interactive command line, for tests that run a CLI without ADO.

Findings (2026-11-25, real CLIs against ``ScriptedModelServer``, as root, no internet)
------------------------------------------------------------------------------------
Every CLI: stdin from /dev/null, no shell, ``start_new_session=True``; stop it with
``killpg``: codex, gemini and copilot are npm launchers that run the agent in a child
process, so killing the pid alone leaves the agent running (and retrying).

``--version`` (cold, fake HOME): claude ``2.1.197 (Claude Code)`` 0.3 s; codex
``codex-cli 0.169.0`` 0.3 s (plus a stderr WARNING about PATH aliases when CODEX_HOME is
under /tmp); gemini ``0.61.0`` 2.0 s; opencode ``1.18.33`` 0.9 s; copilot
``GitHub Copilot CLI 1.0.102.`` + ``Run 'copilot update' to check for updates.`` 1.4 s.

Write-file task (one tool call, then the final text), wall time:
- claude 0.7 s: ``claude -p P --output-format stream-json --verbose --model M`` plus either
  ``--dangerously-skip-permissions`` with env ``IS_SANDBOX=1`` (as root without it: exit 1,
  stderr ``--dangerously-skip-permissions cannot be used with root/sudo privileges for
  security reasons``) or ``--permission-mode acceptEdits``, which works as root without
  IS_SANDBOX for writes inside the working dir. claude sends ``HEAD /`` first (answered 200).
- codex 0.6-1.2 s: ``codex exec --json --skip-git-repo-check -m M
  --dangerously-bypass-approvals-and-sandbox P``; ``-s workspace-write -c
  approval_policy=never`` also works as root here. Use a model its table knows (gpt-5.5):
  otherwise it emits ``item.completed{item{type:"error", message:"Model metadata for `M`
  not found..."}}``, an "error" item that is not fatal. stderr: ``Reading additional input
  from stdin...``. Tool offered: ``exec_command{cmd}``.
- gemini 1.2-3.4 s: ``gemini -p P --output-format stream-json --yolo --skip-trust -m M``;
  env ``GEMINI_API_KEY``, ``GOOGLE_GEMINI_BASE_URL``, ``GEMINI_CLI_NO_RELAUNCH=true`` and
  ``GEMINI_CLI_SYSTEM_SETTINGS_PATH`` = a file holding
  ``{"security":{"auth":{"selectedType":"gemini-api-key"}},"general":{"maxAttempts":1}}``:
  nothing is written to ~/.gemini. gemini SKIPS that file when any parent directory is
  group/world-writable (stderr ``Security Warning: Skipping system settings file '...':
  Parent directory '/tmp' is insecure ...``, then ``Invalid auth method selected.``, exit
  41), so ADO must write it under a 0700 directory chain (e.g. its own data dir).
- opencode 4-6.4 s (slowest start): ``opencode run --format json --auto -m fake/fake-model
  P`` with ``OPENCODE_CONFIG`` and ``OPENCODE_DISABLE_{MODELS_FETCH,AUTOUPDATE,
  DEFAULT_PLUGINS,LSP_DOWNLOAD}=1``; the model ``cost`` makes ``step_finish.part.cost``
  non-zero. It also sends one tool-less request to make a title (answered as "aux").
- copilot 0.8 s warm, ~4 s on the first run (unpacks 235 MB): ``copilot -p P
  --output-format json --allow-all-tools --allow-all-paths --no-auto-update`` with the
  ``COPILOT_*`` env below; ``COPILOT_PKG_CACHE_HOME`` moves that unpacked package out of
  HOME (shared here under the agent CLI dir). Reports no tokens.

Stopping their own 429 retries (server answering 429 + ``retry-after: 1``):
- claude: env ``CLAUDE_CODE_MAX_RETRIES=0``: 1 request, exit 1 in 0.5-1.7 s, final
  ``result{is_error:true, api_error_status:429}``. With retries: one stdout line per retry
  ``{"type":"system","subtype":"api_retry","attempt":N,"max_retries":10,
  "retry_delay_ms":...,"error_status":429,"error":"rate_limit"}``.
- codex: ``request_max_retries = 0`` and ``stream_max_retries = 0`` in the provider
  table, or on the command line ``-c model_providers.<id>.request_max_retries=0 -c
  model_providers.<id>.stream_max_retries=0`` (verified: ``-c`` works, 1 request): exit 1
  in 0.3-0.9 s, ``error`` + ``turn.failed{error{message:"exceeded retry limit, last status:
  429 Too Many Requests, request id: ..."}}``.
- gemini: ``general.maxAttempts: 1`` through ``GEMINI_CLI_SYSTEM_SETTINGS_PATH`` (system
  settings override the user's): 1 request, exit 173 in 1.1-2.8 s; stderr ``Attempt 1
  failed: <message>. Max attempts reached``. With retries each one prints ``Attempt N
  failed: <message>. Retrying after <ms>ms...`` on stderr, nothing on stdout.
- opencode: no knob (6 task requests + 3 title requests over ~6 s). With ``--print-logs
  --log-level WARN`` (or INFO/DEBUG) every failed attempt, the first included, prints on
  stderr at once: ``timestamp=... level=ERROR run=... message="stream error"
  providerID=fake modelID=fake-model session.id=ses_... small=false agent=build
  mode=primary error.error="AI_APICallError: <message>"`` (``small=true agent=title`` for
  the title request). ADO can kill it on the first ``message="stream error"`` line.
- copilot: no knob (6 requests, exit 1 after ~6 s with ``session.error{errorType:
  "rate_limit"}``). Its stdout streams live: ``model.call_failure{statusCode:429,
  retryAttempt:0}`` arrives right after the first 429 (0.8 s); ``assistant.turn_retry
  {reason:"rate_limit"}`` only after the retry-after wait, just before the second request.
  Act on the first ``model.call_failure`` with statusCode 429.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

#: npm packages' binaries, relative to the install dir (install scripts are not run, so
#: claude and opencode are called through their platform packages directly)
BINARIES = {
    "claude-code": "node_modules/@anthropic-ai/claude-code-linux-x64/claude",
    "codex": "node_modules/.bin/codex",
    "gemini-cli": "node_modules/.bin/gemini",
    "opencode": "node_modules/opencode-linux-x64/bin/opencode",
    "copilot": "node_modules/.bin/copilot",
}

FAKE_KEY = "sk-fake-test-key"

#: resolved at import, before the suite's autouse fixture swaps HOME for a temporary one
_DEFAULT_CLI_DIR = Path.home() / ".cache" / "ado-test" / "agents"


def agent_cli_dir() -> Path:
    """Where ``scripts/test`` installs the agent CLIs (env ``ADO_AGENT_CLI_DIR``)."""
    configured = os.environ.get("ADO_AGENT_CLI_DIR")
    return Path(configured) if configured else _DEFAULT_CLI_DIR


def agent_binaries() -> dict[str, Path]:
    """Absolute path of each real CLI's binary, by ADO provider id."""
    root = agent_cli_dir()
    return {provider: (root / rel).absolute() for provider, rel in BINARIES.items()}


def _binary(provider: str) -> str:
    path = agent_binaries()[provider]
    if not path.exists():
        raise FileNotFoundError(
            f"{provider} CLI not found at {path}: run the test setup script (scripts/test) "
            "to install the agent CLIs, or set ADO_AGENT_CLI_DIR."
        )
    return str(path)


def _home(tmp_dir: Path, provider: str) -> Path:
    home = tmp_dir / f"{provider}-home"
    home.mkdir(parents=True, exist_ok=True)
    return home


def _secure_file(tmp_dir: Path, name: str) -> Path:
    """A path whose every parent is writable by its owner only.

    gemini ignores ``GEMINI_CLI_SYSTEM_SETTINGS_PATH`` ("Security Warning: Skipping system
    settings file ... Parent directory '/tmp' is insecure") when any parent directory is
    group- or world-writable, as /tmp and pytest's tmp_path are; so it goes under the
    agent CLI dir, one file per test directory.
    """
    directory = agent_cli_dir() / "run-settings"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256(str(tmp_dir.resolve()).encode()).hexdigest()[:16]
    return directory / f"{digest}-{name}"


def _base_env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "NO_COLOR": "1", "CI": "1"}


def _config(
    command: str, env: dict[str, str], model: str, args: list[str] | None = None, priority: int = 1
) -> dict[str, Any]:
    return {
        "enabled": True,
        "command": command,
        "env": env,
        "args": args or [],
        "defaultOptions": {"model": model},
        "accessModes": [{"mode": "subscription", "priority": priority}],
    }


def claude_code_provider(
    server_url: str, tmp_dir: Path, *, retries: bool = False
) -> dict[str, Any]:
    home = _home(tmp_dir, "claude")
    env = _base_env(home) | {
        "ANTHROPIC_BASE_URL": server_url,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "IS_SANDBOX": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    if not retries:
        env["CLAUDE_CODE_MAX_RETRIES"] = "0"
    return _config(_binary("claude-code"), env, "claude-sonnet-4-5")


def codex_provider(server_url: str, tmp_dir: Path, *, retries: bool = False) -> dict[str, Any]:
    home = _home(tmp_dir, "codex")
    codex_home = home / ".codex"
    codex_home.mkdir(exist_ok=True)
    retry_lines = "" if retries else "request_max_retries = 0\nstream_max_retries = 0\n"
    (codex_home / "config.toml").write_text(
        'model_provider = "fake"\n'
        'model = "gpt-5.5"\n'
        "[model_providers.fake]\n"
        'name = "fake"\n'
        f'base_url = "{server_url}/v1"\n'
        'env_key = "FAKE_OPENAI_API_KEY"\n'
        'wire_api = "responses"\n' + retry_lines
    )
    env = _base_env(home) | {"CODEX_HOME": str(codex_home), "FAKE_OPENAI_API_KEY": FAKE_KEY}
    return _config(_binary("codex"), env, "gpt-5.5")


def gemini_cli_provider(server_url: str, tmp_dir: Path, *, retries: bool = False) -> dict[str, Any]:
    home = _home(tmp_dir, "gemini")
    system_settings = _secure_file(tmp_dir, "gemini-system-settings.json")
    settings: dict[str, Any] = {"security": {"auth": {"selectedType": "gemini-api-key"}}}
    if not retries:
        settings["general"] = {"maxAttempts": 1}
    system_settings.write_text(json.dumps(settings))
    env = _base_env(home) | {
        "GEMINI_API_KEY": FAKE_KEY,
        "GOOGLE_GEMINI_BASE_URL": server_url,
        "GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(system_settings),
        "GEMINI_CLI_NO_RELAUNCH": "true",
    }
    return _config(_binary("gemini-cli"), env, "gemini-2.5-pro")


def opencode_provider(server_url: str, tmp_dir: Path, *, retries: bool = False) -> dict[str, Any]:
    home = _home(tmp_dir, "opencode")
    config = tmp_dir / "opencode.json"
    config.write_text(
        json.dumps(
            {
                "$schema": "https://opencode.ai/config.json",
                "autoupdate": False,
                "share": "disabled",
                "provider": {
                    "fake": {
                        "npm": "@ai-sdk/openai-compatible",
                        "name": "Fake",
                        "options": {"baseURL": f"{server_url}/v1", "apiKey": FAKE_KEY},
                        "models": {
                            "fake-model": {
                                "name": "Fake model",
                                "cost": {"input": 3, "output": 15},
                                "limit": {"context": 200000, "output": 32000},
                            }
                        },
                    }
                },
            }
        )
    )
    env = _base_env(home) | {
        "OPENCODE_CONFIG": str(config),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    }
    return _config(_binary("opencode"), env, "fake/fake-model")


def copilot_provider(server_url: str, tmp_dir: Path, *, retries: bool = False) -> dict[str, Any]:
    home = _home(tmp_dir, "copilot")
    env = _base_env(home) | {
        "COPILOT_OFFLINE": "true",
        "COPILOT_PROVIDER_BASE_URL": f"{server_url}/v1",
        "COPILOT_PROVIDER_TYPE": "openai",
        "COPILOT_PROVIDER_API_KEY": FAKE_KEY,
        "COPILOT_MODEL": "gpt-4.1",
        # where it unpacks its 235 MB package on first run: shared, not per fake HOME
        "COPILOT_PKG_CACHE_HOME": str(agent_cli_dir() / "copilot-cache"),
    }
    return _config(_binary("copilot"), env, "gpt-4.1")


def cursor_agent_provider(
    server_url: str, tmp_dir: Path, *, scenario: str = "success", write: str | None = None
) -> dict[str, Any]:
    """The scripted fake (cursor-agent is not on npm), behind an executable wrapper."""
    home = _home(tmp_dir, "cursor")
    wrapper = tmp_dir / "cursor-agent"
    wrapper.write_text(
        f"#!{sys.executable}\nfrom ado.testing.fake_cursor_agent import main\n"
        "raise SystemExit(main())\n"
    )
    wrapper.chmod(0o755)
    env = _base_env(home) | {"FAKE_CURSOR_SCENARIO": scenario}
    if write:
        env["FAKE_CURSOR_WRITE"] = write
    return _config(str(wrapper), env, "auto")


PROVIDERS = {
    "claude-code": claude_code_provider,
    "codex": codex_provider,
    "gemini-cli": gemini_cli_provider,
    "opencode": opencode_provider,
    "copilot": copilot_provider,
}


def direct_command(provider: str, config: dict[str, Any], prompt: str) -> list[str]:
    """The non-interactive command line that completes a task with this CLI."""
    binary, model = config["command"], config["defaultOptions"]["model"]
    extra = list(config.get("args") or [])
    if provider == "claude-code":
        return [
            binary, "-p", prompt, "--output-format", "stream-json", "--verbose",
            "--model", model, "--dangerously-skip-permissions", *extra,
        ]  # fmt: skip
    if provider == "codex":
        return [
            binary, "exec", "--json", "--skip-git-repo-check", "-m", model,
            "--dangerously-bypass-approvals-and-sandbox", *extra, prompt,
        ]  # fmt: skip
    if provider == "gemini-cli":
        return [
            binary, "-p", prompt, "--output-format", "stream-json", "--yolo", "--skip-trust",
            "-m", model, *extra,
        ]  # fmt: skip
    if provider == "opencode":
        return [binary, "run", "--format", "json", "--auto", "-m", model, *extra, prompt]
    if provider == "copilot":
        return [
            binary, "-p", prompt, "--output-format", "json", "--allow-all-tools",
            "--allow-all-paths", "--no-auto-update", *extra,
        ]  # fmt: skip
    if provider == "cursor-agent":
        return [binary, "-p", prompt, "--output-format", "stream-json", "--force",
                "--model", model, *extra]  # fmt: skip
    raise KeyError(provider)


def agent_env(config: dict[str, Any]) -> dict[str, str]:
    """The whole environment a test gives the CLI: PATH and locale, plus the config's env."""
    base = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
    env: dict[str, str] = config["env"]
    return base | env
