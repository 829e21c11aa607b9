"""Finding, reading and validating ``ado.config.yaml``.

Search order: ``--config FILE``, then ``ado.config.yaml`` / ``ado.config.yml`` and
``.ado/config.yaml`` in the working directory, then ``~/.config/ado/config.yaml``, then the
built-in defaults. ``${VAR}`` and ``${VAR:-default}`` expand from the environment.

Every problem becomes a ``ConfigError`` naming the file, the line, the key path, what was
expected and how to fix it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ado.errors import ConfigError
from ado.records import Record

if TYPE_CHECKING:
    from os import PathLike
    from typing import TypeAlias

    #: A path as the loader takes one. The paths it gives are ``str``s, handled with
    #: ``os.path``: ``ado run`` finds and reads its configuration before its agent spawns,
    #: and importing ``pathlib`` costs Python 3.11 ~9 ms there (it loads ``urllib.parse``
    #: and ``ipaddress``; docs/performance.md).
    StrPath: TypeAlias = str | PathLike[str]

__all__ = [
    "LoadedConfig",
    "base_dir",
    "config_search_paths",
    "dotted",
    "find_config_file",
    "load_config",
]

LOCAL_NAMES = ("ado.config.yaml", "ado.config.yml", ".ado/config.yaml")
#: ``${NAME}`` or ``${NAME:-default}`` (compiled at its first use, by ``re``'s cache).
_VAR = r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}"

KeyPath = tuple[str | int, ...]
#: The most values (and levels of nesting) a configuration file may hold, aliases expanded.
MAX_VALUES = 100_000
MAX_DEPTH = 64
#: Keys whose values are not echoed in error messages (webhook URLs carry their token).
_SECRET_NAME = r"(url|secret|password|pass|token|key|connectionString)$"


class _Hidden:
    def __repr__(self) -> str:
        return "this value"


_HIDDEN = _Hidden()


class LoadedConfig(Record):
    """A configuration as loaded: the validated models, and where they came from."""

    __slots__ = ("config", "path", "base_dir", "warnings", "data", "lines", "cache")

    def __init__(
        self,
        config: Any,  # AdoConfig; typed loosely to keep pydantic out of import time
        path: StrPath | None,
        base_dir: StrPath,
        warnings: list[str] | None = None,
        data: dict[str, Any] | None = None,
        lines: dict[KeyPath, int] | None = None,
        cache: Any = None,
    ) -> None:
        self.config = config
        #: The file read, or None when running on the defaults.
        self.path = None if path is None else os.fspath(path)
        #: Relative paths in the config (storage.path, contextFile) resolve against this.
        self.base_dir = os.fspath(base_dir)
        #: One line per key read differently or not acted on (``ado.config.legacy``), each
        #: starting with ``file:line: key:``; the CLI prints them once per command.
        self.warnings: list[str] = [] if warnings is None else warnings
        #: The file's own data (variables expanded) and the line of each key: what it sets.
        self.data: dict[str, Any] = {} if data is None else data
        self.lines: dict[KeyPath, int] = {} if lines is None else lines
        #: Its entry in the cache of validated configurations (``ado.config.cache``), if any.
        self.cache = cache


def user_config_path() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "ado", "config.yaml")


def config_search_paths(cwd: StrPath) -> list[str]:
    return [*(os.path.join(cwd, name) for name in LOCAL_NAMES), user_config_path()]


def find_config_file(explicit: StrPath | None = None, cwd: StrPath | None = None) -> str | None:
    if explicit is not None:
        path = os.path.expanduser(os.fspath(explicit))
        if not os.path.isfile(path):
            raise ConfigError(
                "configuration file not found",
                file=path,
                fix="check the path given to --config (or ADO_CONFIG), or run `ado init`",
            )
        return path
    if env := os.environ.get("ADO_CONFIG"):
        return find_config_file(env, cwd)
    for candidate in config_search_paths(os.getcwd() if cwd is None else cwd):
        if os.path.isfile(candidate):
            return candidate
    return None


def load_config(
    explicit: StrPath | None = None, cwd: StrPath | None = None, *, text: str | None = None
) -> LoadedConfig:
    """Find and validate the configuration; defaults when there is no file. ``text``: the
    file's contents, already read."""
    from ado.config.schema import AdoConfig

    here = os.getcwd() if cwd is None else os.fspath(cwd)
    path = find_config_file(explicit, here)
    if path is None:
        return LoadedConfig(AdoConfig(), None, here)
    warnings: list[str] = []
    data, lines = read_yaml(path, warnings, text=text)
    config = validate(data, lines, path, warnings)
    check_provider_ids(config.providers, lines, path)
    return LoadedConfig(config, path, base_dir(path, here), warnings, data, lines)


