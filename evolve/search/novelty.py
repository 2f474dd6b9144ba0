"""Novelty rejection: skip a child that nearly copies a program already on its island.

Evaluations are the expensive part of a run; a child whose code is (almost) the same as
its parent or a recent island member rarely scores differently, so it is rejected
before evaluation and the LLM is asked again (a bounded number of times). The idea is
ShinkaEvolve's novelty rejection sampling.

Similarity comes from one of two places:
- an OpenAI-compatible embeddings endpoint (``search.novelty.embedding.model``): cosine
  similarity of code embeddings, cached per program id;
- otherwise a local estimate: MinHash over token shingles approximates the Jaccard
  similarity of the two programs' shingle sets in O(num_hashes) per comparison.
A near-copy may optionally be sent to an LLM judge, which can still accept it.
``NoveltyHook`` is the search hook; each rejection is a ``novelty_rejected`` event.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from evolve.codebase import evolving_text
from evolve.config import EmbeddingConfig, NoveltyConfig
from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.search.hooks import Candidate, HookServices, SearchHook, Verdict

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PRIME = (1 << 31) - 1  # hash values and coefficients stay below 2**31: products fit in uint64
_MINHASH_SEED = 20240607  # fixed: signatures must be comparable across processes and resumes


def shingle_hashes(code: str, size: int) -> np.ndarray:
    """Distinct hashes of the code's ``size``-token shingles (comments and spacing ignored)."""
    lines = [line.split("#", 1)[0] for line in code.splitlines()]
    tokens = _TOKEN.findall("\n".join(lines))
    if len(tokens) < size:
        tokens = tokens + [""] * (size - len(tokens))
    grams = {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
    values = [
        int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") % _PRIME
        for g in grams
    ]
    return np.unique(np.array(values, dtype=np.uint64))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if a.size == 0 and b.size == 0:
        return 1.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (a.size + b.size - common)


class MinHasher:
    def __init__(self, num_hashes: int, shingle_size: int) -> None:
        rng = np.random.default_rng(_MINHASH_SEED)
        self.a = rng.integers(1, _PRIME, size=num_hashes, dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=num_hashes, dtype=np.uint64)
        self.shingle_size = shingle_size

    def signature(self, code: str) -> np.ndarray:
        hashes = shingle_hashes(code, self.shingle_size)
        if hashes.size == 0:
            return np.full(self.a.shape, _PRIME, dtype=np.uint64)
        signature: np.ndarray = (
            (hashes[:, None] * self.a[None, :] + self.b[None, :]) % _PRIME
        ).min(axis=0)
        return signature

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        """Estimated Jaccard similarity: the fraction of equal signature slots."""
        return float(np.mean(a == b))


class EmbeddingClient:
    """Code embeddings from an OpenAI-compatible ``/embeddings`` endpoint."""

    def __init__(self, cfg: EmbeddingConfig) -> None:
        import openai

        key = os.environ.get(cfg.api_key_env)
        if not key and not cfg.base_url:
            raise UserError(
                f"environment variable {cfg.api_key_env} is not set",
                "search.novelty.embedding.api_key_env",
            )
        self.model = str(cfg.model)
        self.client = openai.AsyncOpenAI(
            base_url=cfg.base_url, api_key=key or "not-needed", timeout=cfg.timeout_s, max_retries=1
        )

    async def embed(self, texts: list[str]) -> list[np.ndarray]:
        response = await self.client.embeddings.create(model=self.model, input=texts)
        ordered = sorted(response.data, key=lambda item: item.index)
        return [np.asarray(item.embedding, dtype=np.float64) for item in ordered]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0


@dataclass
class NoveltyVerdict:
    novel: bool
    similarity: float  # highest similarity to a compared program (0 when nothing to compare)
    nearest_id: str | None
    method: str  # "minhash" | "embedding" | "minhash (embedding failed: ...)"


class _BoundedCache(dict):  # type: ignore[type-arg]
    """A dict that forgets its oldest entries beyond ``limit`` (per-program signatures)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: np.ndarray) -> None:
        self[key] = value
        while len(self) > self.limit:
            del self[next(iter(self))]


class NoveltyFilter:
    """The similarity test of a child against the programs it is compared with."""

    def __init__(
        self, cfg: NoveltyConfig, embedder: EmbeddingClient | None = None, cache_size: int = 2048
    ) -> None:
        self.cfg = cfg
        self.hasher = MinHasher(cfg.num_hashes, cfg.shingle_size)
        self.embedder = embedder
        if embedder is None and cfg.embedding.model:
            self.embedder = EmbeddingClient(cfg.embedding)
        self._signatures = _BoundedCache(cache_size)
        self._embeddings = _BoundedCache(cache_size)
        self.stats = {
            "checked": 0,
            "near_copies": 0,
            "rejected": 0,
            "judge_accepted": 0,
            "discarded": 0,
        }

    def _signature(self, program: ProgramRecord) -> np.ndarray:
        signature = self._signatures.get(program.id)
        if signature is None:
            signature = self.hasher.signature(evolving_text(program.files, program.code))
            self._signatures.put(program.id, signature)
        return signature

    async def check(self, code: str, targets: list[ProgramRecord]) -> NoveltyVerdict:
        """Compare ``code`` with ``targets`` (the island's recent programs and the parent);
        for a folder program ``code`` is its ``evolving_text`` (editable files only)."""
        self.stats["checked"] += 1
        targets = list({t.id: t for t in targets}.values())
        if not targets:
            return NoveltyVerdict(True, 0.0, None, "none")
        method = "minhash"
        similarities: list[float] | None = None
        if self.embedder is not None:
            try:
                similarities = await self._embedding_similarities(code, targets)
                method = "embedding"
            except Exception as exc:  # noqa: BLE001 - any endpoint failure falls back to local similarity
                method = f"minhash (embedding failed: {type(exc).__name__}: {str(exc)[:120]})"
        if similarities is None:
            signature = self.hasher.signature(code)
            similarities = [MinHasher.similarity(signature, self._signature(t)) for t in targets]
        best = max(range(len(targets)), key=similarities.__getitem__)
        similarity = similarities[best]
        novel = similarity < self.cfg.threshold
        if not novel:
            self.stats["near_copies"] += 1
        return NoveltyVerdict(novel, similarity, targets[best].id, method)

    async def _embedding_similarities(self, code: str, targets: list[ProgramRecord]) -> list[float]:
        assert self.embedder is not None
        missing = [t for t in targets if t.id not in self._embeddings]
        texts = [evolving_text(t.files, t.code) for t in missing]
        vectors = await self.embedder.embed([code, *texts])
        known = {t.id: v for t, v in zip(missing, vectors[1:])}
        for program_id, vector in known.items():
            self._embeddings.put(program_id, vector)
        return [
            cosine(vectors[0], known[t.id] if t.id in known else self._embeddings[t.id])
            for t in targets
        ]

    def event(
        self, verdict: NoveltyVerdict, iteration: int, attempt: int, outcome: str
    ) -> dict[str, Any]:
        """The data of a ``novelty_rejected`` event (counters are cumulative for the process)."""
        return {
            "iteration": iteration,
            "attempt": attempt,
            "similarity": round(verdict.similarity, 6),
            "nearest": verdict.nearest_id,
            "method": verdict.method,
            "outcome": outcome,
            "threshold": self.cfg.threshold,
            **{f"total_{k}": v for k, v in self.stats.items()},
        }


JUDGE_TEMPLATE = "novelty_judge.j2"


def parse_judgement(text: str) -> bool:
    """True when the judge's answer says the candidate is novel (first verdict word wins)."""
    match = re.search(r"\b(NOT[ _]NOVEL|NOVEL)\b", text.upper())
    return match is not None and match.group(1) == "NOVEL"


class NoveltyHook(SearchHook):
    """Rejects near-copies before evaluation, with bounded resampling and an optional judge."""

    def __init__(self, services: HookServices, settings: NoveltyConfig) -> None:
        self.services = services
        self.settings = settings
        self.filter = NoveltyFilter(settings)
        self.extra_answers = settings.max_resamples

    async def screen(self, candidate: Candidate) -> Verdict | None:
        if not candidate.edit.ok:
            return None
        population, plan = self.services.population, candidate.plan
        recent = population.islands[plan.island].valid_ids[-self.settings.compare_with :]
        targets = [population.get(i) for i in recent] + [plan.parent]
        edit = candidate.edit
        verdict = await self.filter.check(evolving_text(edit.files, edit.code), targets)
        if verdict.novel:
            return None
        if self.settings.llm_judge and await self._judge(candidate, verdict.nearest_id):
            self.filter.stats["judge_accepted"] += 1
            return None
        self.filter.stats["rejected"] += 1
        last = candidate.answers_left == 0
        if last:
            self.filter.stats["discarded"] += 1
        outcome = "discarded" if last else "resampled"
        self.services.emit("novelty_rejected", self.filter.event(
            verdict, plan.iteration, candidate.answer, outcome))  # fmt: skip
        if last:
            return Verdict("discard")
        return Verdict("retry", "Your change is almost identical to an existing program "
                                f"(similarity {verdict.similarity:.2f}); propose a substantially "
                                "different change.")  # fmt: skip

    async def _judge(self, candidate: Candidate, nearest_id: str | None) -> bool:
        population = self.services.population
        near = population.get(nearest_id) if nearest_id and nearest_id in population else None
        nearest = evolving_text(near.files, near.code) if near is not None else ""
        edit = candidate.edit
        text = self.services.render(JUDGE_TEMPLATE, description=self.services.description,
                                    candidate=evolving_text(edit.files, edit.code),
                                    nearest=nearest,
                                    language="text" if edit.files else "python")  # fmt: skip
        completion = await self.services.ask(text, candidate.plan.iteration)
        return completion is not None and parse_judgement(completion.text)
