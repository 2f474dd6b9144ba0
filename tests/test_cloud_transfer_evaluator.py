"""The cloud transfer evaluator end to end: candidates run in the real sandbox."""

from __future__ import annotations

import pytest

from evaluators.cloud_transfer.evaluator import CloudTransferEvaluator
from evolve.errors import UserError
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext
from tests.support_cloud import CANDIDATES, PROBLEM_DIR

INITIAL = PROBLEM_DIR / "initial_program.py"


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(preload=["numpy", "networkx"])
    yield box
    box.close()


@pytest.fixture(scope="module")
def context(sandbox):
    return EvaluationContext(problem_dir=PROBLEM_DIR, sandbox=sandbox, timeout_s=60)


@pytest.fixture(scope="module")
def adrs():
    return CloudTransferEvaluator(PROBLEM_DIR, holdout=None)


def test_initial_program_reproduces_the_adrs_figure(adrs, context):
    result = adrs.evaluate(INITIAL, context)
    assert result.valid, result.reason
    assert abs(result.metrics["total_cost"] - 1045.86) <= 0.01
    assert abs(result.metrics["optimum_cost"] - 623.59) <= 0.01
    assert result.metrics["gap_to_optimum"] == pytest.approx(1045.860405 / 623.594796 - 1, rel=1e-6)
    assert result.score == pytest.approx(618.0 / result.metrics["total_cost"])
    assert set(result.instances) == {
        "intra_aws",
        "intra_azure",
        "intra_gcp",
        "inter_agz",
        "inter_gaz2",
    }
    assert "intra_aws" in result.artifacts["worst_scenario"]
    assert "->" in result.artifacts["costliest_edges"]


def test_plain_dict_accepted(adrs, context):
    result = adrs.evaluate(CANDIDATES / "cheapest_dict.py", context)
    assert result.valid, result.reason
    assert abs(result.metrics["total_cost"] - 1045.86) <= 0.01


def test_edge_data_in_the_answer_cannot_lower_the_price(adrs, context):
    result = adrs.evaluate(CANDIDATES / "direct_zero_cost.py", context)
    assert result.valid, result.reason
    assert abs(result.metrics["total_cost"] - 1199.17) <= 0.01


def test_mutating_the_graph_changes_nothing(adrs, context):
    result = adrs.evaluate(CANDIDATES / "mutate_graph.py", context)
    assert result.valid, result.reason
    assert abs(result.metrics["total_cost"] - 1045.86) <= 0.01
    again = adrs.evaluate(INITIAL, context)
    assert again.metrics["total_cost"] == pytest.approx(result.metrics["total_cost"])


@pytest.mark.parametrize(
    "candidate, reason",
    [
        ("missing_destination", "missing destination"),
        ("extra_destination", "unexpected destination"),
        ("missing_partition", "partition 1 is not routed"),
        ("empty_partition", "empty path"),
        ("wrong_endpoint", "not at the destination"),
        ("non_edge", "aws:moon-base-1 is not an edge"),
        ("cyclic_path", "cyclic path"),
        ("broken_path", "previous hop ended"),
    ],
)
def test_hacks_are_rejected_with_a_reason(adrs, context, candidate, reason):
    result = adrs.evaluate(CANDIDATES / f"{candidate}.py", context)
    assert not result.valid
    assert reason in result.reason
    assert result.reason.startswith("scenario intra_aws:")


def test_candidate_exception_is_invalid(adrs, context, tmp_path):
    bad = tmp_path / "raises.py"
    bad.write_text("def search_algorithm(src, dsts, G, n):\n    raise ValueError('no route')\n")
    result = adrs.evaluate(bad, context)
    assert not result.valid
    assert "no route" in result.reason


def test_holdout_scored_apart(context):
    evaluator = CloudTransferEvaluator(PROBLEM_DIR)
    result = evaluator.evaluate(INITIAL, context)
    assert result.valid
    assert result.holdout["valid"] == 1.0
    assert any(key.startswith("cost_holdout_") for key in result.holdout)
    assert not any("holdout" in key for key in result.metrics)
    assert not any("holdout" in text for text in result.artifacts.values())


def test_rich_mode_enforces_the_deadline(context):
    rich = CloudTransferEvaluator(PROBLEM_DIR, mode="rich", holdout=None)
    result = rich.evaluate(INITIAL, context)  # 8 VMs everywhere: 360 s worst, deadline 600 s
    assert result.valid, result.reason
    assert result.metrics["transfer_time_s"] <= 600
    tight = CloudTransferEvaluator(PROBLEM_DIR, mode="rich", holdout=None, deadline_s_per_gb=0.5)
    late = tight.evaluate(INITIAL, context)
    assert not late.valid
    assert "over the deadline of 150.0 s" in late.reason
    # an ADRS solution with the default 2 VMs per region misses the 600 s deadline
    adrs_style = rich.evaluate(CANDIDATES / "cheapest_dict.py", context)
    assert not adrs_style.valid and "deadline" in adrs_style.reason
    too_many = rich.evaluate(CANDIDATES / "too_many_vms.py", context)
    assert not too_many.valid and "exceeds the limit of 8" in too_many.reason


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"mode": "fast"}, "evaluator_args.mode"),
        ({"scenarios": ["data/config/nope.json"]}, "evaluator_args.scenarios"),
        ({"network": "missing.csv"}, "evaluator_args.network"),
        ({"vm_price_per_hour": {"aws": 1.0}}, "evaluator_args.vm_price_per_hour"),
        ({"num_vms": 0}, "evaluator_args.num_vms"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs, key):
    with pytest.raises(UserError) as info:
        CloudTransferEvaluator(PROBLEM_DIR, **kwargs)
    assert info.value.where.startswith(key)


def test_problem_yaml_builds_the_evaluator_and_rich_mode_is_a_set_away():
    from evolve.evaluation.registry import create_evaluator
    from evolve.problem import load_problem

    problem = load_problem(PROBLEM_DIR, overrides=["evaluator_args.mode=rich"])
    assert "networkx" in problem.config.preload
    evaluator = create_evaluator(
        problem.config.evaluator, problem.directory, problem.config.evaluator_args
    )
    assert evaluator.model.mode == "rich"
    assert [p.scenario.name for p in evaluator.train] == [
        "intra_aws",
        "intra_azure",
        "intra_gcp",
        "inter_agz",
        "inter_gaz2",
    ]
    assert [p.scenario.name for p in evaluator.holdout] == [
        f"holdout_{i}_{kind}" for i, kind in enumerate(["relay", "multicast"] * 3, 1)
    ]
    assert load_problem(PROBLEM_DIR).config.evaluator_args["mode"] == "adrs"
