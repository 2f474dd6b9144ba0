"""The offline mutation engine: valid, confined, seeded edits in the real edit format."""

from __future__ import annotations

import ast
import asyncio
import random

import pytest

from evolve.edits import apply_response, evolve_blocks
from evolve.llm.base import EditRequest, GenerationParams
from evolve.llm.crossover import insert_statement, swap_function
from evolve.llm.mutations import Source, delete_statement, perturb_number, swap_statements
from evolve.llm.offline import OfflineMutationEngine
from evolve.testing.backend_kit import check_backend_completes, check_backend_fails_cleanly

PLACEMENT = '''"""Expert placement."""
import math

LIMIT = 1000  # outside the block: must never change


# EVOLVE-BLOCK-START
def place(loads, n):
    """Greedy placement by load."""
    order = sorted(range(len(loads)), key=lambda i: -loads[i])
    bins = [0.0] * n
    out = [0] * len(loads)
    for i in order:
        j = min(range(n), key=lambda k: bins[k])
        bins[j] += loads[i] * 1.05
        out[i] = j
    if max(bins) > 2.5 * (sum(bins) / n):
        out = list(out)
    return out
# EVOLVE-BLOCK-END


def run(loads):
    return place(loads, 4)
'''

TWO_BLOCK = """import numpy as np

# EVOLVE-BLOCK-START
ALPHA = 0.5
STEPS = 12
# EVOLVE-BLOCK-END


def helper(x):
    return x + 1


class Model:
    # EVOLVE-BLOCK-START
    def predict(self, xs):
        total = 0.0
        for x in xs:
            total += x * ALPHA
            total = total - 0.25
        return total / max(len(xs), 1)
    # EVOLVE-BLOCK-END
"""

NO_MARKERS = """def schedule(jobs):
    jobs = sorted(jobs)
    t = 0
    for j in jobs:
        t += j * 2
    return t < 100
"""

SAMPLES = [PLACEMENT, TWO_BLOCK, NO_MARKERS]
MESSAGES = [{"role": "user", "content": "improve"}]


def context(code: str, mode: str = "diff", inspirations=(), **kw) -> EditRequest:
    views = [(f"insp{i}", c) for i, c in enumerate(inspirations)]
    return EditRequest(code, views, mode=mode, **kw)


def ask(engine: OfflineMutationEngine, ctx: EditRequest) -> str:
    return asyncio.run(engine.complete(MESSAGES, GenerationParams(context=ctx))).text


def outside_lines(code: str) -> list[str]:
    lines = code.splitlines()
    inside = {i for s, e in evolve_blocks(code) for i in range(s, e)}
    return [line for i, line in enumerate(lines) if i not in inside]


@pytest.mark.parametrize("mode", ["diff", "rewrite"])
@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_edits_apply_parse_and_stay_inside_blocks(sample, mode):
    parent = SAMPLES[sample]
    for seed in range(8):
        engine = OfflineMutationEngine(seed)
        text = ask(engine, context(parent, mode))
        result = apply_response(parent, text, mode)
        assert result.ok, f"seed {seed}: {result.error}\n{text}"
        assert result.code != parent
        ast.parse(result.code)
        if evolve_blocks(parent):
            assert outside_lines(result.code) == outside_lines(parent)
        assert "LIMIT = 1000" in result.code or parent is not PLACEMENT


def test_same_seed_same_answers_and_seeds_differ():
    def answers(seed):
        engine = OfflineMutationEngine(seed)
        return [
            ask(engine, context(PLACEMENT, mode)) for mode in ("diff", "rewrite", "diff", "diff")
        ]

    assert answers(3) == answers(3)
    assert answers(3) != answers(4)


def test_backend_kit_accepts_the_engine():
    completion = asyncio.run(
        check_backend_completes(
            OfflineMutationEngine(1), MESSAGES, GenerationParams(context=context(PLACEMENT))
        )
    )
    assert completion.model == "offline" and completion.cost_usd == 0.0
    # No model read or wrote anything: the engine reports no token usage at all.
    assert completion.prompt_tokens == 0 and completion.completion_tokens == 0


