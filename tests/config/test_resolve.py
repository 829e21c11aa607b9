"""The one resolution: defaults → file → saved settings and switches, and each value's origin;
saving only what differs from the file; resetting; saved secrets encrypted."""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ado.config import load_config
from ado.config.overrides import (
    SETTINGS_KEY,
    SWITCHES_KEY,
    InvalidSettings,
    reset_saved,
    settings_after_patch,
    switches_after_patch,
)
from ado.config.resolve import is_saveable, resolve
from ado.config.secrets import (
    ENCRYPTED,
    MASK,
    SecretBox,
    as_set,
    as_stars,
    key_file_path,
    mask_secrets,
)
from ado.errors import ConfigError
from ado.store import Store

CONFIG = textwrap.dedent("""\
    version: "1.1"
    providers:
      codex:
        enabled: true
        accessModes:
          - mode: subscription
            priority: 2
          - mode: api
            priority: 5
            api:
              apiKey: sk-file-key
        env:
          OPENAI_API_KEY: sk-env-key
    routing:
      strategy: subscription-first
      failover:
        maxRetries: 2
    notifications:
      channels:
        webhook:
          enabled: true
          url: http://127.0.0.1:9/hook
          headers:
            Authorization: Bearer file-token
            X-Team: blue
    """)


@pytest.fixture
def loaded(tmp_path: Path) -> Any:
    path = tmp_path / "ado.config.yaml"
    path.write_text(CONFIG)
    return load_config(path, tmp_path)


@pytest.fixture
def lite(tmp_path: Path) -> Any:
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    yield store
    store.close()


def test_origins_of_each_layer(loaded: Any, lite: Store) -> None:
    lite.set_value(SETTINGS_KEY, {"routing": {"strategy": "round-robin"}})
    lite.set_value(
        SWITCHES_KEY, {"codex": {"enabled": False, "accessModes": {"api": {"priority": 1}}}}
    )
    r = resolve(loaded, lite)
    assert r.config.routing.strategy == "round-robin"
    assert r.config.providers["codex"].enabled is False  # switches applied to config.providers
    assert r.config.providers["codex"].access_modes[1].priority == 1
    assert r.file_config.routing.strategy == "subscription-first"  # the file layer untouched
    origins = r.origins
    assert origins["routing.strategy"] == "saved"
    assert origins["providers.codex.enabled"] == "saved"
    assert origins["providers.codex.accessModes[1].priority"] == "saved"
    assert origins["providers.codex.accessModes[0].priority"] == "file"
    assert origins["providers.codex.accessModes[0].enabled"] == "default"
    assert origins["routing.failover.maxRetries"] == "file"
    assert origins["routing.failover.retryDelay"] == "default"
    assert origins["notifications.channels.webhook.headers.Authorization"] == "file"
    assert r.line_of(("routing", "failover", "maxRetries")) == 17
    # switches for providers or modes the file does not configure are ignored, not an error
    lite.set_value(
        SWITCHES_KEY,
        {"gemini-cli": {"enabled": True}, "codex": {"accessModes": {"free": {"enabled": True}}}},
    )
    assert resolve(loaded, lite).config.providers == loaded.config.providers


def test_the_plain_sql_reader_resolves_the_same(loaded: Any, lite: Store, tmp_path: Path) -> None:
    from ado.store.sqlstore import SqlStore

    lite.set_value(SWITCHES_KEY, {"codex": {"enabled": False}})
    lite.set_value(SETTINGS_KEY, {"hitl": {"defaultPolicy": "manual"}})
    reader = SqlStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        via_reader = resolve(loaded, reader)
    finally:
        reader.close()
    assert via_reader.config == resolve(loaded, lite).config
    assert via_reader.origin("hitl.defaultPolicy") == "saved"


