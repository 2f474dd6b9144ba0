"""Keyed weighted sums (evaluators/kernelbench/sums.py): how every timed call is checked.

Outputs within the element tolerance always pass; outputs wrong well beyond it fail;
the Triton kernel used on CUDA computes what the PyTorch version computes (checked here
in Triton's interpreter).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from evaluators.kernelbench.sums import WEIGHTED, mismatch, sums, weights

REPO = Path(__file__).resolve().parents[1]


def _sums(y: torch.Tensor, key: int = 12345) -> list[float]:
    return sums([y], key)[0]


def test_weights_are_in_range_and_depend_on_index_and_key() -> None:
    index = torch.arange(100_000, dtype=torch.int64)
    u = weights(index, 7)
    assert float(u.min()) > -1.0 and float(u.max()) < 1.0
    assert abs(float(u.mean())) < 0.01 and abs(float((u * u).mean()) - 1 / 3) < 0.01
    assert not torch.equal(u, weights(index, 8))
    high = weights(torch.tensor([5, 5 + 2**32, 5 + 2**40]), 7)  # beyond 32-bit indices
    assert len(set(high.tolist())) == 3


def test_an_output_within_tolerance_always_passes() -> None:
    """Worst case the bound allows: every element off by its full tolerance, with signs
    independent of the key, on 200 keys."""
    gen = torch.Generator().manual_seed(0)
    ref = torch.randn(4096, generator=gen, dtype=torch.float64) * 1e-4  # tiny outputs
    atol, rtol = 1e-5, 1e-5
    rms = float(ref.pow(2).mean().sqrt())
    tol = atol * rms + rtol * ref.abs()
    for key in range(200):
        signs = torch.randint(0, 2, ref.shape, generator=gen, dtype=torch.float64) * 2 - 1
        got = ref + signs * tol
        assert mismatch(sums([got], key)[0], sums([ref], key)[0], ref.numel(), atol, rtol) == ""


@pytest.mark.parametrize("name,change", [
    ("zeros", lambda y: torch.zeros_like(y)),
    ("off by 0.1 %", lambda y: y * 1.001),
    ("one element wrong", lambda y: torch.cat([y[:-1], y[-1:] + 10 * y.abs().max()])),
    ("a dropped tile", lambda y: torch.cat([y[:-64], torch.zeros(64, dtype=y.dtype)])),
])
def test_an_output_wrong_beyond_tolerance_fails(name: str, change: object) -> None:
    gen = torch.Generator().manual_seed(1)
    ref = torch.rand(4096, generator=gen, dtype=torch.float64) + 0.5
    got = change(ref)  # type: ignore[operator]
    problem = mismatch(_sums(got), _sums(ref), ref.numel(), 1e-5, 1e-5)
    assert "keyed weighted sums differ" in problem, name


def test_non_finite_values_are_counted_and_malformed_sums_refused() -> None:
    ref = torch.ones(16)
    got = ref.clone()
    got[3] = float("nan")
    assert "1 NaN values where the reference has 0" in mismatch(
        _sums(got), _sums(ref), 16, 1e-5, 1e-5)
    assert mismatch([1.0, 2.0], _sums(ref), 16, 1e-5, 1e-5) == "the harness returned malformed sums"
    assert mismatch([float("nan")] * len(_sums(ref)), _sums(ref), 16, 1e-5, 1e-5) != ""


def test_exact_outputs_such_as_indices_compare_exactly() -> None:
    ref = torch.arange(1000, dtype=torch.int64)
    assert mismatch(_sums(ref.clone()), _sums(ref), 1000, 0.0, 0.0) == ""
    changed = ref.clone()
    changed[500] += 1
    assert mismatch(_sums(changed), _sums(ref), 1000, 0.0, 0.0) != ""


SCRIPT = """
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from evaluators.kernelbench.sums import _torch_sums, triton_sums
gen = torch.Generator().manual_seed(3)
cases = [torch.randn(10_000, generator=gen), torch.randn(100, generator=gen).half(),
         torch.randint(-50, 50, (5000,), generator=gen), torch.rand(777, generator=gen) > 0.5]
cases[0][17] = float("nan"); cases[0][18] = float("inf"); cases[0][19] = float("-inf")
out = []
for y in cases:
    flat = y.reshape(-1).view(torch.uint8) if y.dtype == torch.bool else y.reshape(-1)
    out.append([_torch_sums(flat, 2**61 + 12345), triton_sums(flat, 2**61 + 12345)])
print(json.dumps(out))
"""


def test_the_triton_sums_kernel_matches_the_pytorch_version() -> None:
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO)], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for torch_sums, triton_sums in json.loads(done.stdout):
        assert triton_sums[WEIGHTED + 2:] == torch_sums[WEIGHTED + 2:]  # max and counts
        assert triton_sums[:WEIGHTED + 2] == pytest.approx(torch_sums[:WEIGHTED + 2],
                                                           rel=1e-12, abs=1e-9)


def test_consistent_errors_a_few_hundred_times_the_tolerance_fail_every_key() -> None:
    gen = torch.Generator().manual_seed(4)
    ref = torch.randn(4096, generator=gen, dtype=torch.float64)
    atol, rtol = 1e-6, 1e-5
    tol = atol * float(ref.pow(2).mean().sqrt()) + rtol * ref.abs()
    signs = torch.randint(0, 2, ref.shape, generator=gen, dtype=torch.float64) * 2 - 1
    got = ref + 300 * signs * tol
    failures = sum(mismatch(sums([got], key)[0], sums([ref], key)[0], 4096, atol, rtol) != ""
                   for key in range(50))
    assert failures == 50
