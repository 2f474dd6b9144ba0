"""Network telemetry repair (ADRS): the published test faults bit for bit, evaluator end
to end in the real sandbox, and the published evaluator's holes."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from evaluators.telemetry_repair.evaluator import TelemetryRepairEvaluator
from evolve.errors import UserError
from evolve.testing.evaluator_kit import check_evaluator
from simulators.telemetry_repair import load_telemetry
from tests.support_adrs import CANDIDATES, PROBLEMS, cli_eval, published_score, sandbox_context

PROBLEM = PROBLEMS / "telemetry_repair"
HACKS = CANDIDATES / "telemetry_repair"
PUBLIC_KEYS = {"interface_status", "rx_rate", "tx_rate", "connected_to", "local_router",
               "remote_router"}


@pytest.fixture(scope="module")
def context():
    with sandbox_context(PROBLEM, ["numpy"], timeout_s=60) as context:
        yield context


@pytest.fixture(scope="module")
def evaluator():
    return TelemetryRepairEvaluator(PROBLEM)


def test_abilene_links_load_as_the_adrs_adapter_builds_them():
    telemetry = load_telemetry(PROBLEM / "data" / "abilene_links.csv")
    network = telemetry.network
    assert telemetry.rates.shape == (40, 30, 2)
    assert network.interfaces[:3] == ("ATLAM5_to_ATLAng", "ATLAng_to_ATLAM5", "ATLAng_to_HSTNng")
    assert len(network.topology()) == 12
    for i, name in enumerate(network.interfaces):
        assert network.peer[network.interfaces.index(network.peer[i])] == name


def test_the_train_set_is_the_adrs_sample_and_nothing_private_reaches_the_candidate(evaluator):
    rows = random.Random(42).sample(range(40), 30)
    assert [i.row for i in evaluator.train] == rows
    assert Counter(i.fault for i in evaluator.train) == {
        "correlated_dropped": 14, "dropped": 9, "scaled": 4, "correlated_scaled": 3}
    assert sorted({i.row for i in evaluator.holdout}) == sorted(set(range(40)) - set(rows))
    assert len(evaluator.holdout) == 30
    network = evaluator.telemetry.network
    for instance in evaluator.train + evaluator.holdout:
        seen = instance.telemetry(network)
        assert all(set(fields) == PUBLIC_KEYS for fields in seen.values())
        assert not np.array_equal(instance.observed, instance.truth)


@pytest.mark.parametrize(
    "program, adrs",
    [  # what the ADRS evaluator (commit 2d7047e, legacy path) prints for these programs
        ("initial_program.py", 0.05112111111111114),
        ("link_symmetry.py", 0.9255446996330715),
    ],
)
def test_the_adrs_figure_is_reproduced_bit_for_bit(evaluator, context, program, adrs):
    result = evaluator.evaluate(PROBLEM / program, context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] == adrs
    assert result.metrics["status_accuracy"] == 1.0
    assert set(result.instances) == {"correlated_dropped", "correlated_scaled", "dropped", "scaled"}


def test_the_published_initial_program_drops_interfaces(evaluator, context):
    """ADRS's initial program reuses its loop variable, answering for 12 of 30
    interfaces; the published 0.05083333333333336 comes from skipping the other 18."""
    candidate = HACKS / "adrs_initial_shadowed.py"
    result = evaluator.evaluate(candidate, context)
    assert not result.valid and "is missing from the output" in result.reason
    answers, _ = evaluator.answers(evaluator.train, context, "train", candidate)
    assert all(len(a) == 12 for a in answers)
    interfaces = list(evaluator.telemetry.network.interfaces)
    assert published_score(evaluator.train, answers, interfaces) == 0.05083333333333336


@pytest.mark.parametrize(
    "candidate, reason, published_at_least",
    [  # under the ADRS rules: above the honest link-symmetry repair (0.9255), and 0.25
        ("omit_suspicious", "is missing from the output (all 30 must be repaired)", 0.93),
        ("empty", "is missing from the output", 0.25),
    ],
)
def test_leaving_interfaces_out_is_invalid(evaluator, context, candidate, reason,
                                           published_at_least):
    result = evaluator.evaluate(HACKS / f"{candidate}.py", context)
    assert not result.valid and reason in result.reason
    assert result.reason.startswith("train rows, row ")
    answers, _ = evaluator.answers(evaluator.train, context, "train", HACKS / f"{candidate}.py")
    interfaces = list(evaluator.telemetry.network.interfaces)
    assert published_score(evaluator.train, answers, interfaces) >= published_at_least


@pytest.mark.parametrize(
    "candidate, reason",
    [
        ("nan_rates", "rx_rate: the repaired value is not a finite number"),
        ("overconfident", "rx_rate: the confidence must be a number in [0, 1]"),
        ("bare_numbers", "rx_rate must be (original, repaired, confidence), got float"),
    ],
)
def test_malformed_repairs_are_rejected(evaluator, context, candidate, reason):
    result = evaluator.evaluate(HACKS / f"{candidate}.py", context)
    assert not result.valid and reason in result.reason


@pytest.mark.parametrize("candidate", ["leak_ground_truth", "steer_random"])
def test_leaked_truth_and_shared_random_give_nothing(evaluator, context, candidate):
    honest = evaluator.evaluate(HACKS / "unchanged.py", context)
    result = evaluator.evaluate(HACKS / f"{candidate}.py", context)
    assert result.valid, result.reason
    assert result.score == honest.score and result.metrics == {
        **honest.metrics, "candidate_time_s": result.metrics["candidate_time_s"]}


def test_counters_that_are_truly_zero_count(evaluator, context):
    honest = evaluator.evaluate(HACKS / "unchanged.py", context)
    wild = evaluator.evaluate(HACKS / "wild_zero_counters.py", context)
    assert wild.valid, wild.reason
    assert wild.metrics["adrs_counter_accuracy"] == honest.metrics["adrs_counter_accuracy"]
    assert wild.metrics["counter_accuracy"] < honest.metrics["counter_accuracy"]
    assert wild.score < honest.score


def test_holdout_is_scored_apart(evaluator, context):
    result = evaluator.evaluate(PROBLEM / "link_symmetry.py", context)
    assert result.holdout["valid"] == 1.0 and 0.5 < result.holdout["score"] < 1
    assert "adrs_score" in result.holdout and "holdout" not in " ".join(result.metrics)


def test_cli_eval_rejects_omitted_interfaces():
    result = cli_eval("telemetry_repair", HACKS / "omit_suspicious.py")
    assert not result.valid and "is missing from the output" in result.reason


def test_conformance_kit():
    check_evaluator("telemetry_repair", PROBLEM, PROBLEM / "link_symmetry.py", HACKS / "empty.py",
                    args={"holdout_draws": 0})


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"data": "data/nope.csv"}, "evaluator_args.data"),
        ({"rows": 41}, "evaluator_args.rows"),
        ({"holdout_draws": -1}, "evaluator_args.holdout_draws"),
        ({"seed": "42"}, "evaluator_args.seed"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs, key):
    with pytest.raises(UserError) as info:
        TelemetryRepairEvaluator(PROBLEM, **kwargs)
    assert info.value.where == key
