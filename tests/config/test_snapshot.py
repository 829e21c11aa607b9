"""``ado.config.snapshot``: a validated configuration frozen to JSON and read back.

What ``ado run`` reads from its cache must be the configuration it validated: every field,
extra key and "set" mark the same, whatever the file used (the original's full file uses
every section), and what must not be written (a secret) is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ado.config import load_config
from ado.config.snapshot import Frozen, NotFreezable, as_model, field_names, freeze, thaw

DATA = Path(__file__).parent / "data"


def _frozen_and_back(config: Any) -> Any:
    return thaw(json.loads(json.dumps(freeze(config))))


def _same(frozen: Any, model: Any) -> None:
    """Every field read from ``frozen`` as from ``model``, all the way down."""
    if isinstance(model, BaseModel):
        assert isinstance(frozen, Frozen)
        assert field_names(frozen) == field_names(model)
        assert frozen.model_fields_set == model.model_fields_set
        assert frozen.model_extra == model.model_extra
        for name in field_names(model):
            _same(getattr(frozen, name), getattr(model, name))
    elif isinstance(model, dict):
        assert list(frozen) == list(model)
        for key in model:
            _same(frozen[key], model[key])
    elif isinstance(model, list | tuple):
        assert type(frozen) is type(model) and len(frozen) == len(model)
        for a, b in zip(frozen, model, strict=True):
            _same(a, b)
    else:
        assert type(frozen) is type(model) and frozen == model


def test_the_originals_full_file_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "SLACK_WEBHOOK_URL", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    shutil.copy(DATA / "original-full.yaml", tmp_path / "ado.config.yaml")
    config = load_config(cwd=tmp_path).config
    frozen = _frozen_and_back(config)
    _same(frozen, config)
    assert as_model(frozen) == config  # the real models, rebuilt on demand
    assert frozen == _frozen_and_back(config)
    # a property of a model is asked of the real one
    mode = frozen.providers["copilot"].access_modes[0]
    assert mode.subscription.reset_hour_minute == (
        config.providers["copilot"].access_modes[0].subscription.reset_hour_minute
    )
    assert frozen.model_dump(by_alias=True) == config.model_dump(by_alias=True)


def test_the_defaults_round_trip(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path).config  # no file: every default
    _same(_frozen_and_back(config), config)


@pytest.mark.parametrize(
    "section",
    [
        {"providers": {"claude-code": {"env": {"ANTHROPIC_API_KEY": "sk-ant-1"}}}},
        {"notifications": {"channels": {"webhook": {"url": "http://x/", "secret": "s3"}}}},
        {"storage": {"connectionString": "postgresql://u:p@h/db"}},
    ],
    ids=["secret-env", "secret-str", "connection-string"],
)
def test_a_configuration_with_a_secret_is_not_frozen(tmp_path: Path, section: Any) -> None:
    (tmp_path / "ado.config.yaml").write_text(json.dumps({"version": "1.1", **section}))
    with pytest.raises(NotFreezable):
        freeze(load_config(cwd=tmp_path).config)


@pytest.mark.parametrize(
    "data",
    [
        {"$m": "os:system", "f": {}, "s": [], "x": None},
        {"$m": "ado.errors:AdoError", "f": {}, "s": [], "x": None},
        {"$e": "subprocess:Popen", "v": "ls"},
        {"what": "this is not frozen data"},
    ],
)
def test_data_that_names_other_classes_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        thaw(data)
