"""``ado run``'s checks before anything is recorded: a missing configuration file and
provider ids that name no configured agent are usage errors (exit 2), with the fix, and no
task row is written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ado.cli.choices import check_providers

if TYPE_CHECKING:
    from ado.cli.context import AppContext

__all__ = ["check_run"]


def check_run(
    app: AppContext, provider: str | None, providers: list[str], exclude: list[str]
) -> None:
    """Refuse a run that cannot be what the user meant, before the store is opened."""
    if app.loaded.path is None:
        raise _no_config(app)
    check_providers(
        app,
        [
            ("-p/--provider", provider),
            *(("--providers", name) for name in providers),
            *(("--exclude", name) for name in exclude),
        ],
    )


def _no_config(app: AppContext) -> Exception:
    import shutil

    from ado.config.loader import config_search_paths
    from ado.errors import UsageError
    from ado.providers import adapter_classes

    found = [cls.executable for cls in adapter_classes().values() if shutil.which(cls.executable)]
    searched = ", ".join(str(p) for p in config_search_paths(app.cwd))
    if found:
        hint = (
            f"It finds {', '.join(found)} on PATH and writes a configuration enabling "
            f"{'it' if len(found) == 1 else 'them'}. (Searched: {searched}.)"
        )
        return UsageError("no ado.config.yaml here — run `ado init`", hint=hint)
    installs = "; ".join(cls.install_hint for cls in list(adapter_classes().values())[:3])
    return UsageError(
        "no ado.config.yaml here, and no agent CLI on PATH — install one, then run `ado init`",
        hint=f"For example: {installs}. (Searched: {searched}.)",
    )
