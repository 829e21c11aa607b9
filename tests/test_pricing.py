from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from ado.config.schema import AccessModeConfig
from ado.pricing import (
    DEFAULT_MODELS,
    TYPICAL_INPUT_TOKENS,
    TYPICAL_OUTPUT_TOKENS,
    actual_cost,
    api_equivalent,
    estimate_task_cost,
    estimate_usage,
    price_provider,
    rates_for,
)
from ado.providers.events import Usage

MILLION = 1_000_000


def mode(kind: str, **api: Any) -> AccessModeConfig:
    return AccessModeConfig.model_validate({"mode": kind, **({"api": api} if api else {})})


def test_known_model_is_priced_from_the_table() -> None:
    rates = rates_for("claude-code", "claude-sonnet-4-5-20250929")
    assert rates.exact
    assert (rates.vendor, rates.model) == ("anthropic", "claude-sonnet-4-5")
    # Anthropic's published Sonnet 4.5 prices (per million): $3 in, $15 out,
    # $0.30 cache read, $3.75 cache write.
    assert (rates.input, rates.output, rates.cache_read, rates.cache_write) == (3, 15, 0.3, 3.75)
    usage = Usage(
        input_tokens=MILLION, output_tokens=MILLION, cache_read_tokens=MILLION,
        cache_write_tokens=MILLION,
    )  # fmt: skip
    assert api_equivalent(usage, "claude-code", "claude-sonnet-4-5") == pytest.approx(22.05)


def test_long_context_tiers_do_not_apply_to_summed_usage() -> None:
    # 3M input tokens summed over a run is many requests, not one long-context request
    usage = Usage(input_tokens=3 * MILLION)
    assert api_equivalent(usage, "claude-code", "claude-sonnet-4-5") == pytest.approx(9.0)


def test_model_from_usage_when_not_given() -> None:
    usage = Usage(output_tokens=MILLION, model="gpt-5")
    assert api_equivalent(usage, "codex") == pytest.approx(rates_for("codex", "gpt-5").output)


@pytest.mark.parametrize(
    ("provider", "model", "vendor"),
    [
        ("claude-code", "sonnet", "anthropic"),
        ("codex", "gpt-5-codex", "openai"),
        ("gemini-cli", "gemini-2.5-flash", "google"),
        ("copilot", "gpt-4.1", "openai"),
        ("copilot", "claude-sonnet-4.5", "anthropic"),
        ("opencode", "anthropic/claude-opus-4-5", "anthropic"),
        ("opencode", "openai/gpt-5", "openai"),
        ("cursor-agent", "gemini-2.5-pro", "google"),
    ],
)
def test_provider_and_model_map_to_a_vendor(provider: str, model: str, vendor: str) -> None:
    rates = rates_for(provider, model)
    assert rates.vendor == vendor
    assert rates.exact
    assert rates.input > 0 and rates.output > rates.input


def test_price_provider() -> None:
    assert price_provider("claude-code", None) == "anthropic"
    assert price_provider("gemini-cli", "") == "google"
    assert price_provider("opencode", "anthropic/claude-sonnet-4-5") == "anthropic"
    assert price_provider("copilot", "grok-code-fast-1") is None  # left to the table to find
    assert price_provider("copilot", None) is None


@pytest.mark.parametrize("provider", sorted(DEFAULT_MODELS))
def test_unknown_model_falls_back_to_the_provider_default(provider: str) -> None:
    rates = rates_for(provider, "some-model-from-the-future")
    assert not rates.exact
    assert rates == rates_for(provider, None)
    assert rates.input > 0


def test_unknown_provider_and_model_still_priced() -> None:
    rates = rates_for("my-agent", "mystery")
    assert not rates.exact and rates.model == "claude-sonnet-4-5"


def test_actual_cost_is_zero_on_subscription_and_free() -> None:
    usage = Usage(input_tokens=MILLION, cost_usd=4.2)
    assert actual_cost(usage, mode("subscription"), 3.0) == 0.0
    assert actual_cost(usage, mode("free"), 3.0) == 0.0


def test_actual_cost_on_api_prefers_the_agents_own_figure() -> None:
    usage = Usage(input_tokens=MILLION, cost_usd=4.2)
    configured = mode("api", costPerMillion={"input": 1, "output": 2})
    assert actual_cost(usage, configured, 3.0) == 4.2


def test_actual_cost_on_api_uses_configured_prices() -> None:
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION, cache_read_tokens=MILLION)
    configured = mode("api", costPerMillion={"input": 1, "output": 2})
    assert actual_cost(usage, configured, 99.0) == pytest.approx(1 + 2 + 1)


def test_actual_cost_on_api_falls_back_to_the_table() -> None:
    assert actual_cost(Usage(input_tokens=10), mode("api"), 3.0) == 3.0


def test_estimate_task_cost() -> None:
    prompt = "x" * 4000  # about 1000 tokens
    usage = estimate_usage(prompt)
    assert usage.input_tokens == 1000 + TYPICAL_INPUT_TOKENS
    assert usage.output_tokens == TYPICAL_OUTPUT_TOKENS
    assert estimate_task_cost(prompt, "claude-code", mode("subscription")) == 0.0
    expected = (51_000 * 3 + TYPICAL_OUTPUT_TOKENS * 15) / MILLION
    assert estimate_task_cost(prompt, "claude-code", mode("api"), "claude-sonnet-4-5") == (
        pytest.approx(expected)
    )
    configured = mode("api", costPerMillion={"input": 1, "output": 1})
    assert estimate_task_cost(prompt, "claude-code", configured) == pytest.approx(
        (51_000 + TYPICAL_OUTPUT_TOKENS) / MILLION
    )


def test_importing_pricing_does_not_load_the_price_table() -> None:
    code = "import sys, ado.pricing; print('genai_prices' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
