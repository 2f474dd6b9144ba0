"""`evolve config validate` makes exactly the checks `evolve run` makes before it creates a
run folder, and both name where a bad value came from.

Every case runs both commands as a user would (subprocesses) and expects the same one
error line from each, and no run folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support_fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parent.parent
EPLB = REPO / "problems" / "eplb"


def evolve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=300, env=env, check=False)


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def validate_and_run(tmp_path: Path, problem: Path, *args: str,
                     env: dict[str, str] | None = None) -> str:
    """The error line, after checking that validate and run print the same one and that run
    left no run folder behind."""
    validated = error_line(evolve("config", "validate", str(problem), *args, env=env))
    out = tmp_path / "runs"
    ran = error_line(evolve("run", str(problem), "--out", str(out), *args, env=env))
    assert validated == ran
    assert not out.exists(), list(out.rglob("*"))
    return ran


CASES = {
    # a typo in an argument name: the evaluator's signature, with the closest name
    "evaluator_args.num_gpu=5": ("--set evaluator_args.num_gpu=5: evaluator_args.num_gpu",
                                 "did you mean 'num_gpus'?"),
    # values the evaluator's own constructor rejects
    "evaluator_args.num_gpus=5": ("--set evaluator_args.num_gpus=5: evaluator_args.num_gpus",
                                  "multiple of num_nodes"),
    "evaluator_args.num_gpus=abc": ("--set evaluator_args.num_gpus=abc: evaluator_args.num_gpus",
                                    "positive integer"),
    # an unknown LLM provider
    "llm.models=[{name: gpt-4o, provider: opnai}]": (
        "llm.models[0].provider", "did you mean 'openai'?"),
    # an unknown key anywhere in the config
    "budgett.iterations=3": ("--set budgett.iterations=3: budgett", "did you mean 'budget'?"),
}


@pytest.mark.parametrize("override", list(CASES))
def test_validate_rejects_what_run_rejects_and_blames_the_command_line(
        override: str, tmp_path: Path) -> None:
    line = validate_and_run(tmp_path, EPLB, "--set", override)
    where, advice = CASES[override]
    assert where in line and advice in line, line
    assert "problem.yaml" not in line  # the bad value came from the command line


def test_a_bad_value_in_problem_yaml_blames_problem_yaml(tmp_path: Path) -> None:
    problem = tmp_path / "eplb"
    shutil.copytree(EPLB, problem)
    spec = problem / "problem.yaml"
    spec.write_text(spec.read_text().replace("num_gpus: 32", "num_gpus: 30"))
    line = validate_and_run(tmp_path, problem)
    assert f"{spec}: evaluator_args.num_gpus" in line and "multiple of" in line, line


def test_a_config_file_value_blames_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "my.yaml"
    config.write_text("evaluator_args: {num_nodes: 3}\n")
    line = validate_and_run(tmp_path, EPLB, "--config", str(config))
    assert f"{config}: evaluator_args.num_" in line, line


def without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


def test_litellm_provider_key_is_checked_before_anything_starts(tmp_path: Path) -> None:
    pytest.importorskip("litellm")
    line = validate_and_run(tmp_path, EPLB, "--set",
                            "llm.models=[{name: anthropic/claude-sonnet-4, provider: litellm}]",
                            env=without("ANTHROPIC_API_KEY"))
    assert "llm.models[0].api_key_env" in line and "ANTHROPIC_API_KEY" in line, line


@pytest.mark.parametrize("provider", ["openai", "litellm"])
def test_custom_server_key_named_by_api_key_env(provider: str, tmp_path: Path) -> None:
    if provider == "litellm":
        pytest.importorskip("litellm")
    model = (f"llm.models=[{{name: openai/m, provider: {provider}, "
             "base_url: 'https://llm.example.invalid/v1', api_key_env: EVOLVE_TEST_NO_SUCH_KEY}]")
    line = validate_and_run(tmp_path, EPLB, "--set", model, env=without("EVOLVE_TEST_NO_SUCH_KEY"))
    assert "llm.models[0].api_key_env" in line and "EVOLVE_TEST_NO_SUCH_KEY" in line, line


def test_unreachable_server_fails_the_start(tmp_path: Path) -> None:
    model = "llm.models=[{name: m, base_url: 'http://127.0.0.1:9/v1'}]"
    line = validate_and_run(tmp_path, EPLB, "--set", model)
    assert "llm.models[0].base_url" in line and "cannot reach" in line and "127.0.0.1:9" in line


def test_a_reachable_server_passes_and_validate_says_what_it_checked() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url
        proc = evolve("config", "validate", str(EPLB), "--set",
                      f"llm.models=[{{name: m, base_url: '{url}'}}]")
        assert not server.requests  # the probe asks nothing of the model
    assert proc.returncode == 0, proc.stderr
    assert "configuration is valid" in proc.stdout
    assert "evaluator 'eplb' built with its arguments" in proc.stdout
    assert f"LLM server {url} answers" in proc.stdout


def test_novelty_embeddings_key_is_checked_too(tmp_path: Path) -> None:
    line = validate_and_run(tmp_path, EPLB, "--set", "search.novelty.enabled=true",
                            "--set", "search.novelty.embedding.model=text-embedding-3-small",
                            "--set", "search.novelty.embedding.api_key_env=EVOLVE_TEST_NO_SUCH_KEY",
                            env=without("EVOLVE_TEST_NO_SUCH_KEY"))
    assert "search.novelty.embedding.api_key_env" in line and "EVOLVE_TEST_NO_SUCH_KEY" in line
