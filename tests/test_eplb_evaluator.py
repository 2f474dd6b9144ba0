"""EPLB evaluator end to end through the real sandbox: reference numbers, every hack
rejected with its specific reason, argument validation, overrides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from evaluators.eplb import EPLBEvaluator
from evolve.errors import UserError
from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "problems" / "eplb"
HACKS = Path(__file__).resolve().parent / "eplb_candidates"
DEEPSEEK = PROBLEM / "initial_program.py"
FIXTURE = "data/synthetic_seed0_windows.npz"  # the public fixture: reference numbers
ROUND_ROBIN = PROBLEM / "round_robin.py"

# shared/data/eplb/SOURCE.md (copied to problems/eplb/data/SOURCE.md): DeepSeek's
# hierarchical policy, 288 replicas, 8 groups, 4 nodes, 32 GPUs, next-window protocol.
REFERENCE = {
    "balancedness_gpu": 0.6847777378,
    "balancedness_node": 0.8479864616,
    "balancedness_slot": 0.2125145329,
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(preload=["numpy", "torch"])
    yield box
    box.close()


def context(sandbox: Sandbox, timeout_s: float = 60.0) -> EvaluationContext:
    return EvaluationContext(problem_dir=PROBLEM, sandbox=sandbox, timeout_s=timeout_s)


@pytest.fixture(scope="module")
def default_evaluator() -> EPLBEvaluator:
    return create_evaluator(
        "eplb",
        PROBLEM,
        {
            "workloads": FIXTURE,
            "holdout": ["data/holdout_seed1_hot_fast.npz", "data/holdout_seed2_grouped_slow.npz"],
        },
    )  # type: ignore[return-value]


@pytest.fixture(scope="module")
def deepseek_result(sandbox: Sandbox, default_evaluator: EPLBEvaluator):
    return default_evaluator.evaluate(DEEPSEEK, context(sandbox))


def test_deepseek_baseline_reproduces_reference_numbers(deepseek_result) -> None:
    assert deepseek_result.valid, deepseek_result.reason
    for name, reference in REFERENCE.items():
        value = deepseek_result.metrics[name]
        assert abs(value - reference) < 1e-9, (name, value, reference)
        assert round(value, 9) == round(reference, 9)


def test_result_carries_instances_holdout_metrics_and_feedback(deepseek_result) -> None:
    result = deepseek_result
    assert result.instances == {"synthetic_seed0_windows": result.metrics["balancedness_gpu"]}
    assert set(result.holdout) == {"holdout_seed1_hot_fast", "holdout_seed2_grouped_slow", "mean"}
    assert all(0.0 < v < 1.0 for v in result.holdout.values())
    for key in (
        "peak_to_mean_gpu",
        "rebalance_slots_changed",
        "bytes_moved_cross_gpu",
        "bytes_moved_cross_node",
        "replication_memory",
        "candidate_time_ms",
        "simulator_time_ms",
    ):
        assert result.metrics[key] > 0, key
    assert result.metrics["bytes_moved_cross_node"] <= result.metrics["bytes_moved_cross_gpu"]
    m = result.metrics
    expected = m["balancedness_gpu"] * (1 - m["speed_weight"] + m["speed_weight"] * m["speed_term"])
    assert result.score == pytest.approx(expected)
    assert 0 < m["speed_term"] <= 1.0
    # Timing noise stays inside one 5 % step of the speed term.
    steps = m["speed_term"] / 0.05
    assert steps == pytest.approx(round(steps))
    assert abs(m["speed_term_raw"] - m["speed_term"]) <= 0.025 + 1e-9  # the nearest step
    # The baseline is the reference balancer itself: about as fast as itself.
    assert 0.6 < m["speedup_vs_reference"] < 1.6
    assert m["speed_term"] == pytest.approx(0.1)
    assert "layer" in result.artifacts["worst_layers"]
    assert "hottest GPU" in result.artifacts["hottest_gpu"]
    # Holdout workloads are never named in the feedback the LLM sees.
    assert not any("holdout" in text for text in result.artifacts.values())


def test_round_robin_scores_below_deepseek(
    sandbox: Sandbox, default_evaluator, deepseek_result
) -> None:
    result = default_evaluator.evaluate(ROUND_ROBIN, context(sandbox))
    assert result.valid, result.reason
    assert result.metrics["balancedness_gpu"] < deepseek_result.metrics["balancedness_gpu"] - 0.1
    assert result.score < deepseek_result.score


HACK_REASONS = {
    "drop_cold_experts.py": "have zero replicas",
    "wrong_type_numpy.py": "phy2log must be a torch.Tensor, got numpy.ndarray",
    "wrong_dtype_int32.py": "phy2log must have dtype torch.int64, got torch.int32",
    "wrong_shape.py": "phy2log has shape [58, 287], expected [58, 288]",
    "nan_output.py": "phy2log contains NaN",
    "id_out_of_range.py": "phy2log[3, 5] = 256 is not an expert id",
    "logcnt_wrong_sum.py": "logcnt of layer 0 sums to 289, expected 288",
    "logcnt_inconsistent.py": "logcnt disagrees with phy2log",
    "log2phy_wrong_slot.py": "points at slot 1, which holds expert 1, not 0",
    "mutates_input.py": "modified its input tensor",
    "stateful_history.py": "different placement than in a fresh process",
    "unseeded_random.py": "different placement than in a fresh process",
    "raises.py": "rebalance_experts raised RuntimeError: balancer exploded",
    "missing_function.py": "defines no function rebalance_experts",
    "wrong_arity.py": "must return (phy2log, log2phy, logcnt), got a tuple of length 2",
}


@pytest.mark.parametrize("name", sorted(HACK_REASONS))
def test_each_hack_is_invalid_with_its_reason(name: str, sandbox: Sandbox) -> None:
    evaluator = EPLBEvaluator(PROBLEM, workloads=FIXTURE)  # hacks fail before holdout matters
    result = evaluator.evaluate(HACKS / name, context(sandbox))
    assert not result.valid
    assert result.score == 0.0
    assert HACK_REASONS[name] in result.reason, result.reason


def test_timeout_is_invalid(sandbox: Sandbox) -> None:
    evaluator = EPLBEvaluator(PROBLEM, timeout_s=2.0)
    result = evaluator.evaluate(HACKS / "sleeps_forever.py", context(sandbox))
    assert not result.valid
    assert "window 0 of secret_train" in result.reason
    assert "wall-clock limit" in result.reason


def test_adrs_mode_scores_slot_level_balancedness(sandbox: Sandbox, deepseek_result) -> None:
    evaluator = EPLBEvaluator(PROBLEM, workloads=FIXTURE, mode="adrs", speed_weight=0.0)
    result = evaluator.evaluate(DEEPSEEK, context(sandbox))
    assert result.valid, result.reason
    assert result.score == pytest.approx(REFERENCE["balancedness_slot"], abs=1e-9)
    assert result.metrics["balancedness_gpu"] == deepseek_result.metrics["balancedness_gpu"]


def test_overridden_workload_and_topology(sandbox: Sandbox, tmp_path: Path) -> None:
    """A user workload file: all its windows are train windows; the global policy runs
    when groups do not divide over nodes (8 groups, 3 nodes)."""
    windows = np.load(PROBLEM / "data" / "synthetic_seed0_windows.npz")["windows"][:3, :6]
    np.savez(tmp_path / "mine.npz", windows=windows)
    evaluator = create_evaluator(
        "eplb",
        PROBLEM,
        {
            "workloads": str(tmp_path / "mine.npz"),
            "num_replicas": 300,
            "num_groups": 8,
            "num_nodes": 3,
            "num_gpus": 30,
            "timing_rounds": 1,
        },
    )
    result = evaluator.evaluate(DEEPSEEK, context(sandbox))
    assert result.valid, result.reason
    assert list(result.instances) == ["mine"]
    assert result.holdout == {}
    assert 0.0 < result.metrics["balancedness_gpu"] <= 1.0


@pytest.mark.parametrize(
    "args, key",
    [
        ({"num_gpus": 30}, "evaluator_args.num_gpus"),  # not a multiple of 4 nodes
        ({"num_replicas": 290}, "evaluator_args.num_replicas"),  # not a multiple of 32 GPUs
        ({"num_replicas": 224, "num_gpus": 32}, "evaluator_args.num_replicas"),  # < 256 experts
        ({"num_groups": 0}, "evaluator_args.num_groups"),
        ({"num_groups": 3}, "evaluator_args.num_groups"),  # 256 experts do not split in 3
        ({"mode": "fast"}, "evaluator_args.mode"),
        ({"speed_weight": 2.0}, "evaluator_args.speed_weight"),
        ({"timeout_s": 0}, "evaluator_args.timeout_s"),
        ({"workloads": "data/missing.npz"}, "evaluator_args.workloads"),
        ({"workloads": 3}, "evaluator_args.workloads"),
        ({"holdout": "data/missing.npz"}, "evaluator_args.holdout"),
        ({"no_such_arg": 1}, "evaluator_args.no_such_arg"),
        ({"speed_target_ms": 2.0}, "evaluator_args.speed_target_ms"),  # renamed
        ({"timing_calls": 8}, "evaluator_args.timing_calls"),  # renamed
        ({"reference": "nowhere.py"}, "evaluator_args.reference"),
    ],
)
def test_bad_arguments_name_their_key(args: dict, key: str) -> None:
    with pytest.raises(UserError) as error:
        create_evaluator("eplb", PROBLEM, args)
    assert error.value.where == key


def test_malformed_workload_file_is_a_user_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", loads=np.ones((3, 2, 8)))
    with pytest.raises(UserError) as error:
        EPLBEvaluator(PROBLEM, workloads=str(tmp_path / "bad.npz"))
    assert error.value.where == "evaluator_args.workloads"
    assert "no array named 'windows'" in error.value.message


@pytest.mark.slow
def test_cli_eval_json_with_overrides(tmp_path: Path) -> None:
    """`evolve eval problems/eplb FILE --json` with workload and topology overrides."""
    import json
    import subprocess
    import sys

    windows = np.load(PROBLEM / "data" / "synthetic_seed0_windows.npz")["windows"][:3]
    np.savez(tmp_path / "trace.npz", windows=windows)
    sets = [
        "evaluator_args.workloads=" + str(tmp_path / "trace.npz"),
        "evaluator_args.num_replicas=288",
        "evaluator_args.num_groups=8",
        "evaluator_args.num_nodes=4",
        "evaluator_args.num_gpus=32",
    ]
    command = [sys.executable, "-m", "evolve.cli", "eval", str(PROBLEM), str(DEEPSEEK), "--json"]
    for item in sets:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["valid"], result["reason"]
    assert set(result["instances"]) == {"trace"}
    for name in ("balancedness_gpu", "balancedness_node", "balancedness_slot"):
        assert 0.0 < result["metrics"][name] <= 1.0
