"""Spot scheduling across regions (ADRS cant-be-late-multi): simulator, evaluator,
hostile candidates. The published figure is from the ADRS evaluator with its two
missing imports commented out (PROBLEMS.md).
The evaluator conformance kit runs on it in tests/test_evaluator_conformance.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evaluators.cant_be_late_multi.evaluator import CantBeLateMultiEvaluator
from evolve.errors import UserError
from simulators.cant_be_late import simulate
from simulators.cant_be_late.policies import round_robin_regions
from simulators.cant_be_late_multi import ADRS_JOB, ADRS_SCENARIOS, check_disjoint, load_scenarios
from tests.support_adrs import CANDIDATES, PROBLEMS, cli_eval, figures, offline_run, sandbox_context

PROBLEM = PROBLEMS / "cant_be_late_multi"
TRACES = PROBLEM / "data" / "traces.json"
HOSTILE = CANDIDATES / "cant_be_late_multi"
PUBLISHED = {"2_zones_same_region": 128.42, "2_regions_east_west": 56.58,
             "3_regions_diverse": 64.25, "3_zones_same_region": 122.84,
             "5_regions_high_diversity": 110.18, "all_9_regions": 47.99}


def scenario_means(schedule, costs):
    groups = {}
    for run, cost in zip(schedule.runs, costs):
        groups.setdefault(run.group, []).append(float(cost))
    return {k: float(np.mean(v)) for k, v in groups.items()}


def test_vectorised_simulator_reproduces_the_published_starter():
    schedule = load_scenarios(TRACES, ADRS_SCENARIOS, [ADRS_JOB])
    out = simulate([r.model_job() for r in schedule.runs], schedule.run_available(),
                   schedule.run_prices(), round_robin_regions)
    adrs = scenario_means(schedule, out.adrs_cost)
    assert {k: round(v, 2) for k, v in adrs.items()} == PUBLISHED
    assert -float(np.mean(list(adrs.values()))) == -88.37793479456109
    # Billed where and when each tick ran, the same decisions cost more: the published
    # bill prices every spot tick at the first price of the region the run ends in.
    honest = scenario_means(schedule, out.cost)
    assert honest["5_regions_high_diversity"] > adrs["5_regions_high_diversity"] + 3


def test_windows_stepped_together_must_not_overlap_in_time():
    """Windows are stepped by their own tick side by side; one that started 12 s after
    another would show it the future, so such a pair is refused."""
    data = json.loads(TRACES.read_text())
    data["windows"]["copy"] = dict(data["windows"]["0"])
    start = data["windows"]["0"]["start_time"]
    data["windows"]["copy"]["start_time"] = start[:-2] + f"{int(start[-2:]) + 12:02d}"
    check_disjoint(data, {"0", "1", "2", "3"})
    with pytest.raises(ValueError, match="overlap in time"):
        check_disjoint(data, {"0", "copy"})


@pytest.fixture(scope="module")
def context():
    with sandbox_context(PROBLEM, ["numpy"], timeout_s=300) as context:
        yield context


@pytest.fixture(scope="module")
def train_only():
    return CantBeLateMultiEvaluator(PROBLEM, holdout_scenarios=[])


@pytest.fixture(scope="module")
def starter(train_only, context):
    result = train_only.evaluate(PROBLEM / "initial_program.py", context)
    assert result.valid, result.reason
    return result


def test_initial_program_reproduces_the_adrs_figure(context):
    result = CantBeLateMultiEvaluator(PROBLEM).evaluate(PROBLEM / "initial_program.py", context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] == -88.37793479456109
    assert result.metrics["runs"] == 34 and result.metrics["late_runs"] == 4
    assert result.score < result.metrics["adrs_score"]  # four runs finish 1-2 min late
    assert set(result.instances) == set(PUBLISHED)
    assert result.holdout["valid"] == 1.0 and result.holdout["runs"] == 32


def test_printed_cost_is_ignored(train_only, starter, context):
    result = train_only.evaluate(HOSTILE / "stdout_cost.py", context)
    assert result.valid, result.reason
    assert result.score == starter.score


def test_moving_to_the_cheapest_region_at_the_end_reprices_nothing(train_only, starter, context):
    result = train_only.evaluate(HOSTILE / "reprices_at_end.py", context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] > starter.metrics["adrs_score"] + 0.5  # published: cheaper
    assert result.score == starter.score  # billed where each tick ran: unchanged


def test_fake_progress_and_zeroed_prices_pay_on_demand(train_only, starter, context):
    for name in ("fake_progress.py", "zero_prices.py"):
        result = train_only.evaluate(HOSTILE / name, context)
        assert result.valid, result.reason
        assert result.metrics["spot_hours"] == 0
        assert result.metrics["avg_cost"] == pytest.approx(
            3.06 * result.metrics["on_demand_hours"] / 34)
        assert result.score < starter.score


def test_overriding_the_guarantee_changes_nothing(train_only, context):
    hack = train_only.evaluate(HOSTILE / "overrides_guarantee.py", context)
    honest = train_only.evaluate(HOSTILE / "spot_anywhere.py", context)
    assert hack.valid and honest.valid
    assert hack.score == honest.score and figures(hack) == figures(honest)


@pytest.mark.parametrize("name, reason", [
    ("reads_env_envs.py", "'Env' object has no attribute 'envs'"),
    ("crashes_in_one_scenario.py", "5_regions_high_diversity/2/d48_dl52_o0.2, tick 100"),
    ("bad_region.py", "current region 99 is not a region index"),
])
def test_invalid_with_a_specific_reason(train_only, context, name, reason):
    result = train_only.evaluate(HOSTILE / name, context)
    assert not result.valid
    assert reason in result.reason


def test_cli_eval_ignores_a_printed_cost():
    result = cli_eval("cant_be_late_multi", HOSTILE / "stdout_cost.py",
                      "evaluator_args.holdout_scenarios=[]")
    assert result.valid and result.metrics["adrs_score"] == -88.37793479456109


def test_bad_arguments_are_user_errors():
    with pytest.raises(UserError, match="evaluator_args.scenarios"):
        CantBeLateMultiEvaluator(PROBLEM, scenarios=[{"name": "x", "regions": ["mars-1a"],
                                                      "windows": ["0"]}])
    with pytest.raises(UserError, match="evaluator_args.holdout_scenarios"):
        CantBeLateMultiEvaluator(PROBLEM, holdout_windows=["0", "1", "99"])
    with pytest.raises(UserError, match="evaluator_args.jobs"):
        CantBeLateMultiEvaluator(PROBLEM, jobs=[[48, 48, 0.2]])


def test_offline_run(tmp_path):
    programs = offline_run(tmp_path, "cant_be_late_multi", 3,
                           "evaluator_args.holdout_scenarios=[]")
    assert any(p.origin == "initial" and p.valid for p in programs)
