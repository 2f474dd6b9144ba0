"""USD prices per million tokens, used to account for spend and enforce USD budgets.

Source: LiteLLM's bundled cost map ``model_prices_and_context_window_backup.json``
(litellm 1.80.0, November 2025), which mirrors the providers' public price pages;
providers change prices, so ``price_in_per_mtok`` / ``price_out_per_mtok`` in a model's
config override this table. An unknown model costs 0 and is flagged (``known=False``)
so the caller can warn that the USD budget cannot see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from evolve.config import ModelConfig


@dataclass(frozen=True)
class ModelPrice:
    in_per_mtok: float
    out_per_mtok: float
    known: bool = True

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.in_per_mtok + completion_tokens * self.out_per_mtok) / 1e6


# name -> (USD per 1M prompt tokens, USD per 1M completion tokens)
PRICE_TABLE: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.0-flash": (0.10, 0.40),
    "deepseek-chat": (0.27, 1.10),
    "deepseek-reasoner": (0.55, 2.19),
}

_NAME_BOUNDARY = ("-", ":", "@", ".")


def canonical_name(model: str) -> str:
    """``openai/gpt-4o-2024-08-06`` -> ``gpt-4o-2024-08-06`` (drop provider prefixes)."""
    return model.rsplit("/", 1)[-1].lower()


def lookup_price(model: str) -> ModelPrice | None:
    """Longest table entry that is the model name or a prefix of it ending at a boundary."""
    name = canonical_name(model)
    best: str | None = None
    for key in PRICE_TABLE:
        matches = name == key or (name.startswith(key) and name[len(key)] in _NAME_BOUNDARY)
        if matches and (best is None or len(key) > len(best)):
            best = key
    if best is None:
        return None
    price_in, price_out = PRICE_TABLE[best]
    return ModelPrice(price_in, price_out)


def price_for(model: ModelConfig) -> ModelPrice:
    """Config override first, then the table, then 0 flagged as unknown."""
    table = lookup_price(model.name)
    if model.price_in_per_mtok is not None or model.price_out_per_mtok is not None:
        price_in = model.price_in_per_mtok
        price_out = model.price_out_per_mtok
        return ModelPrice(
            price_in if price_in is not None else (table.in_per_mtok if table else 0.0),
            price_out if price_out is not None else (table.out_per_mtok if table else 0.0),
        )
    if table is not None:
        return table
    return ModelPrice(0.0, 0.0, known=False)
