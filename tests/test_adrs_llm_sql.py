"""LLM-SQL prefix reuse (ADRS llm_sql): metric, permutation check, evaluator, hostile
candidates. Published figures: PROBLEMS.md (runs of the published evaluator).
The evaluator conformance kit runs on it in tests/test_evaluator_conformance.py."""

from __future__ import annotations

import random

import pytest

from evaluators.llm_sql.evaluator import LLMSQLEvaluator
from evolve.errors import UserError
from simulators.llm_sql import NotAPermutation, Table, check_answer, prefix_hits, trie_hits
from tests.support_adrs import CANDIDATES, PROBLEMS, cli_eval, offline_run, sandbox_context

PROBLEM = PROBLEMS / "llm_sql"
HOSTILE = CANDIDATES / "llm_sql"
BEER_CHARS = 2_271_333  # total prompt characters of beer.csv, however its cells are ordered


def test_the_metric_is_the_trie_count_and_ignores_row_order():
    rng = random.Random(3)
    strings = ["".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
               for _ in range(2000)]
    assert prefix_hits(strings) == trie_hits(strings)
    shuffled = strings[:]
    rng.shuffle(shuffled)
    assert trie_hits(shuffled) == trie_hits(strings)


def test_answers_must_be_the_input_rows_with_cells_reordered():
    table = Table("t", ["a", "b", "c"], [["x", "1", "yy"], ["x", "2", "yy"], ["x", "2", "yy"]],
                  [["b", "c"]])
    # b+c joined, in score order (c: longer, repeated) or as listed.
    assert check_answer(table, [["yy2", "x"], ["x", "yy1"], ["x", "yy2"]])
    assert check_answer(table, [["2yy", "x"], ["x", "1yy"], ["x", "2yy"]])
    with pytest.raises(NotAPermutation, match="repeats an input row"):
        check_answer(table, [["x", "yy2"], ["x", "yy2"], ["x", "yy2"]])
    with pytest.raises(NotAPermutation, match="3 cells; input rows have 2"):
        check_answer(table, [["x", "1", "yy"], ["x", "yy2"], ["x", "yy2"]])
    with pytest.raises(NotAPermutation, match="returned 2 rows for 3"):
        check_answer(table, [["x", "yy1"], ["x", "yy2"]])
    with pytest.raises(NotAPermutation, match="not a list of rows of text cells"):
        check_answer(table, [["x", 1]])


@pytest.fixture(scope="module")
def context():
    with sandbox_context(PROBLEM, ["numpy", "pandas"], timeout_s=300) as context:
        yield context


@pytest.fixture(scope="module")
def train_only():
    return LLMSQLEvaluator(PROBLEM, holdout=[])


@pytest.fixture(scope="module")
def ggr(context):
    result = LLMSQLEvaluator(PROBLEM).evaluate(PROBLEM / "initial_program.py", context)
    assert result.valid, result.reason
    return result


def test_initial_program_reproduces_the_published_hit_rate(ggr):
    # Published (PROBLEMS.md): 1,606,629 hits, rate 0.7073507055108168, then 0.7073441 on a
    # second run: its shared trie is written from several threads, and a lost insert can
    # only lose hits. Counted in order, the same grouping gives one more: 1,606,630.
    assert ggr.score * BEER_CHARS == pytest.approx(1_606_630, abs=1e-6)
    assert ggr.metrics["hit_rate_beer"] == 1_606_630 / BEER_CHARS
    runtime_term = 0.05 * (12 - min(12, ggr.metrics["reorder_s"] / 5)) / 12
    assert ggr.metrics["adrs_score"] == pytest.approx(0.95 * ggr.score / 5 + runtime_term)
    assert ggr.holdout["valid"] == 1.0
    assert set(ggr.holdout) >= {"hit_rate_shop_reviews_secret", "hit_rate_support_tickets_secret"}


def test_the_same_program_scores_the_same(train_only, ggr, context):
    again = train_only.evaluate(PROBLEM / "initial_program.py", context)
    assert again.score == ggr.score


@pytest.mark.parametrize("name, reason", [
    ("copies_of_first_row.py", "is not an input row with its cells reordered (9 cells"),
    ("single_column.py", "1 cells; input rows have 8"),
    ("invented_prefix.py", "is not an input row with its cells reordered"),
    ("drops_rows.py", "returned 2,854 rows for 28,479 input rows"),
    ("floats_for_ints.py", "is not an input row with its cells reordered: "),
    ("unmerged.py", "9 cells; input rows have 8"),
])
def test_changed_tables_are_invalid(train_only, context, name, reason):
    result = train_only.evaluate(HOSTILE / name, context)
    assert not result.valid
    assert reason in result.reason


def test_speed_alone_earns_nothing(train_only, ggr, context):
    fast = train_only.evaluate(HOSTILE / "identity_fast.py", context)
    assert fast.valid, fast.reason
    assert fast.score < ggr.score / 4  # the published score gives it 0.05 for speed
    assert fast.metrics["adrs_score"] > 0.05 * (12 - fast.metrics["reorder_s"] / 5) / 12


def test_either_merge_order_is_accepted(train_only, context):
    result = train_only.evaluate(HOSTILE / "listed_merge_order.py", context)
    assert result.valid, result.reason


def test_cli_eval_rejects_copies_of_one_row():
    result = cli_eval("llm_sql", HOSTILE / "copies_of_first_row.py", "evaluator_args.holdout=[]")
    assert not result.valid and "table beer: row 0" in result.reason


def test_bad_arguments_are_user_errors():
    with pytest.raises(UserError, match="evaluator_args.tables"):
        LLMSQLEvaluator(PROBLEM, tables=[{"file": "data/nope.csv"}])
    with pytest.raises(UserError, match="evaluator_args.holdout"):
        LLMSQLEvaluator(PROBLEM, holdout=[{"synthetic": "nope"}])
    with pytest.raises(UserError, match="unknown columns"):
        LLMSQLEvaluator(PROBLEM, tables=[{"file": "data/beer.csv", "col_merge": [["x", "y"]]}])


def test_offline_run(tmp_path):
    programs = offline_run(tmp_path, "llm_sql", 3, "evaluator_args.holdout=[]")
    assert any(p.origin == "initial" and p.valid for p in programs)
