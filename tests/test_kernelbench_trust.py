"""Issue 12, attack 3 on the kernel bench, as a candidate run through `evolve eval --json`.

The candidate (tests/kernel_candidates/softmax_gate_recorder_clock.py) is the honest
softmax initial program plus: ``exec`` through ``torch.serialization.sys.modules``
(passes the static gate), every aten-op recorder of the harness paused, the banned
``torch.softmax`` computing the answer, and in-process clocks and the harness's timing
function replaced so that they report 1e-6 ms. It must score no better than the honest
program, and its reported times must be the sandbox's, not the forged ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

REPO = Path(__file__).resolve().parents[1]
SOFTMAX = REPO / "problems" / "kernels" / "softmax"
ATTACK = REPO / "tests" / "kernel_candidates" / "softmax_gate_recorder_clock.py"
FORGED_MS = 1e-6


def evaluate(candidate: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "eval", str(SOFTMAX), str(candidate), "--json"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_gate_recorder_and_clock_attack_scores_no_better_with_trusted_times() -> None:
    honest = evaluate(SOFTMAX / "initial_program.py")
    attack = evaluate(ATTACK)
    assert honest["valid"] and honest["score"] == 1.0
    # The gate and the in-process recorder are first filters: the attack passes both.
    # What it cannot reach is the score: on CPU correctness alone scores, and the
    # values it returns are the reference's own.
    assert attack["valid"], attack["reason"]
    assert attack["score"] <= honest["score"]
    times = {k: v for k, v in attack["metrics"].items() if k.startswith("candidate_ms[")}
    assert set(times) == {"candidate_ms[rows=4,cols=64]", "candidate_ms[rows=3,cols=100]"}
    for value in times.values():
        # the sandbox zygote's clock around each call: a real pipe round trip plus the
        # work, never the forged 1e-6 ms (a thousand times below any round trip)
        assert value > 1000 * FORGED_MS
    assert "measured by the sandbox around each call" in attack["artifacts"]["timing"]
    assert attack["metrics"]["timing_meaningful"] == 0.0
