"""Command-line values checked before anything runs: a typo is a usage error (exit 2) that
suggests the closest valid value, and nothing is recorded.

``SuggestingChoice`` is ``click.Choice`` with a "did you mean"; ``check_providers`` checks
provider ids named on the command line against the configured and registered agents (it
loads the configuration, so it runs in the command, not at option-parsing time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ado.cli.context import AppContext

__all__ = ["SuggestingChoice", "check_providers", "did_you_mean"]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` did you mean 'x'?`` for the closest of ``choices``, or ``""``."""
    import difflib

    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.5)
    return f" did you mean {close[0]!r}?" if close else ""


class SuggestingChoice(click.Choice):  # type: ignore[type-arg]
    """A ``click.Choice`` whose refusal names the closest choice."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        choices = [str(c) for c in self.choices]
        hint = did_you_mean(str(value), choices)
        return f"{value!r} is not one of {', '.join(choices)}.{hint}"


def check_providers(
    app: AppContext, named: Iterable[tuple[str, str | None]], *, configured_only: bool = True
) -> None:
    """Refuse (exit 2) a provider id that no configured agent has.

    ``named``: (option as the user wrote it, value) pairs; empty values are skipped.
    ``configured_only=False`` (history: reports, task lists) accepts any registered agent.
    """
    from ado.providers import provider_ids

    configured = list(app.loaded.config.providers)
    for option, value in named:
        if not value or value in configured:
            continue
        registered = list(provider_ids())  # every distribution's entry points: only now
        if not configured_only and value in registered:
            continue
        if value in registered:
            message = (
                f"{value!r} is not configured in "
                f"{app.loaded.path or 'the configuration'}; add providers.{value} "
                f"(`ado init` detects installed agents). Configured: "
                f"{', '.join(configured) or 'none'}."
            )
        else:
            hint = did_you_mean(value, [*configured, *registered])
            message = (
                f"unknown provider {value!r}.{hint} Configured: {', '.join(configured) or 'none'}."
            )
        raise click.BadParameter(message, param_hint=f"'{option}'")
