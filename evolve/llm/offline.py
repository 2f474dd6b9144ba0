"""The offline mutation engine: an LLMBackend that needs no model and no network.

What it does: it reads the structured prompt (``GenerationParams.context``: parent
code, inspirations, edit mode) and answers with text in exactly the format a real
LLM is asked for (SEARCH/REPLACE blocks, or a fenced full program), so the whole
pipeline (parsing, application, static gate, evaluation, storage) runs on it. Its
edits stay inside EVOLVE-BLOCKs, keep Python programs parseable, and are seeded:
the same seed and the same sequence of calls give the same answers.

Its operators: numeric constant perturbation (ints stay ints; floats move by a
small, temperature-scaled factor), operator swaps (< <=, > >=, + -, * /, min max,
augmented assignments), statement swap / repeat / guarded delete (never a return,
def or class, never a statement whose names nothing else binds), and crossover
with inspiration programs (same-named function swap, statement insertion from the
inspiration's same-named function, whole-block swap).

What it cannot do: it does not understand the problem, read the description,
feedback or hints, or invent algorithms. It tunes constants and recombines code
that already exists in the population; real gains beyond that need a real model.
For non-Python programs it only perturbs numbers, swaps operators and swaps whole
EVOLVE-BLOCK bodies with an inspiration, unchecked. A folder program gets an edit of one
of its editable files per answer (sometimes two), each file in its own language and
crossed only with the inspirations' version of the same file.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from evolve.codebase import editable_paths
from evolve.edits import apply_response, count_changed_lines, evolve_blocks
from evolve.file_edits import apply_files_response
from evolve.llm.base import Completion, EditRequest, GenerationParams, LLMError
from evolve.llm.crossover import insert_statement, swap_block, swap_function
from evolve.llm.diff_format import (
    rewrite_response,
    search_replace_response,
    whole_body_response,
)
from evolve.llm.mutations import (
    Mutation,
    Source,
    delete_statement,
    duplicate_statement,
    perturb_constant,
    swap_operator,
    swap_statements,
)

MAX_ATTEMPTS = 32
Operator = Callable[[Source, random.Random], "Mutation | None"]


def _parses(code: str, language: str) -> bool:
    if language != "python":
        return True
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True, flags=0x400)  # ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError):
        return False
    return True


class OfflineMutationEngine:
    """Seeded, Python-aware mutation and crossover behind the LLMBackend protocol."""

    name = "offline"

    def __init__(self, seed: int, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._rng = random.Random(seed)
        self.max_attempts = max_attempts

    def _operators(
        self, inspirations: list[tuple[str, str]], temperature: float
    ) -> list[tuple[float, Operator]]:
        scale = 0.3 * max(temperature, 0.05)
        ops: list[tuple[float, Operator]] = [
            (0.40, lambda s, r: perturb_constant(s, r, scale)),
            (0.17, swap_operator),
            (0.08, swap_statements),
            (0.06, duplicate_statement),
            (0.06, delete_statement),
        ]
        if inspirations:
            ops += [
                (0.14, lambda s, r: swap_function(s, inspirations, r)),
                (0.06, lambda s, r: insert_statement(s, inspirations, r)),
                (0.03, lambda s, r: swap_block(s, inspirations, r)),
            ]
        return ops

    def mutate(
        self,
        parent: str,
        inspirations: list[tuple[str, str]],
        rng: random.Random,
        temperature: float = 0.7,
        language: str = "python",
        max_changed_lines: int | None = None,
    ) -> tuple[str, list[str]]:
        """A changed program (1-3 stacked mutations) and what was done; LLMError if none."""
        operators = self._operators(inspirations, temperature)
        weights = [w for w, _ in operators]
        rounds = rng.choices((1, 2, 3), weights=(0.65, 0.25, 0.10))[0]
        code, notes = parent, list[str]()
        for _ in range(self.max_attempts):
            if len(notes) >= rounds:
                break
            operator = rng.choices([op for _, op in operators], weights=weights)[0]
            mutation = operator(Source(code, language), rng)
            if (
                mutation is None
                or mutation.code in (code, parent)
                or not _parses(mutation.code, language)
            ):
                continue
            if (
                max_changed_lines is not None
                and count_changed_lines(parent, mutation.code) > max_changed_lines
            ):
                continue
            code = mutation.code
            notes.append(mutation.description)
        if not notes or code == parent:
            raise LLMError(
                "empty", f"no mutation changed the program in {self.max_attempts} attempts"
            )
        return code, notes

    def respond(
        self,
        parent: str,
        child: str,
        notes: list[str],
        mode: str,
        rng: random.Random,
        language: str,
    ) -> str:
        """Text in the requested edit format that turns ``parent`` into ``child``."""
        summary = "Proposed change: " + "; ".join(notes) + "."
        if mode == "rewrite":
            body_only = len(evolve_blocks(parent)) == 1 and rng.random() < 0.3
            return rewrite_response(parent, child, summary, language, body_only)
        for render in (search_replace_response, whole_body_response):
            response = render(parent, child, summary)
            if response is not None and apply_response(parent, response, "diff").code == child:
                return response
        raise LLMError("empty", "could not express the mutation as SEARCH/REPLACE blocks")

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        started = time.perf_counter()
        ctx = params.context
        if ctx is None:
            raise LLMError("bad_request", "the offline engine needs GenerationParams.context")
        # One draw per call from the engine's stream: reproducible for a fixed call order.
        rng = random.Random(self._rng.getrandbits(64))
        if ctx.files:
            return Completion(
                text=self._folder_answer(ctx, rng, params.temperature), model=self.name,
                prompt_tokens=0, completion_tokens=0, cost_usd=0.0,
                latency_s=time.perf_counter() - started, finish_reason="stop",
            )  # fmt: skip
        parent = ctx.parent_code
        try:
            evolve_blocks(parent)
        except ValueError as exc:
            raise LLMError("bad_request", f"parent program: {exc}") from None
        inspirations = [(pid, code) for pid, code in ctx.inspirations if code != parent]
        for _ in range(4):
            child, notes = self.mutate(
                parent, inspirations, rng, params.temperature, ctx.language, ctx.max_changed_lines
            )
            try:
                text = self.respond(parent, child, notes, ctx.mode, rng, ctx.language)
            except LLMError:
                continue
            # Self-check through the real edit parser: what we say must be what we meant.
            applied = apply_response(parent, text, ctx.mode)
            if applied.ok and applied.code == child:
                return Completion(
                    text=text,
                    model=self.name,
                    prompt_tokens=0,  # no model read or wrote anything: no usage to report
                    completion_tokens=0,
                    cost_usd=0.0,
                    latency_s=time.perf_counter() - started,
                    finish_reason="stop",
                )
        raise LLMError("empty", "no mutation could be expressed as an edit of the parent")

    def _folder_answer(self, ctx: EditRequest, rng: random.Random, temperature: float) -> str:
        """An answer changing one editable file of a folder program (sometimes two), each
        in its own language, with donors from the inspirations' same file; checked
        through the real multi-file edit parser."""
        files, editable = ctx.files, editable_paths(ctx.files)
        if not editable:
            raise LLMError("bad_request", "the folder program has no EVOLVE-BLOCK")
        for _ in range(4):
            count = 2 if len(editable) > 1 and rng.random() < 0.25 else 1
            limit = ctx.max_changed_lines
            limit = None if limit is None else max(1, limit // count)
            child, parts = dict(files), []
            for path in sorted(rng.sample(editable, count)):
                language = ctx.file_languages.get(path, "text")
                donors = [(pid, other[path]) for pid, other in ctx.inspiration_files
                          if other.get(path, files[path]) != files[path]]
                try:
                    text, notes = self.mutate(
                        files[path], donors, rng, temperature, language, limit)
                    reply = self.respond(files[path], text, notes, ctx.mode, rng, language)
                except LLMError:
                    continue
                child[path] = text
                parts.append(f"{path}\n{reply}")
            answer = "\n".join(parts)
            applied = apply_files_response(files, answer, ctx.mode) if parts else None
            if applied is not None and applied.ok and applied.files == child:
                return answer
        raise LLMError("empty", "no mutation could be expressed as an edit of the parent's files")
