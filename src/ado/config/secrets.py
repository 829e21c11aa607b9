"""Secrets in the configuration: recognising, masking and encrypting them.

A value is a secret when it is a ``SecretStr`` (``apiKey``, ``connectionString``, the Slack
webhook URL, SMTP password, webhook secret) or when its name looks secret
(``ANTHROPIC_API_KEY`` in a provider's ``env``, an ``Authorization`` header, ``smtpPassword``
in a free-form section). ``mask_secrets`` is the one masking walk: ``ado config show`` masks
with ``**********``, the API with ``{"set": true|false}``.

Secrets saved through ``PATCH /api/settings`` are stored encrypted (Fernet, from the
``cryptography`` library) as ``{"$encrypted": "<token>"}``. The key lives outside the database:
``ADO_SECRET_KEY`` (a Fernet key, or any passphrase of 16+ characters), else the file
``~/.config/ado/secret.key`` (``$XDG_CONFIG_HOME/ado/secret.key``), created with mode 0600 the
first time a secret is saved. A secret that cannot be decrypted (the key lost or changed) is a
``ConfigError`` naming the setting and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ado.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.fernet import Fernet

__all__ = [
    "ENCRYPTED",
    "MASK",
    "SECRET_KEY_ENV",
    "SecretBox",
    "as_set",
    "as_stars",
    "is_encrypted",
    "is_secret_name",
    "key_file_path",
    "mask_secrets",
]

MASK = "**********"
ENCRYPTED = "$encrypted"
SECRET_KEY_ENV = "ADO_SECRET_KEY"

#: Names whose plain-string values are secrets wherever they appear: ``ANTHROPIC_API_KEY``,
#: ``GH_TOKEN``, ``smtpPassword``, ``Authorization``, ``X-Api-Key``, ``Cookie``...
#: (A pattern compiled at its first use, by ``re``'s cache: not when ``ado run`` loads this.)
_SECRET_NAME = (
    r"(key|token|secret|password|passwd|pwd|credentials?|authorization|auth|cookie|"
    r"webhook[-_]?url|dsn)$"
)


def is_secret_name(name: str) -> bool:
    return bool(name) and re.search(_SECRET_NAME, name, re.IGNORECASE) is not None


def is_encrypted(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {ENCRYPTED}


def as_set(value: Any) -> Any:
    """The API's mask: whether the secret is set."""
    return {"set": bool(value)}


def as_stars(value: Any) -> Any:
    """``ado config show``'s mask: unset stays visible as unset."""
    return MASK if value else value


def mask_secrets(value: Any, key: str = "", masked: Callable[[Any], Any] = as_set) -> Any:
    """``value`` (plain data, ``SecretStr`` allowed anywhere) with every secret replaced by
    ``masked(secret)``: ``SecretStr`` values, encrypted values, and strings under a
    secret-looking name."""
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        return masked(value.get_secret_value())
    if is_encrypted(value):
        return masked(True)
    if isinstance(value, Mapping):
        return {k: mask_secrets(v, str(k), masked) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v, key, masked) for v in value]
    if is_secret_name(key) and (value is None or isinstance(value, str)):
        return masked(value)
    return value


def reveal(value: Any) -> Any:
    """Plain data with every ``SecretStr`` replaced by its value (for comparing and saving)."""
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(v) for v in value]
    return value


def key_file_path() -> Path:
    from pathlib import Path  # not before `ado run`'s agent spawns (ado.config.loader)

    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ado" / "secret.key"


class SecretBox:
    """Encrypts and decrypts saved secrets with the key from ``ADO_SECRET_KEY`` or the key
    file; the key file is created (0600) only when something is encrypted."""

    def __init__(self, key: str | None = None, path: Path | None = None) -> None:
        self._key = key if key is not None else os.environ.get(SECRET_KEY_ENV)
        self._path = path or key_file_path()
        self._fernet: Fernet | None = None

    @property
    def source(self) -> str:
        return f"${SECRET_KEY_ENV}" if self._key else str(self._path)

    def encrypt(self, plain: str) -> dict[str, str]:
        try:
            fernet = self._get(create=True)
        except (ValueError, OSError) as exc:
            raise ConfigError(
                f"cannot encrypt a secret to save it: {exc}",
                key=SECRET_KEY_ENV,
                fix=f"set {SECRET_KEY_ENV} to a Fernet key (or a passphrase of 16+ "
                f"characters), or make {self._path.parent} writable",
            ) from None
        token = fernet.encrypt(plain.encode("utf-8"))
        return {ENCRYPTED: token.decode("ascii")}

    def decrypt(self, value: Mapping[str, Any], where: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            fernet = self._get(create=False)
            return fernet.decrypt(str(value[ENCRYPTED]).encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError) as exc:
            raise self._undecryptable(where, exc) from None

    def encrypt_tree(self, data: Any, secret_at: Callable[[tuple[str | int, ...]], bool]) -> Any:
        """``data`` with each plain string ``secret_at`` its path encrypted."""

        def walk(value: Any, path: tuple[str | int, ...]) -> Any:
            if is_encrypted(value):
                return value
            if isinstance(value, Mapping):
                return {k: walk(v, (*path, str(k))) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, (*path, i)) for i, v in enumerate(value)]
            if isinstance(value, str) and value and secret_at(path):
                return self.encrypt(value)
            return value

        return walk(data, ())

    def _get(self, *, create: bool) -> Fernet:
        if self._fernet is None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(self._load_key(create))
        return self._fernet

    def _load_key(self, create: bool) -> bytes:
        if self._key:
            return _fernet_key(self._key)
        path = self._path
        if path.is_file():
            return path.read_bytes().strip()
        if not create:
            raise ValueError(f"no key: neither ${SECRET_KEY_ENV} is set nor {path} exists")
        from cryptography.fernet import Fernet

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
        return key

    def _undecryptable(self, where: str, exc: Exception) -> ConfigError:
        reason = str(exc) if isinstance(exc, ValueError) and str(exc) else "the key does not match"
        return ConfigError(
            f"a secret saved through the API cannot be decrypted ({reason}; key: {self.source})",
            file="settings saved through the API",
            key=where,
            fix=f"set {SECRET_KEY_ENV} (or restore {key_file_path()}) to the key it was saved "
            f"with, or remove it with `ado config reset {where}` and save it again",
        )


def _fernet_key(text: str) -> bytes:
    """A Fernet key as given, or one derived from a passphrase."""
    import base64  # not at import: ``ado run`` loads this module before its agent's spawn
    import hashlib

    raw = text.strip().encode("utf-8")
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    if len(raw) < 16:
        raise ValueError(f"${SECRET_KEY_ENV} is too short (a Fernet key or 16+ characters)")
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())
