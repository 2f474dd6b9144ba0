"""The offline mutation engine as a configured model (``provider: offline``).

Several offline "models" with different temperatures make an ensemble without any
network, e.g. to exercise model selection (``llm.selection: ucb``) or to benchmark it.
The model's ``temperature`` replaces the run's temperature, which sets the engine's
mutation step size.
"""

from __future__ import annotations

import dataclasses
import random

from evolve.config import LLMConfig, ModelConfig
from evolve.llm.base import Completion, GenerationParams
from evolve.llm.offline import OfflineMutationEngine


class OfflineModel:
    def __init__(
        self, model: ModelConfig, llm: LLMConfig, *, where: str = "", rng: random.Random
    ) -> None:
        self.name = model.name
        self.temperature = model.temperature
        self.engine = OfflineMutationEngine(rng.getrandbits(64))

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        if self.temperature is not None:
            params = dataclasses.replace(params, temperature=self.temperature)
        completion = await self.engine.complete(messages, params)
        return dataclasses.replace(completion, model=self.name)
