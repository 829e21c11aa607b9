"""Files ``ado init`` writes: a commented ado.config.yaml and the agents' context files."""

from __future__ import annotations

import json

__all__ = ["context_file_text", "render_config"]


def render_config(project: str, providers: list[str], enabled: list[str]) -> str:
    lines = [
        "# ADO configuration — reference: docs/configuration.md",
        'version: "1.1"',
        "",
        "project:",
        f"  id: {json.dumps(project)}",
        "",
        "# Agents, tried subscription-first: lower priority numbers go first.",
        "providers:",
    ]
    for rank, pid in enumerate(providers, start=1):
        lines += [
            f"  {pid}:",
            f"    enabled: {'true' if pid in enabled else 'false'}",
            "    accessModes:",
            "      - mode: subscription",
            f"        priority: {rank}",
            "        enabled: true",
        ]
    lines += [
        "",
        "routing:",
        "  strategy: subscription-first    # or round-robin, cost-optimized",
        "  failover:",
        "    enabled: true",
        "    onErrors: [rate_limit, quota_exhausted]",
        "    maxRetries: 3",
        "  apiFallback:",
        "    enabled: false                # true to fall back to API keys (costs money)",
        "    confirmAboveCost: 1.00",
        "    maxCostPerTask: 10.00",
        "    maxDailyCost: 50.00",
        "",
        "hitl:",
        "  defaultPolicy: autonomous       # review-edits, approve-steps, manual",
        "",
        "storage:",
        "  driver: sqlite",
        "  path: .ado/state.db",
        "",
        "orchestration:",
        "  maxParallelAgents: 4",
        "",
    ]
    return "\n".join(lines)


def context_file_text(project: str, description: str) -> str:
    return (
        f"# {project}\n\n"
        f"{description.strip()}\n\n"
        "## Working here\n\n"
        "- Read the README and the existing code before changing anything.\n"
        "- Keep changes small and focused on the task; match the surrounding style.\n"
        "- Run the project's tests after a change and report what you ran.\n"
        "- Never commit secrets; configuration comes from the environment.\n\n"
        "_This file was written by `ado init` so that every agent starts with the same "
        "context; edit it freely._\n"
    )
