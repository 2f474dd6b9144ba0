"""Transaction scheduling (ADRS): simulator against the published figures, evaluator
end to end in the real sandbox, and the published evaluator's holes."""

from __future__ import annotations

import json
import random

import pytest

from evaluators.txn_scheduling.evaluator import TxnSchedulingEvaluator
from evolve.errors import UserError
from evolve.testing.evaluator_kit import check_evaluator
from simulators.txn_scheduling import (
    SHAPES,
    InvalidSchedule,
    Workload,
    check_schedules,
    generate_workload,
    makespan_lower_bound,
    parse_transactions,
    schedule_makespan,
)
from tests.support_adrs import CANDIDATES, PROBLEMS, cli_eval, sandbox_context

PROBLEM = PROBLEMS / "txn_scheduling"
HACKS = CANDIDATES / "txn_scheduling"
NAMES = ("WORKLOAD_1", "WORKLOAD_2", "WORKLOAD_3")


def workloads() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((PROBLEM / "data" / "workloads.json").read_text())
    return data


# ---------------------------------------------------------------- simulator


def test_identity_order_makespans_are_the_published_452_38_47():
    data = workloads()
    found = [Workload(json.dumps(data[n])).get_opt_seq_cost(list(range(100))) for n in NAMES]
    assert found == [452, 38, 47]


@pytest.mark.parametrize(
    "name, expected",
    [  # recorded with the ADRS txn_simulator (commit 2d7047e) on the same orders
        ("WORKLOAD_1", [460, 426, 397, 456]),
        ("WORKLOAD_2", [53, 54, 56, 56]),
        ("WORKLOAD_3", [185, 171, 175, 47]),
    ],
)
def test_shuffled_orders_match_the_published_simulator(name, expected):
    workload = Workload(json.dumps(workloads()[name]))
    orders = []
    for seed in range(3):
        order = list(range(100))
        random.Random(seed).shuffle(order)
        orders.append(order)
    orders.append(list(range(99, -1, -1)))
    assert [workload.get_opt_seq_cost(o) for o in orders] == expected


def test_lower_bound_is_never_beaten():
    rng = random.Random(0)
    for text in [*workloads().values(), *(generate_workload(s, 3) for s in SHAPES)]:
        txns = parse_transactions(text)
        bound = makespan_lower_bound(txns)
        assert bound >= max(ops[0][3] for ops in txns)
        for _ in range(200):
            order = list(range(len(txns)))
            rng.shuffle(order)
            assert schedule_makespan(txns, order) >= bound


def test_generated_workloads_are_seeded_and_shaped():
    assert generate_workload("hot", 4) == generate_workload("hot", 4)
    assert generate_workload("hot", 4) != generate_workload("hot", 5)
    hot = parse_transactions(generate_workload("hot", 4))
    assert len(hot) == 100 and all(len(ops) == 16 for ops in hot)
    assert {ops[0][3] for ops in parse_transactions(generate_workload("mixed", 4))} == {21, 5}
    assert {ops[0][3] for ops in parse_transactions(generate_workload("cross", 4))} == {9}
    with pytest.raises(ValueError, match="unknown workload shape"):
        generate_workload("zipf", 1)


def test_schedule_checks_name_the_problem():
    ok = check_schedules([list(range(3))], ["W"], [3])
    assert ok == [[0, 1, 2]]
    for value, message in [
        ([[0, 1]], "has 2 entries"),
        ([[0, 0, 1]], "transaction 0 appears 2 times and transaction 2 is missing"),
        ([[0, 1, 3]], "transaction 3 is out of range 0..2"),
        ([[0, True, 2]], "entry 1 is bool"),
        ([[0, 1.0, 2]], "entry 1 is float"),
        ([], "expected 1 schedules"),
        ("012", "got str"),
    ]:
        with pytest.raises(InvalidSchedule, match=message):
            check_schedules(value, ["W"], [3])


# ---------------------------------------------------------------- evaluator


