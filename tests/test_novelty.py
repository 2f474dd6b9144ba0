"""Novelty rejection: local MinHash similarity, embeddings, the LLM judge, bounded resampling."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support_fake_openai import FakeOpenAIServer, Reply
from support_search import (
    FAKE_LLM,
    VECTOR_PROGRAM,
    fake_models,
    run_problem,
    set_value_edit,
    user_prompt,
    vector_problem,
)

from evolve.config import NoveltyConfig, load_config
from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.search.novelty import MinHasher, NoveltyFilter, jaccard, parse_judgement, shingle_hashes

REPO = Path(__file__).resolve().parent.parent
CIRCLES = (REPO / "problems" / "circle_packing" / "initial_program.py").read_text()


def test_minhash_estimates_jaccard_of_token_shingles() -> None:
    hasher = MinHasher(num_hashes=256, shingle_size=3)
    tweaked = CIRCLES.replace("inner_radius = 0.3", "inner_radius = 0.31")
    other = VECTOR_PROGRAM
    for a, b in ((CIRCLES, tweaked), (CIRCLES, other)):
        exact = jaccard(shingle_hashes(a, 3), shingle_hashes(b, 3))
        estimate = MinHasher.similarity(hasher.signature(a), hasher.signature(b))
        assert abs(exact - estimate) < 0.1
    assert MinHasher.similarity(hasher.signature(CIRCLES), hasher.signature(CIRCLES)) == 1.0
    assert MinHasher.similarity(hasher.signature(CIRCLES), hasher.signature(tweaked)) > 0.9
    assert MinHasher.similarity(hasher.signature(CIRCLES), hasher.signature(other)) < 0.2
    # comments and spacing do not make code novel
    assert jaccard(shingle_hashes(CIRCLES, 3), shingle_hashes(CIRCLES.replace("\n", "  # note\n"), 3)) == 1.0


def test_filter_flags_near_copies_and_names_the_nearest() -> None:
    flt = NoveltyFilter(NoveltyConfig(enabled=True, threshold=0.9))
    known = [ProgramRecord(id="circles", run_id="r", code=CIRCLES), ProgramRecord(id="vec", run_id="r", code=VECTOR_PROGRAM)]
    near = asyncio.run(flt.check(CIRCLES.replace("margin = 0.01", "margin = 0.02"), known))
    assert not near.novel and near.nearest_id == "circles" and near.method == "minhash"
    far = asyncio.run(flt.check("def values():\n    return sorted(range(10), key=lambda i: -i)\n", known))
    assert far.novel and far.similarity < 0.5
    assert flt.stats["checked"] == 2 and flt.stats["near_copies"] == 1


def test_judge_answers_are_parsed() -> None:
    assert parse_judgement("NOVEL: it uses a new algorithm")
    assert not parse_judgement("NOT NOVEL - only a constant changed")
    assert not parse_judgement("not novel")
    assert not parse_judgement("I cannot tell")


def test_config_checks() -> None:
    with pytest.raises(UserError, match="llm_judge"):
        load_config({"search": {"novelty": {"enabled": True, "llm_judge": True}}})
    with pytest.raises(UserError, match=r"\(0, 1\]"):
        load_config({"search": {"novelty": {"threshold": 1.5}}})


def _counts(run: Any) -> tuple[Any, list[ProgramRecord], list[Any]]:
    counters = run.store.counters(run.run_id)
    programs = list(run.store.programs(run.run_id))
    return counters, programs, run.store.llm_calls(run.run_id)


def test_offline_loop_rejects_near_copies_without_double_counting(tmp_path: Path) -> None:
    overrides = ["budget.iterations=30", "evaluation.workers=1", "llm.concurrency=1", "database.num_islands=1",
                 "search.novelty.enabled=true", "search.novelty.threshold=0.9", "search.novelty.max_resamples=1"]
    run, _ = run_problem(REPO / "problems" / "circle_packing", tmp_path, overrides)
    counters, programs, calls = _counts(run)
    events = run.store.events(run.run_id, "novelty_rejected")
    assert events, "small offline mutations of the circle program are near-copies at 0.9"
    assert {e.data["outcome"] for e in events} <= {"resampled", "discarded"}
    discarded = [e for e in events if e.data["outcome"] == "discarded"]
    children = [p for p in programs if p.origin == "llm"]
    # Every iteration is counted once; a discarded one stores no program and costs no evaluation.
    assert counters.iterations == 30
    assert len(children) == 30 - len(discarded)
    assert counters.evaluations == len(children) + 1
    # Every LLM answer is stored and counted exactly once, resampled ones included.
    assert counters.llm_calls == len(calls) == 30 + sum(e.data["outcome"] == "resampled" for e in events)
    assert events[-1].data["total_rejected"] == len(events)
    # no evaluated child is a near-copy of its parent by the same measure
    hasher = MinHasher(64, 3)
    by_id = {p.id: p for p in programs}
    for child in children:
        parent = by_id[child.parent_id]
        assert MinHasher.similarity(hasher.signature(child.code), hasher.signature(parent.code)) < 0.9


def test_embeddings_endpoint_and_llm_judge_through_the_loop(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    judged: list[str] = []
    answers: list[str] = []

    def respond(body: dict[str, Any]) -> Reply:
        prompt = user_prompt(body)
        if "Answer with NOVEL" in prompt:
            judged.append(prompt)
            return Reply.ok("NOVEL" if len(judged) % 2 else "NOT NOVEL, only a constant moved")
        answers.append(prompt)  # one number changes per answer: a near-copy by embedding similarity
        return Reply.ok(set_value_edit(body, "a", round(0.5 + 0.01 * len(answers), 2)))

    with FakeOpenAIServer() as server:
        server.set_responder("small", respond)
        overrides = FAKE_LLM + [fake_models(server), "budget.iterations=8", "database.num_islands=1",
                                "search.novelty.enabled=true", "search.novelty.threshold=0.95",
                                "search.novelty.max_resamples=1", "search.novelty.llm_judge=true",
                                "search.novelty.embedding.model=embed-small",
                                f"search.novelty.embedding.base_url={server.base_url}"]
        run, _ = run_problem(folder, tmp_path, overrides)
        embedding_requests = [r for r in server.requests if r["path"].endswith("/embeddings")]
    assert embedding_requests and embedding_requests[0]["body"]["model"] == "embed-small"
    assert judged, "near-copies went to the judge"
    events = run.store.events(run.run_id, "novelty_rejected")
    assert events and all(e.data["method"] == "embedding" for e in events)
    counters, _, calls = _counts(run)
    judge_calls = len(judged)
    assert counters.llm_calls == len(calls)
    assert counters.iterations == 8
    edit_calls = len(calls) - judge_calls
    assert edit_calls == len(answers) == 8 + sum(e.data["outcome"] == "resampled" for e in events)
    assert events[-1].data["total_judge_accepted"] >= 1