def test_a_patch_saves_only_what_differs_from_the_file(loaded: Any) -> None:
    box = SecretBox()
    file_config = loaded.config
    # the whole form sent back unchanged (as the Settings page does): nothing is saved
    from ado.api.routes.settings import settings_view

    form = settings_view(resolve(loaded, None))
    for key in ("origins", "fileValues"):
        form.pop(key)
    assert settings_after_patch(file_config, {}, form, box) == {}
    # one field changed in that form: only it is saved; the webhook enabled in the file stays
    form["routing"]["strategy"] = "cost-optimized"
    saved = settings_after_patch(file_config, {}, form, box)
    assert saved == {"routing": {"strategy": "cost-optimized"}}
    assert file_config.notifications.channels.webhook.enabled is True
    # a later patch of another field leaves the first one saved
    saved = settings_after_patch(file_config, saved, {"hitl": {"defaultPolicy": "manual"}}, box)
    assert saved == {"routing": {"strategy": "cost-optimized"}, "hitl": {"defaultPolicy": "manual"}}
    # setting a value back to the file's removes it from the saved ones
    saved = settings_after_patch(
        file_config, saved, {"routing": {"strategy": "subscription-first"}}, box
    )
    assert saved == {"hitl": {"defaultPolicy": "manual"}}
    # invalid values and sections are refused, naming the field
    with pytest.raises(InvalidSettings) as bad:
        settings_after_patch(file_config, saved, {"routing": {"strategy": "fastest"}}, box)
    assert bad.value.details[0][0] == "routing.strategy"
    with pytest.raises(InvalidSettings):
        settings_after_patch(file_config, saved, {"providers": {"codex": {"enabled": False}}}, box)


def test_provider_switches_store_only_what_changed(loaded: Any) -> None:
    file_config = loaded.config
    new = switches_after_patch(file_config, {}, "codex", {"enabled": False})
    assert new == {"codex": {"enabled": False}}
    new = switches_after_patch(
        file_config, new, "codex", {"accessModes": [{"mode": "api", "priority": 1}]}
    )
    assert new == {"codex": {"enabled": False, "accessModes": {"api": {"priority": 1}}}}
    # back to the file's values: the switches go away entirely
    new = switches_after_patch(
        file_config,
        new,
        "codex",
        {"enabled": True, "accessModes": [{"mode": "api", "priority": 5}]},
    )
    assert new == {}


def test_reset_a_key_a_section_a_provider_and_all(loaded: Any, lite: Store) -> None:
    file_config = loaded.config
    lite.set_value(
        SETTINGS_KEY,
        {
            "routing": {"strategy": "round-robin", "failover": {"maxRetries": 0}},
            "hitl": {"defaultPolicy": "manual"},
        },
    )
    lite.set_value(
        SWITCHES_KEY, {"codex": {"enabled": False, "accessModes": {"api": {"priority": 1}}}}
    )
    assert reset_saved(lite, file_config, "routing.strategy") == ["routing.strategy"]
    assert resolve(loaded, lite).config.routing.strategy == "subscription-first"
    assert resolve(loaded, lite).config.routing.failover.max_retries == 0
    assert reset_saved(lite, file_config, "routing.strategy") == []  # nothing left there
    assert reset_saved(lite, file_config, "providers.codex.accessModes[1].priority") == [
        "providers.codex.accessModes[1].priority"
    ]
    assert lite.get_value(SWITCHES_KEY) == {"codex": {"enabled": False}}
    assert reset_saved(lite, file_config, "routing") == ["routing"]
    assert lite.get_value(SETTINGS_KEY) == {"hitl": {"defaultPolicy": "manual"}}
    removed = reset_saved(lite, file_config, None)
    assert sorted(removed) == ["hitl.defaultPolicy", "providers.codex"]
    assert lite.get_value(SETTINGS_KEY) is None and lite.get_value(SWITCHES_KEY) is None
    r = resolve(loaded, lite)
    assert r.config == file_config and "saved" not in r.origins.values()
    assert is_saveable(r, "routing.strategy") and is_saveable(r, "providers.codex.enabled")
    assert not is_saveable(r, "storage.path") and not is_saveable(r, "routing.nope")


