"""GPU model placement (PRISM, ADRS): the published figures bit for bit, evaluator end to
end in the real sandbox, and the published evaluator's holes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evaluators.prism.evaluator import PrismEvaluator
from evolve.errors import UserError
from evolve.testing.evaluator_kit import check_evaluator
from simulators.prism import (
    InvalidPlacement,
    check_placement,
    generate_cases,
    load_cases,
    lower_bound,
    max_kvpr,
)
from tests.support_adrs import CANDIDATES, PROBLEMS, cli_eval, sandbox_context

PROBLEM = PROBLEMS / "prism"
HACKS = CANDIDATES / "prism"
CASES = PROBLEM / "data" / "test_cases_seed42.json"


def test_the_case_file_is_what_the_adrs_generator_draws_from_seed_42():
    cases = load_cases(CASES)
    assert cases == generate_cases(42)
    assert len(cases) == 50 and sum(len(c.names) for c in cases) == 706
    raw = json.loads(CASES.read_text())
    assert raw[0]["models"][0] == {"model_name": "model_0", "model_size": 24, "req_rate": 8,
                                   "slo": 9, "cur_gpu_id": 0}


def test_placement_checks_name_the_problem():
    case = generate_cases(3, 1)[0]
    names = list(case.names)
    round_robin = {g: names[g :: case.gpu_num] for g in range(case.gpu_num)}  # 2 per GPU: fits
    assert check_placement(round_robin, case)[1] == [1, 1 + case.gpu_num]
    for value, message in [
        ({0: names[1:]}, "model_0 is placed 0 times"),
        ({0: names, 1: names[:1]}, "model_0 is placed 2 times"),
        ({case.gpu_num: names}, f"GPU id {case.gpu_num} is not one of"),
        ({"0": names}, "GPU id '0' is not one of"),
        ({0: names + ["ghost"]}, "'ghost' is not one of the case's models"),
        ({0: tuple(names)}, "GPU 0: expected a list of models"),
        ([names], "expected a dict"),
    ]:
        with pytest.raises(InvalidPlacement, match=message):
            check_placement(value, case)
    with pytest.raises(InvalidPlacement, match="GB of model weights, over its 80 GB"):
        check_placement({0: names}, case)


def test_lower_bound_is_the_perfectly_even_pressure():
    case = generate_cases(5, 1)[0]
    weight = sum(r / s for r, s in zip(case.rates, case.slos))
    assert lower_bound(case) == pytest.approx(weight / (80 * case.gpu_num - sum(case.sizes)))
    per_gpu = [list(range(i, len(case.names), case.gpu_num)) for i in range(case.gpu_num)]
    assert max_kvpr(case, per_gpu) >= lower_bound(case)


@pytest.fixture(scope="module")
def context():
    with sandbox_context(PROBLEM, ["numpy"], timeout_s=60) as context:
        yield context


@pytest.fixture(scope="module")
def evaluator():
    return PrismEvaluator(PROBLEM, holdout=[])


@pytest.fixture(scope="module")
def ceiling():
    """No placement of every model within memory can exceed this ADRS figure."""
    return 1.0 / float(np.mean([lower_bound(c) for c in load_cases(CASES)])) + 1.0


@pytest.mark.parametrize(
    "program, adrs",
    [
        ("initial_program.py", 21.891622105209393),  # ADRS initial_program.py
        ("lookahead.py", 25.71806496921267),  # ADRS best_program.py
    ],
)
def test_published_programs_reproduce_their_scores_exactly(evaluator, context, program, adrs):
    result = evaluator.evaluate(PROBLEM / program, context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] == adrs
    assert 0 < result.score < 1 and result.metrics["full_gpu_cases"] == 0
    assert set(result.instances) == {f"gpus{g}" for g in range(5, 10)}


def test_first_fit_reproduces_the_naive_figure_and_scores_near_zero(evaluator, context):
    result = evaluator.evaluate(HACKS / "first_fit.py", context)
    assert result.valid, result.reason
    assert result.metrics["adrs_score"] == 1.0000031249889527  # ADRS initial_program_naive.py
    assert result.metrics["full_gpu_cases"] == 16 and result.score < 0.05


@pytest.mark.parametrize(
    "candidate, reason",
    [
        ("drop_models", "model_1 is placed 0 times"),
        ("empty", "model_0 is placed 0 times"),
        ("invent_gpus", "GPU id 8 is not one of 0..7 (gpu_num = 8)"),
        ("overcommit", "GPU 0 holds 293 GB of model weights, over its 80 GB"),
        ("unknown_models", "'ghost_0' is not one of the case's models"),
        ("renamed_models", "model_0 is placed 2 times"),
    ],
)
def test_broken_placements_are_rejected(evaluator, context, candidate, reason):
    result = evaluator.evaluate(HACKS / f"{candidate}.py", context)
    assert not result.valid
    assert result.reason.startswith("train cases, case 0: ") and reason in result.reason


def test_changed_or_fake_model_objects_are_scored_from_the_true_models(evaluator, context, ceiling):
    mutated = evaluator.evaluate(HACKS / "mutate_models.py", context)
    fake = evaluator.evaluate(HACKS / "fake_models.py", context)
    honest = evaluator.evaluate(PROBLEM / "lookahead.py", context)
    assert mutated.valid and fake.valid, (mutated.reason, fake.reason)
    # both place round-robin; ADRS gave 8.5e7 and 1e18 for these
    assert mutated.score == fake.score < honest.score
    assert mutated.metrics["adrs_score"] == fake.metrics["adrs_score"] < ceiling


def test_holdout_is_scored_apart_and_deterministic(context):
    evaluator = PrismEvaluator(PROBLEM)  # the default: seeds from the installation secret
    assert [name for name, _ in evaluator.holdout] == ["secret1_2per_gpu", "secret2_3per_gpu"]
    public = PrismEvaluator(PROBLEM, holdout=[{"seed": 1}, {"seed": 2, "models_per_gpu": 3}])
    assert [name for name, _ in public.holdout] == ["seed1_2per_gpu", "seed2_3per_gpu"]
    assert evaluator.holdout[0][1] != public.holdout[0][1]
    result = evaluator.evaluate(PROBLEM / "initial_program.py", context)
    assert result.holdout["valid"] == 1.0 and 0 < result.holdout["score"] < 1
    assert {"score_secret1_2per_gpu", "adrs_score_secret2_3per_gpu"} <= set(result.holdout)
    assert not any("seed" in k for k in result.metrics)
    assert evaluator.evaluate(PROBLEM / "initial_program.py", context).holdout == result.holdout


def test_cli_eval_rejects_invented_gpus():
    result = cli_eval("prism", HACKS / "invent_gpus.py")
    assert not result.valid and "is not one of 0..7" in result.reason


def test_conformance_kit():
    check_evaluator("prism", PROBLEM, PROBLEM / "initial_program.py", HACKS / "empty.py",
                    args={"holdout": []})


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"cases": "data/nope.json"}, "evaluator_args.cases"),
        ({"holdout": [{"seed": 1, "gpus": 3}]}, "evaluator_args.holdout"),
        ({"holdout": [{"seed": 1, "min_size": 30, "max_size": 20}]}, "evaluator_args.holdout"),
        ({"holdout": {"seed": 1}}, "evaluator_args.holdout"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs, key):
    with pytest.raises(UserError) as info:
        PrismEvaluator(PROBLEM, **kwargs)
    assert info.value.where == key
