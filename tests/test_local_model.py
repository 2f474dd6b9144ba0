"""A few iterations against a real local model, end to end (opt-in; skipped by default).

Either point at a running OpenAI-compatible server (llama.cpp's llama-server, Ollama,
vLLM, LM Studio, ...):

    EVOLVE_TEST_LLM_URL=http://127.0.0.1:8080/v1 [EVOLVE_TEST_LLM_MODEL=name] pytest tests/test_local_model.py

or give a GGUF file, and llama.cpp's ``llama-server`` (found on PATH) is started for it
on a free port for the test:

    EVOLVE_TEST_GGUF=~/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf pytest tests/test_local_model.py

``EVOLVE_TEST_LLM_MODE`` (diff or rewrite, default diff) picks the edit format (see
docs/local_models.md). A small model's answers vary; the test checks the plumbing:
every answer is kept, becomes a candidate or fails with a recorded reason, the counters
add up, the run ends by its budget (or gives up with status failed and says why), and the
report and ``evolve show`` read it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from evolve.database.answers import failure_reason

REPO = Path(__file__).resolve().parent.parent
ITERATIONS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama-server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1.0)
    raise TimeoutError(f"llama-server did not answer {url} within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, str]]:
    """(base URL, model name) of a real model, or the test is skipped."""
    url = os.environ.get("EVOLVE_TEST_LLM_URL")
    model = os.environ.get("EVOLVE_TEST_LLM_MODEL", "local")
    if url:
        yield url, model
        return
    gguf = os.environ.get("EVOLVE_TEST_GGUF")
    if not gguf:
        pytest.skip("set EVOLVE_TEST_LLM_URL (an OpenAI-compatible server) or EVOLVE_TEST_GGUF "
                    "(a GGUF file, with llama-server on PATH) to run against a real model")
    server = shutil.which("llama-server")
    if server is None:
        pytest.skip("EVOLVE_TEST_GGUF is set but llama.cpp's llama-server is not on PATH")
    path = Path(gguf).expanduser()
    if not path.is_file():
        pytest.fail(f"EVOLVE_TEST_GGUF: no such file {path}")
    port = _free_port()
    process = subprocess.Popen(
        [server, "-m", str(path), "--host", "127.0.0.1", "--port", str(port), "-c", "8192",
         "--jinja"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/v1", path.stem
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def evolve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True,
                          text=True, check=False, cwd=cwd, timeout=3600)


def test_a_few_iterations_against_a_real_model(endpoint: tuple[str, str], tmp_path: Path) -> None:
    from evolve.report.html import build_report
    from evolve.report.source import load_run

    url, model = endpoint
    mode = os.environ.get("EVOLVE_TEST_LLM_MODE", "diff")
    proc = evolve(
        "run", str(REPO / "problems" / "circle_packing"), "--out", str(tmp_path), "--name", "local",
        "--iterations", str(ITERATIONS),
        "--set", f"llm.models=[{{name: '{model}', base_url: '{url}'}}]",
        "--set", "llm.max_tokens=2048", "--set", "llm.timeout_s=600", "--set", "llm.concurrency=1",
        "--set", f"prompt.mode={mode}", "--set", "database.num_islands=1",
        "--set", "evaluation.workers=1", cwd=tmp_path)
    assert proc.returncode in (0, 3), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    run_dir = tmp_path / "local"
    with load_run(run_dir) as handle:
        store, run_id = handle.store, handle.run_id
        calls = store.llm_calls(run_id)
        counters = store.counters(run_id)
        assert counters.llm_calls == len(calls) >= min(ITERATIONS, counters.iterations)
        assert counters.prompt_tokens > 0 and counters.completion_tokens > 0
        for call in calls:
            assert call.outcome, "every answer says what it led to"
            kept = store.transcript(call.id) if call.id is not None else None
            assert kept is not None and kept.messages, "every prompt and answer is kept"
            if call.ok:
                assert kept.answer or kept.reasoning
        failed = [c for c in calls if failure_reason(c)]
        if proc.returncode == 3:
            assert store.get_run(run_id).status == "failed" and failed
        assert "Answers without a candidate" in build_report(handle)
    listed = evolve("show", str(run_dir), "--failures", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    if calls:
        shown = evolve("show", str(run_dir), "--call", str(calls[0].id), cwd=tmp_path)
        assert shown.returncode == 0 and "[answer]" in shown.stdout