def test_without_context_or_without_anything_to_change_it_fails_cleanly():
    error = asyncio.run(
        check_backend_fails_cleanly(OfflineMutationEngine(0), MESSAGES, GenerationParams())
    )
    assert error.kind == "bad_request"
    frozen = "x = 'a'\n# EVOLVE-BLOCK-START\npass\n# EVOLVE-BLOCK-END\n"
    params = GenerationParams(context=context(frozen))
    error = asyncio.run(check_backend_fails_cleanly(OfflineMutationEngine(0), MESSAGES, params))
    assert error.kind == "empty"


def test_max_changed_lines_is_respected():
    inspiration = PLACEMENT.replace(
        "    return out\n", "    out = [o % n for o in out]\n    out.reverse()\n    return out\n"
    )
    for seed in range(10):
        text = ask(
            OfflineMutationEngine(seed),
            context(PLACEMENT, inspirations=[inspiration], max_changed_lines=1),
        )
        assert apply_response(PLACEMENT, text, "diff").changed_lines <= 1


def test_crossover_takes_code_from_an_inspiration():
    donor_line = "        total += x * x * 0.125"
    inspiration = TWO_BLOCK.replace(
        "            total = total - 0.25\n",
        "            total = total - 0.25\n    " + donor_line + "\n",
    )
    taken = 0
    for seed in range(30):
        text = ask(OfflineMutationEngine(seed), context(TWO_BLOCK, inspirations=[inspiration]))
        child = apply_response(TWO_BLOCK, text, "diff").code
        taken += donor_line.strip() in child
    assert taken >= 3, "crossover should bring the inspiration's statement over regularly"


def test_homologous_function_swap_and_statement_insertion():
    inspiration = PLACEMENT.replace(
        "        out[i] = j\n", "        out[i] = j\n        bins[j] *= 0.99\n"
    )
    swapped = swap_function(Source(PLACEMENT), [("donor", inspiration)], random.Random(0))
    assert swapped is not None and "bins[j] *= 0.99" in swapped.code
    assert "donor" in swapped.description
    ast.parse(swapped.code)
    inserted = insert_statement(Source(PLACEMENT), [("donor", inspiration)], random.Random(0))
    assert inserted is not None and "bins[j] *= 0.99" in inserted.code
    ast.parse(inserted.code)
    # no same-named function: nothing to recombine
    assert (
        swap_function(
            Source(PLACEMENT), [("other", "def other():\n    return 1\n")], random.Random(0)
        )
        is None
    )


def test_numbers_keep_their_kind():
    rng = random.Random(0)
    for _ in range(200):
        new_int = perturb_number("12", rng, 0.3)
        assert new_int is not None and new_int.lstrip("-").isdigit() and new_int != "12"
        new_float = perturb_number("0.5", rng, 0.3)
        assert new_float is not None and "." in new_float or "e" in new_float
        assert float(new_float) > 0 and float(new_float) != 0.5
    assert perturb_number("0x1F", rng, 0.3) is None


def test_guarded_delete_keeps_returns_defs_and_needed_names():
    for seed in range(40):
        mutation = delete_statement(Source(PLACEMENT), random.Random(seed))
        assert mutation is not None
        tree = ast.parse(mutation.code)
        assert sum(isinstance(n, ast.Return) for n in ast.walk(tree)) == 2
        assert sum(isinstance(n, ast.FunctionDef) for n in ast.walk(tree)) == 2
        # names read in place() are still bound somewhere (order, bins, out)
        for name in ("order = ", "bins = ", "out = "):
            assert name in mutation.code, (seed, mutation.description)


def test_other_languages_get_number_and_operator_edits():
    kernel = (
        "// EVOLVE-BLOCK-START\nconst int BLOCK = 128;\nfloat scale = 0.5f;\n"
        "// EVOLVE-BLOCK-END\nint main() { return 0; }\n"
    )
    engine = OfflineMutationEngine(2)
    for _ in range(5):
        text = ask(engine, context(kernel, language="cpp"))
        result = apply_response(kernel, text, "diff")
        assert result.ok, result.error
        assert result.code.endswith("int main() { return 0; }\n")


def test_swap_never_moves_a_use_before_its_definition():
    dependent = Source("def f():\n    a = 1\n    b = a + 1\n    return b\n", "python")
    assert swap_statements(dependent, random.Random(0)) is None
    independent = Source("def f():\n    a = 1\n    b = 2\n    return a + b\n", "python")
    swapped = swap_statements(independent, random.Random(0))
    assert swapped is not None and "b = 2\n    a = 1" in swapped.code
