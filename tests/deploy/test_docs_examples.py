"""The YAML examples of docs/deployment.md and docs/installation.md: each one is marked with
what it is (``<!-- checked: KIND -->`` on the line before) and checked as such: Helm values
are rendered by the chart and the objects validated; an ``ado.config.yaml`` is validated by
ADO's own configuration model. An unmarked YAML block fails, so none goes unchecked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.deploy.test_helm import assert_valid_kubernetes, render
from tests.deploy.tools import ROOT

DOCS = ("docs/deployment.md", "docs/installation.md")
BLOCK = re.compile(r"(?:<!-- checked: ([a-z-]+) -->\n)?```yaml\n(.*?)```", re.S)


def examples() -> list[tuple[str, str | None, str]]:
    found = []
    for doc in DOCS:
        for match in BLOCK.finditer((ROOT / doc).read_text()):
            found.append((doc, match.group(1), match.group(2)))
    return found


def test_the_docs_have_yaml_examples_and_each_is_marked() -> None:
    found = examples()
    assert {kind for _, kind, _ in found} == {"helm-values", "ado-config"}
    unmarked = [text[:60] for _, kind, text in found if kind is None]
    assert unmarked == []


@pytest.mark.parametrize(
    ("doc", "kind", "text"),
    [example for example in examples() if example[1] is not None],
    ids=lambda value: value if value in ("helm-values", "ado-config") else "",
)
def test_each_yaml_example_is_valid(doc: str, kind: str, text: str) -> None:
    data: dict[str, Any] = YAML(typ="safe").load(text)
    if kind == "helm-values":
        assert_valid_kubernetes(render(data))
    else:
        from ado.config.schema import AdoConfig

        AdoConfig.model_validate(data)
