"""ADO, the Agentic Development Orchestrator."""

__version__ = "0.1.0"
