"""Spot scheduling, one region (ADRS "can't be late"): simulator, evaluator, hostile
candidates. Published figures are from the unchanged ADRS evaluator (PROBLEMS.md).
The evaluator conformance kit runs on it in tests/test_evaluator_conformance.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evaluators.cant_be_late.evaluator import CantBeLateEvaluator
from evolve.errors import UserError
from simulators.cant_be_late import JobSpec, Run, load_windows, replay, simulate
from simulators.cant_be_late.model import MISSING, REGION_STRIDE
from simulators.cant_be_late.policies import greedy, uniform_progress
from tests.support_adrs import (
    CANDIDATES,
    PROBLEMS,
    cli_eval,
    evolve_cli,
    figures,
    offline_run,
    sandbox_context,
)

PROBLEM = PROBLEMS / "cant_be_late"
TRACES = PROBLEM / "data" / "traces.json"
HOSTILE = CANDIDATES / "cant_be_late"
ADRS_JOBS = [JobSpec(48, d, o) for d in (52, 70, 92) for o in (0.02, 0.2, 0.4)]
# A smaller train set for the hostile candidates: two of the nine ADRS jobs (240 runs).
SMALL = {"jobs": [[48, 52, 0.2], [48, 92, 0.4]], "holdout_set": None}


@pytest.fixture(scope="module")
def adrs_schedule():
    return load_windows(TRACES, "adrs", ADRS_JOBS)


def simulated(schedule, policy):
    jobs = [r.model_job() for r in schedule.runs]
    return simulate(jobs, schedule.run_available(), schedule.run_prices(), policy)


def combined(costs):
    return float(-np.mean(costs) - 0.25 * np.std(costs))


def test_vectorised_simulator_reproduces_the_published_greedy(adrs_schedule):
    out = simulated(adrs_schedule, greedy)
    assert len(out.cost) == 1080
    assert float(np.mean(out.cost)) == 96.51543611111127
    assert float(np.std(out.cost)) == 40.921052290898636
    assert combined(out.cost) == -106.74569918383592
    assert float(out.cost.min()) == 46.87098333333329
    assert float(out.cost.max()) == 148.8965500000002
    by_env = {}
    for run, cost in zip(adrs_schedule.runs, out.cost):
        by_env.setdefault(run.group, []).append(cost)
    published = {"us-west-2a_k80_1": 54.21, "us-west-2b_k80_1": 128.94,
                 "us-west-2a_v100_1": 92.20, "us-west-2b_v100_1": 110.71}
    assert {k: round(float(np.mean(v)), 2) for k, v in by_env.items()} == published
    assert not (out.late_s > 0).any()


def test_vectorised_simulator_reproduces_uniform_progress(adrs_schedule):
    out = simulated(adrs_schedule, uniform_progress)
    assert float(np.mean(out.cost)) == 94.67714896604936
    assert combined(out.cost) == -104.942234355226
    assert float(out.cost.max()) == 188.49091666666612
    # The published guarantee lets Uniform Progress miss 21 deadlines, by up to 4 minutes.
    assert int((out.late_s > 0).sum()) == 21 and float(out.late_s.max()) == 240.0


def test_scalar_and_vectorised_rules_agree_on_random_decisions(adrs_schedule):
    rng = np.random.default_rng(7)
    runs = adrs_schedule.runs[::37]
    jobs = [r.model_job() for r in runs]
    rows = [adrs_schedule.runs.index(r) for r in runs]
    available = adrs_schedule.run_available()[rows]
    prices = adrs_schedule.run_prices()[rows]
    decisions = rng.integers(0, 3, size=available.shape[:2]).astype(np.uint8)
    decisions[:, :200] = 0  # idle first, so the guarantee and late runs come into play
    out = replay(jobs, available, prices, decisions)
    for i, job in enumerate(jobs):
        run = Run(job)
        for tick in range(available.shape[1]):
            run.observe(tuple(available[i, tick]))
            run.settle(int(decisions[i, tick]), 0, tuple(available[i, tick]),
                       tuple(prices[i, tick]))
            if run.finished:
                break
        assert run.cost == out.cost[i]
        assert run.finish_s == out.finish_s[i]


def test_replay_rejects_missing_and_impossible_decisions(adrs_schedule):
    runs = adrs_schedule.runs[:2]
    jobs = [r.model_job() for r in runs]
    available = adrs_schedule.run_available()[:2]
    prices = adrs_schedule.run_prices()[:2]
    log = np.zeros(available.shape[:2], dtype=np.uint8)
    log[1, 5] = MISSING
    assert replay(jobs, available, prices, log).first_bad == (1, 5, MISSING)
    log[1, 5] = 1 + REGION_STRIDE  # region 1 of a one-region run
    assert replay(jobs, available, prices, log).first_bad == (1, 5, 1 + REGION_STRIDE)


def test_steps_never_show_a_run_a_later_tick_of_its_trace(adrs_schedule):
    """The ADRS windows are slices of one 12-day trace at 30 offsets: stepping them by
    their own tick would show the window that starts 13 ticks later, i.e. 13 ticks of
    the future. Steps follow the trace's own clock instead."""
    starts = sorted({r.start for r in adrs_schedule.runs})
    series = adrs_schedule.timelines["calendar"].available["us-west-2a_v100_1"]
    a, b = starts[0], starts[1]
    assert np.array_equal(series[b: b + 500], series[a + (b - a): a + (b - a) + 500])
    for step in (0, 400, 900, 1500):
        for run, first in zip(adrs_schedule.runs, adrs_schedule.first_step):
            if first <= step:
                # Every slot shows index base + step, which is this run's own current index.
                assert adrs_schedule.base[run.timeline] + step == run.start + (step - first)