def test_saved_secrets_are_encrypted_in_the_database(loaded: Any, store: Store) -> None:
    """The row holds no clear secret; the key is a 0600 file outside the database."""
    box = SecretBox()
    patch = {
        "notifications": {
            "channels": {
                "slack": {
                    "enabled": True,
                    "webhookUrl": "https://hooks.slack.com/services/T/B/slack-secret",
                },
                "email": {"password": "smtp-secret-pw"},
                "webhook": {"headers": {"Authorization": "Bearer saved-token", "X-Team": "red"}},
            }
        }
    }
    store.set_value(SETTINGS_KEY, settings_after_patch(loaded.config, {}, patch, box))
    raw = json.dumps(store.get_value(SETTINGS_KEY))
    for secret in ("slack-secret", "smtp-secret-pw", "saved-token"):
        assert secret not in raw
    assert raw.count(ENCRYPTED) == 3 and '"X-Team": "red"' in raw  # not a secret: in clear
    mode = stat.S_IMODE(os.stat(key_file_path()).st_mode)
    assert mode == 0o600
    config = resolve(loaded, store).config
    channels = config.notifications.channels
    assert channels.slack.webhook_url is not None
    assert channels.slack.webhook_url.get_secret_value().endswith("slack-secret")
    assert channels.webhook.headers == {"Authorization": "Bearer saved-token", "X-Team": "red"}
    # showing needs no key: masked
    shown = resolve(loaded, store, decrypt=False).config.notifications.channels
    assert shown.webhook.headers["Authorization"] == MASK


def test_a_lost_key_is_a_clear_error(loaded: Any, lite: Store, tmp_path: Path) -> None:
    saved = settings_after_patch(
        loaded.config,
        {},
        {"notifications": {"channels": {"email": {"password": "pw-1234"}}}},
        SecretBox(),
    )
    lite.set_value(SETTINGS_KEY, saved)
    key_file_path().unlink()  # the key is lost
    with pytest.raises(ConfigError) as lost:
        resolve(loaded, lite)
    text = str(lost.value)
    assert "notifications.channels.email.password" in text
    assert "cannot be decrypted" in text and "ado config reset" in text and "ADO_SECRET_KEY" in text
    # another key: same error; the right one through ADO_SECRET_KEY works
    key_file_path().write_text("x" * 44)
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        resolve(loaded, lite)
    passphrase = "a passphrase long enough"
    lite.set_value(
        SETTINGS_KEY,
        settings_after_patch(
            loaded.config,
            {},
            {"notifications": {"channels": {"email": {"password": "pw-5678"}}}},
            SecretBox(key=passphrase),
        ),
    )
    config = resolve(loaded, lite, decrypt=SecretBox(key=passphrase)).config
    password = config.notifications.channels.email.password
    assert password is not None and password.get_secret_value() == "pw-5678"
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        resolve(loaded, lite, decrypt=SecretBox(key="another passphrase, wrong"))


def test_one_masking_for_the_cli_and_the_api(loaded: Any) -> None:
    data = loaded.config.model_dump(by_alias=True)
    for masked, hidden in ((as_stars, MASK), (as_set, {"set": True})):
        out = mask_secrets(data, masked=masked)
        codex = out["providers"]["codex"]
        assert codex["env"]["OPENAI_API_KEY"] == hidden
        assert codex["accessModes"][1]["api"]["apiKey"] == hidden
        headers = out["notifications"]["channels"]["webhook"]["headers"]
        assert headers == {"Authorization": hidden, "X-Team": "blue"}
        assert out["routing"]["strategy"] == "subscription-first"
    assert mask_secrets({"password": None}, masked=as_set) == {"password": {"set": False}}
    assert mask_secrets({"X-Api-Key": "k", "Cookie": "c", "GH_TOKEN": "t"}, masked=as_stars) == {
        "X-Api-Key": MASK,
        "Cookie": MASK,
        "GH_TOKEN": MASK,
    }