@pytest.fixture(scope="module")
def context():
    with sandbox_context(PROBLEM, ["numpy"], timeout_s=60) as context:
        yield context


@pytest.fixture(scope="module")
def evaluator():
    return TxnSchedulingEvaluator(PROBLEM)


def test_identity_order_scores_the_published_reference(evaluator, context):
    result = evaluator.evaluate(PROBLEM / "identity_order.py", context)
    assert result.valid, result.reason
    assert [result.metrics[f"makespan_{n}"] for n in NAMES] == [452, 38, 47]
    assert result.metrics["adrs_score"] == 1858.736059479554  # printed by ADRS for this order
    bounds = [result.metrics[f"lower_bound_{n}"] for n in NAMES]
    assert result.score == pytest.approx(sum(b / m for b, m in zip(bounds, [452, 38, 47])) / 3)


def test_initial_program_is_seeded_and_within_the_published_spread(evaluator, context):
    first = evaluator.evaluate(PROBLEM / "initial_program.py", context)
    again = evaluator.evaluate(PROBLEM / "initial_program.py", context)
    assert first.valid, first.reason
    assert (first.score, first.metrics["makespan"]) == (again.score, again.metrics["makespan"])
    # ADRS's initial program is unseeded; 10 published runs gave total makespans 350-369.
    # Seeded with 0 (both programs draw the same numbers): 256 + 55 + 58 = 369.
    assert first.metrics["makespan"] == 369
    assert first.metrics["reported_makespan"] == 369
    assert first.holdout["valid"] == 1.0 and 0 < first.holdout["score"] <= 1
    assert not any("holdout" in k for k in first.metrics)
    assert "WORKLOAD_1 | 256 | 67 | 452" in first.artifacts["workloads"]


@pytest.mark.parametrize(
    "candidate, reason",
    [
        ("one_transaction", "schedule for WORKLOAD_1 has 1 entries"),
        ("no_schedules", "expected 3 schedules, one per workload"),
        ("duplicates", "transaction 0 appears 2 times and transaction 99 is missing"),
        ("out_of_range", "transaction 100 is out of range 0..99"),
        ("extra_index", "has 101 entries"),
        ("float_indices", "entry 0 is float, not a transaction index"),
    ],
)
def test_invalid_schedules_are_rejected(evaluator, context, candidate, reason):
    result = evaluator.evaluate(HACKS / f"{candidate}.py", context)
    assert not result.valid
    assert result.reason.startswith("train workloads: ") and reason in result.reason


@pytest.mark.parametrize("candidate", ["reported_zero", "patch_simulator"])
def test_a_claimed_makespan_counts_for_nothing(evaluator, context, candidate):
    honest = evaluator.evaluate(PROBLEM / "identity_order.py", context)
    result = evaluator.evaluate(HACKS / f"{candidate}.py", context)
    assert result.valid, result.reason
    assert result.metrics["reported_makespan"] == 0
    assert result.metrics["makespan"] == 537 and result.score == honest.score
    assert result.metrics["adrs_score"] == honest.metrics["adrs_score"]
    assert "reported a makespan of 0" in result.artifacts["workloads"]


def test_cli_eval_rejects_one_transaction_per_workload():
    result = cli_eval("txn_scheduling", HACKS / "one_transaction.py")
    assert not result.valid and "has 1 entries" in result.reason


def test_conformance_kit():
    check_evaluator("txn_scheduling", PROBLEM, PROBLEM / "identity_order.py",
                    HACKS / "no_schedules.py", args={"holdout_seeds": []})


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"workloads": "data/nope.json"}, "evaluator_args.workloads"),
        ({"holdout_seeds": 3}, "evaluator_args.holdout_seeds"),
        ({"holdout_transactions": 1}, "evaluator_args.holdout_transactions"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs, key):
    with pytest.raises(UserError) as info:
        TxnSchedulingEvaluator(PROBLEM, **kwargs)
    assert info.value.where == key
