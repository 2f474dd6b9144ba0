"""`evolve import kernelbench`: five KernelBench-format files at KernelBench's full sizes.

Each becomes a problem folder whose reference is the unchanged file; on CPU its sizes
scale down by the documented rule; the trusted process never builds inputs at full
size; and per file a correct Triton kernel is accepted while zeros, a constant, an
off-by-one denominator (for the matmul, reduction length) and a dropped tile are not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

import evaluators.kernelbench.inputs as kb_inputs
from evaluators.kernelbench import KernelBenchEvaluator
from evaluators.kernelbench.evaluator import interpreter_sandbox
from evolve.config import read_yaml
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from evolve.testing.importer_kit import check_importer

REPO = Path(__file__).resolve().parents[1]
FILES = REPO / "tests" / "kernelbench_candidates"
NAMES = ("softsign", "mean_reduction", "softmax", "rms_norm", "square_matmul")
# The documented rule: module-level integers >= 16 divided by the smallest power of two
# that brings inputs + parameters to at most 2**16 elements, never below 16.
CPU_SIZES = {
    "softsign": {"batch_size": 16, "dim": 1536},  # 4096 x 393216 / 256
    "mean_reduction": {"batch_size": 16, "dim1": 64, "dim2": 63},  # / 64; reduce_dim=1 kept
    "softmax": {"batch_size": 16, "dim": 1536},
    "rms_norm": {"batch_size": 16, "features": 16, "dim1": 16, "dim2": 16},  # / 16
    "square_matmul": {"N": 128},  # 4096 / 32
}
FULL_INPUT_BYTES = {"softsign": 4096 * 393216 * 4, "mean_reduction": 128 * 4096 * 4095 * 4,
                    "softmax": 4096 * 393216 * 4, "rms_norm": 16 * 64 * 256 * 256 * 4,
                    "square_matmul": 2 * 4096 * 4096 * 4}


def _cli(*args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "evolve.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kernelbench")
    out = root / "problems"
    with open(root / "stderr.txt", "w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evolve.cli", "import", "kernelbench",
             *(str(FILES / f"{n}.py") for n in NAMES), "-o", str(out)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        assert proc.returncode == 0, errors.read()[-3000:]
    # The importer counts elements on the meta device: its peak memory is the
    # interpreter and PyTorch, nowhere near the 6.4 GB of one softmax input.
    assert usage.ru_maxrss * 1024 < 2 * 1024**3, usage.ru_maxrss
    return out


def test_each_file_becomes_a_problem_whose_reference_is_the_unchanged_file(imported: Path) -> None:
    for name in NAMES:
        folder = imported / name
        assert (folder / "reference.py").read_bytes() == (FILES / f"{name}.py").read_bytes()
        program = (folder / "initial_program.py").read_text()
        assert "# EVOLVE-BLOCK-START\nclass ModelNew(nn.Module):" in program
        assert "def get_inputs" not in program
        args = read_yaml(folder / "problem.yaml")["evaluator_args"]
        assert args["shapes"] == {"cpu": [CPU_SIZES[name]], "gpu": [{}]}, name


def test_the_importer_keeps_the_importer_contract(tmp_path: Path) -> None:
    folders = check_importer("kernelbench", [FILES / "softsign.py", FILES / "softmax.py"],
                             tmp_path)
    assert [f.name for f in folders] == ["softsign", "softmax"]
    single = check_importer("kernelbench", [FILES / "square_matmul.py"], tmp_path / "one")
    assert single[0].name == "imported"


_EVALUATORS: dict[str, KernelBenchEvaluator] = {}


def _evaluator(folder: Path) -> KernelBenchEvaluator:
    if folder.name not in _EVALUATORS:
        args = dict(read_yaml(folder / "problem.yaml")["evaluator_args"], device="cpu")
        _EVALUATORS[folder.name] = KernelBenchEvaluator(folder, **args)
    return _EVALUATORS[folder.name]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    yield interpreter_sandbox()


def _evaluate(folder: Path, candidate: Path, sandbox: Sandbox) -> EvaluationResult:
    context = EvaluationContext(problem_dir=folder, sandbox=sandbox, timeout_s=300)
    return _evaluator(folder).evaluate(candidate, context)


def _candidate(tmp_path: Path, name: str, mode: str) -> Path:
    text = (FILES / "candidates" / f"{name}.py").read_text()
    path = tmp_path / f"{name}_{mode}.py"
    path.write_text(text.replace('MODE = "correct"', f'MODE = "{mode}"'))
    return path


REJECTED: dict[str, Callable[[str], str]] = {
    "zeros": lambda name: "wrong values: output is all zeros",
    "constant": lambda name: "wrong values: output is the constant 0.5 everywhere",
    "off_by_one": lambda name: "wrong values: max abs error",
    "dropped_tile": lambda name: "wrong values: max abs error",
}


@pytest.mark.parametrize("name", NAMES)
def test_a_correct_kernel_is_accepted_with_its_scale_recorded(name: str, imported: Path,
                                                             sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    result = _evaluate(imported / name, _candidate(tmp_path, name, "correct"), sandbox)
    assert result.valid, result.reason
    assert result.score == 1.0
    label = ",".join(f"{k}={v}" for k, v in CPU_SIZES[name].items())
    assert 0 < result.metrics[f"size_scale[{label}]"] < 0.01


@pytest.mark.parametrize("mode", list(REJECTED))
@pytest.mark.parametrize("name", NAMES)
def test_broken_kernels_are_rejected_with_a_specific_reason(name: str, mode: str, imported: Path,
                                                            sandbox: Sandbox,
                                                            tmp_path: Path) -> None:
    result = _evaluate(imported / name, _candidate(tmp_path, name, mode), sandbox)
    assert not result.valid and result.score == 0.0
    assert REJECTED[mode](name) in result.reason, result.reason


def _memory(field: str) -> int:
    with open("/proc/self/status") as fh:
        line = next(x for x in fh if x.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def _peak_rss_growth(run: Callable[[], EvaluationResult]) -> tuple[int, EvaluationResult]:
    """Growth of this process's peak resident memory while ``run`` runs (Linux)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak ("high water mark") to the current size
    start = _memory("VmRSS")
    result = run()
    return _memory("VmHWM") - start, result


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_the_trusted_process_never_builds_inputs_at_full_size(
        imported: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    devices: list[str] = []
    original = kb_inputs.make_inputs

    def recording(module: Any, kwargs: dict[str, Any], key: int, device: str) -> list[Any]:
        devices.append(device)
        return original(module, kwargs, key, device)

    monkeypatch.setattr(kb_inputs, "make_inputs", recording)
    # One unmeasured evaluation first: the process's first one also imports modules.
    _evaluate(imported / "softsign", imported / "softsign" / "initial_program.py", sandbox)
    for name in NAMES:
        _EVALUATORS.pop(name, None)  # build the evaluator (and count sizes) inside the window
        folder = imported / name
        growth, result = _peak_rss_growth(
            lambda folder=folder: _evaluate(folder, folder / "initial_program.py", sandbox))
        assert result.valid, result.reason
        assert growth < FULL_INPUT_BYTES[name] / 4, (name, growth)
    # Inputs are built in sandbox processes; here only on the meta device (sizes).
    assert devices and set(devices) == {"meta"}, devices


def test_import_errors_are_one_line_and_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "not_kernelbench.py"
    bad.write_text("import torch\nx = 1\n")
    code, _, err = _cli("import", "kernelbench", str(bad), "-o", str(tmp_path / "out"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(bad) in err and "defines Model" in err
    code, _, err = _cli("import", "openevolvx", str(bad), "-o", str(tmp_path / "out"))
    assert code == 2 and "unknown import format 'openevolvx'" in err
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    code, _, err = _cli("import", "kernelbench", str(FILES / "softsign.py"), "-o", str(target))
    assert code == 2 and "use --force" in err and (target / "keep.txt").exists()


def test_an_imported_problem_runs_through_evolve_eval(imported: Path) -> None:
    import json

    folder = imported / "softsign"
    code, out, err = _cli("eval", str(folder), str(folder / "initial_program.py"), "--json")
    assert code == 0, err[-2000:]
    data = json.loads(out)
    assert data["valid"] and data["score"] == 1.0
    assert any(re.match(r"size_scale\[batch_size=16,dim=1536\]", k) for k in data["metrics"])
