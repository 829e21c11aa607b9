"""What tokens cost: the API-equivalent price of a run, what was really spent, and estimates.

Prices come from the price table bundled in the ``genai-prices`` package (maintained by the
pydantic team, updated with each release): nothing is fetched from the network. The module is
imported lazily so that ``ado --help`` never pays for loading the table.

Two figures are kept per run:

- **API-equivalent cost**: what the same tokens would have cost on the provider's API. On a
  subscription this is the value the subscription delivered; it is what makes
  subscription-first routing visible.
- **Actual cost**: money really spent. Zero on subscription and free access modes; on API
  modes the agent's own figure when it reports one, else the configured ``costPerMillion``,
  else the price table.

Token fields of :class:`~ado.providers.events.Usage` are disjoint (``input_tokens`` excludes
cached tokens), matching ``Usage.total_tokens``.

An attempt's usage sums many requests, while long-context price tiers apply per request, so
usage is priced at each model's base (short-context) rates.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ado.config.schema import AccessModeConfig
from ado.providers.events import Usage

__all__ = [
    "DEFAULT_MODELS",
    "TYPICAL_INPUT_TOKENS",
    "TYPICAL_OUTPUT_TOKENS",
    "Rates",
    "actual_cost",
    "api_equivalent",
    "estimate_task_cost",
    "estimate_usage",
    "price_provider",
    "rates_for",
]

#: Price-table provider of each ADO provider whose models all come from one vendor.
_VENDOR = {"claude-code": "anthropic", "codex": "openai", "gemini-cli": "google"}

#: The model a provider is priced at when its model is unknown or not in the price table:
#: each CLI's usual default model.
DEFAULT_MODELS = {
    "claude-code": "claude-sonnet-4-5",
    "codex": "gpt-5",
    "gemini-cli": "gemini-2.5-pro",
    "copilot": "claude-sonnet-4-5",
    "cursor-agent": "claude-sonnet-4-5",
    "opencode": "claude-sonnet-4-5",
}
_LAST_RESORT_MODEL = "claude-sonnet-4-5"

#: Model aliases the CLIs accept on ``--model`` that the price table does not know.
_ALIASES = {
    "sonnet": "claude-sonnet-4-5",
    "opus": "claude-opus-4-1",
    "haiku": "claude-haiku-4-5",
}

#: ``estimate_task_cost`` heuristic: an agent resends its system prompt, tool definitions
#: and the files it reads on every turn, so a typical task consumes this many input tokens
#: beyond the prompt itself (about ten turns of ~5k tokens) ...
TYPICAL_INPUT_TOKENS = 50_000
#: ... and writes about this many output tokens (explanations, edits, tool calls).
TYPICAL_OUTPUT_TOKENS = 4_000


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens of one model, from the price table."""

    model: str
    vendor: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    #: False when the requested model was unknown and a provider default was priced instead.
    exact: bool = True

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_tokens * self.cache_read
            + usage.cache_write_tokens * self.cache_write
        ) / 1_000_000


def price_provider(provider: str, model: str | None) -> str | None:
    """The price-table provider for an ADO provider and model, or None to let the table guess.

    Single-vendor CLIs map directly; the multi-vendor ones (copilot, opencode, cursor-agent)
    are read from the model: an explicit ``vendor/model`` prefix, else the model's family.
    """
    name = (model or "").lower()
    if "/" in name:
        prefix = name.split("/", 1)[0]
        if prefix in ("anthropic", "openai", "google"):
            return prefix
    name = name.rsplit("/", 1)[-1]
    if name.startswith("claude") or name in _ALIASES:
        return "anthropic"
    if name.startswith("gemini"):
        return "google"
    if name.startswith(("gpt", "o1", "o3", "o4", "codex")):
        return "openai"
    return _VENDOR.get(provider)


def _clean_model(model: str) -> str:
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _ALIASES.get(name, name)


