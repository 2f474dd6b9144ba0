"""Per-run overhead of the sandbox vs. starting a cold interpreter that imports torch.

Usage: python bench/sandbox_overhead.py [runs]
Prints seconds per run for: a warm-zygote sandbox run of a candidate that imports
torch (torch preloaded), and ``python -c "import torch"`` in a fresh subprocess.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits


def main(runs: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "program.py"
        program.write_text("import torch\n\ndef f():\n    return torch.ones(2).sum().item()\n")
        limits = SandboxLimits(timeout_s=60, memory_mb=0)
        with Sandbox(preload=("numpy", "torch")) as sandbox:
            first = sandbox.run(program, [CandidateCall("f")], limits)  # starts the zygote
            assert first.ok, first.reason
            warm = []
            for _ in range(runs):
                start = time.perf_counter()
                result = sandbox.run(program, [CandidateCall("f")], limits)
                warm.append(time.perf_counter() - start)
                assert result.ok, result.reason
            isolation = result.isolation
        cold = []
        for _ in range(max(3, runs // 5)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch"], check=True)
            cold.append(time.perf_counter() - start)
    w, c = statistics.median(warm), statistics.median(cold)
    print(f"sandbox run (warm zygote, torch preloaded): {w * 1000:.1f} ms median over {runs}")
    print(f"cold 'python -c \"import torch\"':           {c * 1000:.1f} ms median")
    print(f"ratio cold/warm: {c / w:.1f}x   isolation: {isolation}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
