"""What an agent sees of ADO's environment, and what to say when it missed a variable.

Agents run with a minimal environment (``base.BASE_ENV`` plus each adapter's own
``env_passthrough``). ``providers.<id>.passEnv`` widens it with names or globs (``*``, ``?``,
``[...]``, as in ``fnmatch``) of variables in ADO's environment.

A glob never passes a secret by accident: it skips every variable whose name looks like a
secret (ending in KEY, TOKEN, SECRET, PASSWORD, PASSWD or CREDENTIAL(S)) other than the
agent's own credential variables (``AgentAdapter.credential_env``), and ADO's own ``ADO_*``
settings. ``passEnv: ["*"]`` on codex therefore never hands it ``ANTHROPIC_API_KEY`` or
``GH_TOKEN``; naming a variable exactly passes it. ``ado providers check`` lists what a glob
held back.

When an agent fails on a variable that ADO has and the agent did not get,
``missing_variable_hint`` says so and gives the line to add.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ado.records import Record

__all__ = ["PassEnv", "is_secret_name", "missing_variable_hint", "select"]

# Patterns compiled at their first use, by ``re``'s cache (not when ``ado run`` loads this).
_SECRET = r"(?i:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$"
#: What a variable's name looks like in an agent's message: upper case with an underscore.
_NAME = r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b"


def _is_glob(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern or "[" in pattern


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a secret (``OPENAI_API_KEY``, ``GH_TOKEN``)."""
    return re.search(_SECRET, name) is not None


class PassEnv(Record):
    """The variables ``passEnv`` hands the agent, and those its globs held back."""

    __slots__ = ("passed", "withheld")

    def __init__(
        self, passed: dict[str, str] | None = None, withheld: list[str] | None = None
    ) -> None:
        self.passed: dict[str, str] = {} if passed is None else passed
        #: Secret-looking or ``ADO_*`` names a glob matched but did not pass.
        self.withheld: list[str] = [] if withheld is None else withheld


def select(patterns: Iterable[str], environ: Mapping[str, str], own: Iterable[str] = ()) -> PassEnv:
    """The variables of ``environ`` that ``patterns`` pass (see the module's rules).

    ``own``: the agent's own credential variables, which globs may pass.
    """
    globs = [p for p in patterns if _is_glob(p)]
    exact = {p for p in patterns if not _is_glob(p)}
    own_names = set(own)
    out = PassEnv()
    for name, value in environ.items():
        if name in exact:
            out.passed[name] = value
        elif globs and _matches(name, globs):
            if name.startswith("ADO_") or (is_secret_name(name) and name not in own_names):
                out.withheld.append(name)
            else:
                out.passed[name] = value
    out.withheld.sort()
    return out


def missing_variable_hint(
    provider: str,
    texts: Iterable[str],
    given: Mapping[str, str],
    environ: Mapping[str, str],
    pass_env: Iterable[str] = (),
) -> str | None:
    """When the agent's failure names variables that ADO has but the agent did not get: the
    sentence that says so and the ``passEnv`` line to add under ``providers.<provider>``."""
    names: list[str] = []
    for text in texts:
        for name in re.findall(_NAME, text or ""):
            if name in environ and name not in given and name not in names:
                names.append(name)
    if not names:
        return None
    listed = [*pass_env, *(n for n in names if n not in pass_env)]
    which = ", ".join(names)
    verb = "is" if len(names) == 1 else "are"
    globbed = [n for n in names if n in select(pass_env, environ).withheld]
    why = (
        f" (passEnv globs never pass secret-looking names like {globbed[0]}: name it exactly)"
        if globbed
        else ""
    )
    return (
        f"{which} {verb} set in ADO's environment, but agents get a minimal one{why}; "
        f"add to ado.config.yaml under providers.{provider}:  passEnv: [{', '.join(listed)}]"
    )


def _matches(name: str, globs: Iterable[str]) -> bool:
    # ``fnmatch`` is loaded only for a passEnv glob: ``ado run`` spawns its agent before
    # anything else needs it (docs/performance.md).
    from fnmatch import fnmatchcase

    return any(fnmatchcase(name, g) for g in globs)