def _per_million(price: Any, fallback: float) -> float:
    if price is None:
        return fallback
    base = getattr(price, "base", price)  # TieredPrices: the short-context rate
    return float(base) if isinstance(base, Decimal | int | float) else fallback


def warm() -> None:
    """Load the price table now (``import genai_prices``, ~80 ms here), e.g. in a worker
    thread while an agent starts, rather than at the first price asked for."""
    import genai_prices  # noqa: F401


def _lookup(model: str, vendor: str | None) -> Rates | None:
    import genai_prices

    try:
        calc = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=1, output_tokens=1), model, provider_id=vendor
        )
    except LookupError:
        return None
    prices = calc.model_price
    input_rate = _per_million(getattr(prices, "input_mtok", None), 0.0)
    return Rates(
        model=calc.model.id,
        vendor=calc.provider.id,
        input=input_rate,
        output=_per_million(getattr(prices, "output_mtok", None), 0.0),
        cache_read=_per_million(getattr(prices, "cache_read_mtok", None), input_rate),
        cache_write=_per_million(getattr(prices, "cache_write_mtok", None), input_rate),
    )


@lru_cache(maxsize=256)
def rates_for(provider: str, model: str | None = None) -> Rates:
    """Per-million rates for ``model`` run through ``provider``; never fails.

    Falls back to the provider's default model (``DEFAULT_MODELS``) when the model is not
    given or not in the table, with ``exact=False``.
    """
    if model:
        name = _clean_model(model)
        vendor = price_provider(provider, model)
        found = _lookup(name, vendor)
        if found is None and vendor is not None:
            found = _lookup(name, None)
        if found is not None:
            return found
    default = DEFAULT_MODELS.get(provider, _LAST_RESORT_MODEL)
    found = _lookup(default, price_provider(provider, default))
    if found is None:  # the bundled table lost our default: price at the last resort
        found = _lookup(_LAST_RESORT_MODEL, "anthropic")
    assert found is not None, "genai-prices no longer knows claude-sonnet-4-5"
    return dataclasses.replace(found, exact=False)


def api_equivalent(usage: Usage, provider: str, model: str | None = None) -> float:
    """What ``usage`` would cost at API prices (model: ``model``, else ``usage.model``)."""
    return rates_for(provider, model or usage.model).cost(usage)


def actual_cost(usage: Usage, access_mode: AccessModeConfig, api_equivalent: float) -> float:
    """Money really spent on ``usage`` through ``access_mode``.

    Subscription and free modes spend nothing. API modes spend the agent's own figure
    (``usage.cost_usd``) when it reports one, else ``api.costPerMillion`` times tokens when
    configured (cached tokens priced as input: an upper bound), else ``api_equivalent``.
    """
    if access_mode.mode != "api":
        return 0.0
    if usage.cost_usd is not None:
        return usage.cost_usd
    per_million = access_mode.api.cost_per_million if access_mode.api else None
    if per_million is not None:
        inputs = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        return (inputs * per_million.input + usage.output_tokens * per_million.output) / 1e6
    return api_equivalent


def estimate_usage(prompt: str) -> Usage:
    """The tokens a typical task with ``prompt`` consumes (see ``TYPICAL_*_TOKENS``).

    A rough heuristic, not a forecast: about four characters per token for the prompt, plus
    the typical per-task input and output allowances.
    """
    return Usage(
        input_tokens=math.ceil(len(prompt) / 4) + TYPICAL_INPUT_TOKENS,
        output_tokens=TYPICAL_OUTPUT_TOKENS,
    )


def estimate_task_cost(
    prompt: str, provider: str, access_mode: AccessModeConfig, model: str | None = None
) -> float:
    """Expected spend of a task before it runs, for the cost checks: 0 unless an API mode."""
    if access_mode.mode != "api":
        return 0.0
    usage = estimate_usage(prompt)
    return actual_cost(usage, access_mode, rates_for(provider, model).cost(usage))
