"""Test doubles that ship with ADO: a scripted model server and a fake cursor-agent."""

from ado.testing.behaviours import (
    USAGE,
    Behaviour,
    Hang,
    QuotaExceeded,
    RateLimit,
    ServerError,
    Text,
    Usage,
    WriteFile,
    WriteThenLimit,
)
from ado.testing.model_server import RecordedRequest, ScriptedModelServer

__all__ = [
    "USAGE",
    "Behaviour",
    "Hang",
    "QuotaExceeded",
    "RateLimit",
    "RecordedRequest",
    "ScriptedModelServer",
    "ServerError",
    "Text",
    "Usage",
    "WriteFile",
    "WriteThenLimit",
]