def base_dir(path: str, cwd: str) -> str:
    """Where the relative paths of the configuration file ``path`` resolve: its folder (the
    project's for ``.ado/config.yaml``), or ``cwd`` for the user's own file."""
    if os.path.normpath(path) == os.path.normpath(user_config_path()):
        return cwd
    folder = os.path.dirname(os.path.normpath(path)) or "."
    return (os.path.dirname(folder) or ".") if os.path.basename(folder) == ".ado" else folder


def check_provider_ids(
    providers: Mapping[str, Any], lines: Mapping[KeyPath, int], file: str
) -> None:
    """Every key under ``providers:`` must name a registered agent adapter, or say which one
    it runs (``adapter:``, an account of that agent)."""
    import difflib

    from ado.providers import builtin_provider_ids, provider_ids

    adapters = {name: getattr(p, "adapter", None) or name for name, p in providers.items()}
    if set(adapters.values()) <= set(builtin_provider_ids()):
        return  # no need to scan every installed distribution's entry points
    known = sorted(provider_ids())
    for name, adapter in adapters.items():
        if adapter in known:
            continue
        close = difflib.get_close_matches(adapter, known, n=1, cutoff=0.5)
        if adapter != name:
            raise ConfigError(
                f"unknown adapter {adapter!r}",
                file=file,
                line=_line_for(("providers", name, "adapter"), lines),
                key=f"providers.{name}.adapter",
                expected=f"one of {', '.join(known)}",
                fix=f"did you mean {close[0]!r}?" if close else "use one of the ids above",
            )
        raise ConfigError(
            f"unknown provider {name!r}",
            file=file,
            line=_line_for(("providers", name), lines),
            key=f"providers.{name}",
            expected=f"one of {', '.join(known)}, or an id of your own with `adapter:`",
            fix=f"did you mean {close[0]!r}?" if close else "use one of the ids above",
        )


def read_yaml(
    path: str, warnings: list[str] | None = None, *, text: str | None = None
) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """The file as plain data with variables expanded, and the line of every key.

    An unset ``${VAR}`` is an error, except inside a section switched off with
    ``enabled: false`` (such as the original's example API mode): there the key is left
    unset and a line added to ``warnings``.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(
            f"cannot read the file: {reason}",
            file=str(path),
            fix="check that the file exists and is readable (UTF-8 text)",
        ) from exc
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            f"not valid YAML: {exc.problem or exc.context}",
            file=str(path),
            line=mark.line + 1 if mark else None,
            expected="YAML: `key: value` lines, nested keys indented under their section",
            fix="check indentation and quoting around this line",
        ) from exc
    except YAMLError as exc:
        raise ConfigError(
            f"not valid YAML: {exc}",
            file=str(path),
            expected="YAML: `key: value` lines, nested keys indented under their section",
            fix="check the file's indentation and quoting",
        ) from exc
    if doc is None:
        return {}, {}
    if not isinstance(doc, Mapping):
        raise ConfigError(
            "the top level must be a mapping of keys (version, providers, routing...)",
            file=str(path),
            line=1,
            expected='a mapping such as `version: "1.1"` and `providers:`, not '
            + ("a list" if isinstance(doc, list) else "a single value"),
            fix="start the file with top-level keys; `ado init` writes a complete example",
        )
    lines: dict[KeyPath, int] = {}
    data = _plain(
        doc, (), lines, str(path), warnings if warnings is not None else [], budget=[MAX_VALUES]
    )
    assert isinstance(data, dict)
    return data, lines


def _plain(
    node: Any,
    where: KeyPath,
    lines: dict[KeyPath, int],
    file: str,
    warnings: list[str],
    disabled: bool = False,
    budget: list[int] | None = None,
) -> Any:
    """Round-trip YAML nodes to plain Python, expanding ${VAR}, recording key lines.

    Aliases (``*name``) become copies: ``budget`` (one count, shared) bounds how many values
    the copies may add up to, and nesting is bounded too, so a "billion laughs" file (aliases
    of aliases, each repeating the last nine times) is refused at once instead of growing
    to gigabytes."""
    if budget is None:
        budget = [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0 or len(where) > MAX_DEPTH:
        raise ConfigError(
            f"the file expands to more than {MAX_VALUES:,} values or {MAX_DEPTH} levels",
            file=file,
            line=_line_for(where, lines),
            key=dotted(where) or None,
            expected="a configuration of ordinary size",
            fix="YAML aliases (*name) repeated inside each other multiply: write the values out",
        )
    lc = getattr(node, "lc", None)
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        disabled = disabled or node.get("enabled") is False
        for key, value in node.items():
            path = (*where, str(key))
            if lc is not None:
                try:
                    lines[path] = lc.key(key)[0] + 1
                except (KeyError, TypeError):
                    pass
            try:
                out[str(key)] = _plain(value, path, lines, file, warnings, disabled, budget)
            except ConfigError as exc:
                if not exc.message.startswith("environment variable"):
                    raise
                from ado.config.legacy import is_ignored

                if is_ignored(path):
                    continue  # the key itself is warned about as not used
                if not disabled:
                    raise
                where_line = f"{file}:{exc.line}" if exc.line else file
                warnings.append(
                    f"{where_line}: {exc.key}: {exc.message}; left unset, as its section "
                    "is disabled (enabled: false)"
                )
        return out
    if isinstance(node, list):
        items = []
        for i, value in enumerate(node):
            path = (*where, i)
            if lc is not None:
                try:
                    lines[path] = lc.item(i)[0] + 1
                except (KeyError, TypeError, IndexError):
                    pass
            items.append(_plain(value, path, lines, file, warnings, disabled, budget))
        return items
    if isinstance(node, str):
        return expand_vars(str(node), where, lines, file)
    return node


def expand_vars(
    value: str, where: KeyPath = (), lines: Mapping[KeyPath, int] | None = None, file: str = ""
) -> str:
    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable {name} is not set",
            file=file or None,
            line=_line_for(where, lines or {}),
            key=dotted(where) or None,
            expected=f"the environment variable {name} to be set",
            fix=f"export {name}=..., or write ${{{name}:-default}} to give a default",
        )

    return re.sub(_VAR, repl, value) if "${" in value else value


def validate(
    data: dict[str, Any],
    lines: Mapping[KeyPath, int],
    file: str,
    warnings: list[str] | None = None,
) -> Any:
    """The typed configuration; files written for the TypeScript original are first read
    into ADO's shape (``ado.config.legacy``), each difference a line added to ``warnings``."""
    from pydantic import ValidationError

    from ado.config.legacy import normalize
    from ado.config.schema import AdoConfig

    found = normalize(data, lines, file)
    if warnings is not None:
        warnings.extend(found)
    try:
        return AdoConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, data, lines, file) from None


