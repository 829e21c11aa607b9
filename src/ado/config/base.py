"""The base of every model in ``ado.config.yaml``: camelCase keys, unknown keys refused; and
the bounded kinds of value the configuration shares with the task options (``ado.options``)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ado.options import PRIORITY, TURNS, USD

__all__ = ["ConfigModel", "Priority", "Turns", "Usd"]

Turns = Annotated[int, Field(**TURNS)]
Priority = Annotated[int, Field(**PRIORITY)]
Usd = Annotated[float, Field(**USD)]


class ConfigModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_default=True
    )
