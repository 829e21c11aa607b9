"""``ado init``: detect the installed agents, write ado.config.yaml and the context files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ado.cli.context import AppContext, console

#: Routing order for detected agents (lower priority number = tried first).
DEFAULT_ORDER = ("claude-code", "codex", "gemini-cli", "cursor-agent", "copilot", "opencode")


@click.command()
@click.option(
    "-y",
    "--yes",
    "assume_yes",
    is_flag=True,
    help="No questions: enable every installed agent, describe the project from its README.",
)
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing ado.config.yaml.")
@click.option("--description", help="One project description, written to every context file.")
@click.pass_obj
def init(app: AppContext, assume_yes: bool, force: bool, description: str | None) -> None:
    """Detect installed agents and write ado.config.yaml enabling them.

    Each enabled agent's context file (CLAUDE.md, AGENTS.md, GEMINI.md, .cursorrules,
    .github/copilot-instructions.md) is written from one project description when missing,
    so every agent starts with the same context.
    """
    from ado.config.templates import context_file_text, render_config
    from ado.errors import UsageError
    from ado.providers import adapter_classes, detect_all

    root = Path(app.cwd)
    target = root / "ado.config.yaml"
    if target.exists() and not force:
        raise UsageError(f"{target} already exists.", hint="Pass -f to overwrite it.")
    out = console()
    adapters = {pid: cls() for pid, cls in adapter_classes().items()}
    detections = asyncio.run(detect_all())
    ordered = sorted(
        adapters, key=lambda p: (DEFAULT_ORDER.index(p) if p in DEFAULT_ORDER else 99, p)
    )
    out.print("[bold]Agents found on this machine[/]")
    for pid in ordered:
        d = detections[pid]
        if d.installed:
            login = {True: "logged in", False: "not logged in", None: "login unknown"}[d.logged_in]
            out.print(f"  [green]✔[/] {pid:<13} {d.version or '?':<12} {login}  [dim]{d.path}[/]")
        else:
            out.print(f"  [dim]✘ {pid:<13} not installed — {adapters[pid].install_hint}[/]")
    installed = [pid for pid in ordered if detections[pid].installed]
    enabled = installed
    if not assume_yes and installed:
        chosen = click.prompt("Enable which agents", default=",".join(installed))
        enabled = [p.strip() for p in chosen.split(",") if p.strip() in adapters]
    if description is None:
        guess = _describe_from_readme(root) or f"The {root.name} project."
        description = guess if assume_yes else click.prompt("Describe the project", default=guess)
    target.write_text(render_config(root.name, ordered, enabled), encoding="utf-8")
    out.print(f"[green]✔ wrote {target}[/] ({len(enabled)} agent(s) enabled)")
    written = set()
    for pid in enabled:
        rel = adapters[pid].context_file
        path = root / rel
        if rel in written or path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(context_file_text(root.name, description), encoding="utf-8")
        written.add(rel)
        out.print(f"[green]✔ wrote {path}[/]")
    if (root / ".git").exists() and _ignore_state_dir(root):
        out.print("[green]✔ added .ado/ (ADO's state) to .gitignore[/]")
    if not enabled:
        out.print("[yellow]No agent enabled. Install one (see above), then run `ado init -f`.[/]")
    else:
        out.print('Next: [bold]ado run "describe this repository"[/]')


def _ignore_state_dir(root: Path) -> bool:
    """Keep ``.ado/`` (the SQLite store) out of git; True when .gitignore changed."""
    ignore = root / ".gitignore"
    text = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    if any(line.strip() in (".ado", ".ado/", "/.ado", "/.ado/") for line in text.splitlines()):
        return False
    prefix = "" if not text or text.endswith("\n") else "\n"
    ignore.write_text(f"{text}{prefix}.ado/\n", encoding="utf-8")
    return True


def _describe_from_readme(root: Path) -> str | None:
    for name in ("README.md", "README.rst", "README.txt", "README"):
        path = root / name
        if path.is_file():
            paragraphs = path.read_text(encoding="utf-8", errors="replace").split("\n\n")
            for para in paragraphs:
                text = " ".join(line.strip() for line in para.splitlines()).strip()
                if text and not text.startswith(("#", "=", "[!", "<", "!")):
                    return text[:500]
    return None
