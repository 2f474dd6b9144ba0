"""Static gate and evaluator_args parsing of the kernelbench evaluator (no sandbox runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluators.kernelbench.settings import parse_settings
from evaluators.kernelbench.static_gate import GateSpec, check_source
from evolve.errors import UserError

pytest.importorskip("torch")

SOFTMAX_SPEC = GateSpec(forbidden_ops=["torch.softmax", "torch.nn.functional.softmax", ".softmax"])
MATMUL_SPEC = GateSpec(forbidden_ops=["@", "torch.matmul", ".matmul", ".erf"])

KERNEL = '''
import torch
import torch.nn as nn
import triton
import triton.language as tl

@triton.jit
def k(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    o = tl.arange(0, BLOCK)
    tl.store(y_ptr + o, tl.erf(tl.load(x_ptr + o, mask=o < n)), mask=o < n)

class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        k[(1,)](x, y, x.numel(), BLOCK=64)
        BODY
        return y
'''


def violations(body: str, spec: GateSpec = SOFTMAX_SPEC, prefix: str = "") -> list[str]:
    return [str(v) for v in check_source(prefix + KERNEL.replace("BODY", body), spec)]


def test_clean_kernel_passes() -> None:
    assert violations("pass") == []
    # tl.erf is the kernel's own op even where tensor .erf is banned.
    assert violations("pass", MATMUL_SPEC) == []


@pytest.mark.parametrize("body,words", [
    ("y = torch.softmax(x, -1)", "uses torch.softmax"),
    ("y = x.softmax(-1)", "calls .softmax"),
    ("y = F.softmax(x, -1)", "uses torch.nn.functional.softmax"),
    ("sm = torch.softmax\n        y = sm(x, -1)", "uses torch.softmax"),
    ("y = getattr(torch, 'softmax')(x, -1)", "uses torch.softmax"),
    ("y = getattr(torch, 'soft' + 'max')(x, -1)", "computed attribute name"),
    ("torch.ops.aten._softmax(x, -1, False)", "torch.ops"),
    ("s = torch.cuda.Stream()", "torch.cuda.Stream"),
    ("torch.cuda.synchronize()", "synchronize"),
    ("e = torch.cuda.Event(enable_timing=True)", "torch.cuda.Event"),
    ("torch.softmax = None", "monkeypatching"),
    ("t = torch.Tensor\n        t.add = None", "monkeypatching"),
    ("y = eval('x')", "builtin 'eval'"),
    ("y = x.__class__", "dunder attribute"),
    ("torch.compile(self)", "torch.compile"),
])
def test_forbidden_constructs(body: str, words: str) -> None:
    found = violations(body, prefix="import torch.nn.functional as F\n")
    assert any(words in v for v in found), found


@pytest.mark.parametrize("line", ["import os", "import time", "from time import perf_counter",
                                  "import ctypes", "from torch.utils import cpp_extension",
                                  "from torch import *", "import triton.runtime"])
def test_imports_outside_the_allow_list_are_rejected(line: str) -> None:
    found = violations("pass", prefix=line + "\n")
    assert any("is not allowed" in v for v in found), found


def test_per_problem_forbidden_import() -> None:
    spec = GateSpec(forbidden_imports=["math"])
    assert any("'math'" in v for v in violations("pass", spec, prefix="import math\n"))


def test_matmul_operator_is_banned_where_listed() -> None:
    assert any("'@'" in v for v in violations("z = x @ x", MATMUL_SPEC))
    assert violations("z = x @ x", SOFTMAX_SPEC) == []


def test_triton_backend_requires_a_launched_kernel() -> None:
    no_kernel = "import torch\nclass ModelNew:\n    def forward(self, x):\n        return x * 2\n"
    assert "no @triton.jit kernel" in str(check_source(no_kernel, GateSpec())[0])
    assert check_source(no_kernel, GateSpec(backend="torch")) == []
    unlaunched = KERNEL.replace("k[(1,)](x, y, x.numel(), BLOCK=64)", "pass").replace("BODY", "")
    assert any("never launched" in str(v) for v in check_source(unlaunched, GateSpec()))


def test_missing_model_class_and_syntax_error() -> None:
    assert "no top-level class ModelNew" in str(check_source("x = 1\n", GateSpec(backend="torch"))[0])
    assert "syntax error" in str(check_source("def (:\n", GateSpec())[0])


@pytest.mark.parametrize("args,key", [
    ({"trials": 1}, "evaluator_args.trials"),
    ({"backend": "cuda"}, "evaluator_args.backend"),
    ({"atol": "small"}, "evaluator_args.atol"),
    ({"forbidden_ops": "torch.softmax"}, "evaluator_args.forbidden_ops"),
    ({"shapes": {"tpu": []}}, "evaluator_args.shapes"),
    ({"shapes": {"cpu": [4, 64]}}, "evaluator_args.shapes.cpu"),
    ({"bogus": 1}, "evaluator_args.bogus"),
    ({"shapes": {"gpu": [{"n": 1}]}, "gpu_repeat": 10}, "evaluator_args.gpu_repeat"),
    ({"timing_sets": 4}, "evaluator_args.timing_sets"),
    ({"l2_flush_mb": 256}, "evaluator_args.l2_flush_mb"),
    ({"inspect_share": 0}, "evaluator_args.inspect_share"),
    ({"min_correlation": 2}, "evaluator_args.min_correlation"),
])
def test_bad_arguments_name_the_key(args: dict, key: str) -> None:
    with pytest.raises(UserError) as info:
        parse_settings(args)
    assert info.value.where == key


def test_removed_arguments_say_what_replaced_them() -> None:
    with pytest.raises(UserError, match="no longer used: every timed call now gets inputs"):
        parse_settings({"timing_sets": 4})


def test_a_shape_naming_nothing_in_the_reference_is_a_user_error(repo: Path) -> None:
    from evaluators.kernelbench import KernelBenchEvaluator

    with pytest.raises(UserError) as info:
        KernelBenchEvaluator(repo / "problems" / "kernels" / "softmax",
                             shapes={"cpu": [{"rows": 4, "colums": 64}]})
    assert info.value.where == "evaluator_args.shapes.cpu"
    assert "'colums' is neither an argument of get_inputs" in str(info.value)


def test_missing_reference_is_a_user_error(tmp_path: Path) -> None:
    from evaluators.kernelbench import KernelBenchEvaluator

    with pytest.raises(UserError) as info:
        KernelBenchEvaluator(tmp_path)
    assert info.value.where == "evaluator_args.reference"


def _cli(problem: str, repo: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "eval", f"problems/kernels/{problem}",
         f"problems/kernels/{problem}/initial_program.py", "--json"],
        cwd=repo, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def test_cli_eval_json(repo: Path) -> None:
    data = _cli("softmax", repo)
    assert data["valid"] is True and data["score"] == 1.0
    assert data["metrics"]["timing_meaningful"] == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("problem", ["vector_add", "layernorm", "rmsnorm", "gelu",
                                     "matmul_bias_gelu", "cross_entropy", "causal_attention"])
def test_cli_eval_json_every_problem(problem: str, repo: Path) -> None:
    data = _cli(problem, repo)
    assert data["valid"] is True, data["reason"]