def _config_error(
    exc: Any, data: Mapping[str, Any], lines: Mapping[KeyPath, int], file: str
) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc: KeyPath = tuple(first["loc"])
    kind = first["type"]
    key = dotted(loc)
    given = _lookup(data, loc)
    expected, fix = _explain(first, loc, given)
    message = first["msg"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    elif kind == "missing":
        message = "required key is missing"
    more = len(errors) - 1
    if more:
        fix = f"{fix} ({more} more problem{'s' if more > 1 else ''} after this one)"
    return ConfigError(
        message, file=file, line=_line_for(loc, lines), key=key, expected=expected, fix=fix
    )


def _explain(err: Mapping[str, Any], loc: KeyPath, given: Any) -> tuple[str | None, str]:
    import difflib

    from ado.config import schema

    kind = err["type"]
    ctx = err.get("ctx") or {}
    if isinstance(given, str) and loc and re.search(_SECRET_NAME, str(loc[-1]), re.I):
        given = _HIDDEN  # a URL or a secret: not repeated on the terminal
    if kind == "extra_forbidden":
        known = schema.known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            return (f"one of {', '.join(known)}", f"did you mean {close[0]!r}?")
        return (f"one of {', '.join(known)}", "remove it or check its indentation")
    if kind == "literal_error":
        return (ctx.get("expected"), f"use one of {ctx.get('expected')}")
    if kind == "missing":
        return ("a value", f"add `{loc[-1]}:` here")
    if kind == "value_error":
        text = str(ctx.get("error", err["msg"]))
        return (text, f"replace {given!r} with {text}")
    expected = {
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping of keys",
        "greater_than_equal": f"a number ≥ {ctx.get('ge')}",
        "greater_than": f"a number > {ctx.get('gt')}",
    }.get(kind, err["msg"])
    return (expected, f"replace {given!r} with {expected}")


def _lookup(data: Any, loc: KeyPath) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _line_for(loc: KeyPath, lines: Mapping[KeyPath, int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def dotted(loc: KeyPath) -> str:
    """``('providers', 'codex', 'accessModes', 0)`` → ``providers.codex.accessModes[0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