@pytest.fixture(scope="module")
def context():
    with sandbox_context(PROBLEM, ["numpy"], timeout_s=300) as context:
        yield context


@pytest.fixture(scope="module")
def small():
    return CantBeLateEvaluator(PROBLEM, **SMALL)


@pytest.fixture(scope="module")
def small_greedy(small, context):
    result = small.evaluate(PROBLEM / "initial_program.py", context)
    assert result.valid, result.reason
    return result


def test_initial_program_reproduces_the_adrs_figures(context):
    result = CantBeLateEvaluator(PROBLEM).evaluate(PROBLEM / "initial_program.py", context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] == -106.74569918383592
    assert result.metrics["avg_cost"] == 96.51543611111127
    assert result.metrics["cost_std"] == 40.921052290898636
    assert result.score == result.metrics["adrs_score"]  # no deadline missed
    assert result.metrics["runs"] == 1080
    assert set(result.instances) == {"us-west-2a_k80_1", "us-west-2b_k80_1",
                                     "us-west-2a_v100_1", "us-west-2b_v100_1"}
    assert "us-west-2b_k80_1 | d48_dl52_o0.4 | 144.12" in result.artifacts["scenarios"]
    assert result.holdout["valid"] == 1.0 and result.holdout["runs"] == 128
    assert "holdout" not in json.dumps(result.artifacts)


def test_uniform_progress_pays_for_its_late_runs(context):
    ev = CantBeLateEvaluator(PROBLEM, holdout_set=None)
    result = ev.evaluate(PROBLEM / "uniform_progress.py", context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] == -104.942234355226
    assert result.metrics["late_runs"] == 21
    assert result.score < result.metrics["adrs_score"]
    assert "21 runs finished after their deadline" in result.artifacts["late_runs"]


def test_printed_cost_is_ignored(small, small_greedy, context):
    result = small.evaluate(HOSTILE / "stdout_cost.py", context)
    assert result.valid, result.reason
    assert result.score == small_greedy.score


def test_fake_progress_does_not_finish_the_job(small, small_greedy, context):
    result = small.evaluate(HOSTILE / "fake_progress.py", context)
    assert result.valid, result.reason
    # It idles until the guarantee forces on-demand: the dearest way to finish.
    assert result.metrics["spot_hours"] == 0
    assert result.score < small_greedy.score


def test_zeroed_prices_change_nothing(small, small_greedy, context):
    result = small.evaluate(HOSTILE / "zero_prices.py", context)
    assert result.valid, result.reason
    hours = result.metrics["on_demand_hours"]
    assert hours > 0 and result.metrics["avg_cost"] == pytest.approx(3.06 * hours / 240)
    assert result.score < small_greedy.score


def test_overriding_the_guarantee_changes_nothing(small, context):
    hack = small.evaluate(HOSTILE / "overrides_guarantee.py", context)
    honest = small.evaluate(HOSTILE / "spot_or_wait.py", context)
    assert hack.valid and honest.valid
    assert hack.score == honest.score and figures(hack) == figures(honest)
    # Late by at most a tick and a restart (published: 20-40 h), and charged for it.
    assert 0 < hack.metrics["max_late_min"] <= (600 + 0.4 * 3600) / 60
    assert hack.score < hack.metrics["adrs_score"]


def test_tampering_with_the_driver_is_caught(small, context):
    result = small.evaluate(HOSTILE / "disables_driver_guarantee.py", context)
    assert not result.valid
    assert "no decision at tick" in result.reason and "before the job was done" in result.reason


def test_the_words_alone_do_not_pass(small, context):
    result = small.evaluate(HOSTILE / "substring_only.py", context)
    assert not result.valid
    assert "defines no subclass of sky_spot Strategy" in result.reason


def test_the_published_future_trace_is_not_there(small, context):
    result = small.evaluate(HOSTILE / "reads_env_trace.py", context)
    assert not result.valid
    assert "'Env' object has no attribute 'trace'" in result.reason


def test_no_later_step_is_anywhere_in_the_process(small, small_greedy, context):
    result = small.evaluate(HOSTILE / "hunts_future.py", context)
    assert result.valid, result.reason  # it raises if it finds a later step's data
    assert result.score == small_greedy.score


def test_cli_eval_ignores_a_printed_cost():
    result = cli_eval("cant_be_late", HOSTILE / "stdout_cost.py",
                      "evaluator_args.jobs=[[48,70,0.2]]", "evaluator_args.holdout_set=null")
    assert result.valid and result.metrics["runs"] == 120
    assert result.score < -50  # the published evaluator reports -0.0


def test_bad_arguments_are_user_errors(tmp_path: Path):
    with pytest.raises(UserError, match="evaluator_args.jobs"):
        CantBeLateEvaluator(PROBLEM, jobs=[[48, 40, 0.2]])
    with pytest.raises(UserError, match="evaluator_args.traces"):
        CantBeLateEvaluator(PROBLEM, traces="nope.json")
    with pytest.raises(UserError, match="evaluator_args.train_set"):
        CantBeLateEvaluator(PROBLEM, train_set="nope")
    with pytest.raises(UserError, match="evaluator_args.late_penalty"):
        CantBeLateEvaluator(PROBLEM, late_penalty=-1)


def test_offline_run(tmp_path):
    programs = offline_run(tmp_path, "cant_be_late", 3, "evaluator_args.jobs=[[48,52,0.2]]",
                           "evaluator_args.holdout_set=null")
    assert any(p.origin == "initial" and p.valid for p in programs)


def test_problems_lists_the_spot_and_sql_problems():
    proc = evolve_cli("problems")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("cant_be_late", "cant_be_late_multi", "llm_sql"):
        assert f"problems/adrs/{name}  ({name})" in proc.stdout
