"""Promises made in the docs that the code must keep (found by auditing docs against code)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from evolve.cli import main
from evolve.config import LLMConfig, ModelConfig, load_config
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationResult
from evolve.llm import build_backend
from evolve.llm.base import Completion, GenerationParams


class EchoBackend:
    """A third-party backend, built the way ``evolve.llm.BACKENDS`` builds providers."""

    def __init__(self, model: ModelConfig, llm: LLMConfig, *, where: str, rng: random.Random) -> None:
        self.name = model.name
        self.where = where

    async def complete(self, messages: list[dict[str, str]], params: GenerationParams) -> Completion:
        return Completion(text=messages[-1]["content"], model=self.name, prompt_tokens=1,
                          completion_tokens=1, cost_usd=0.0, latency_s=0.0)


def test_a_third_party_provider_passes_config_validation_and_builds() -> None:
    # docs/authoring.md: backends plug in by entry point or import path; the config schema
    # must not restrict llm.models[].provider to the built-in names.
    provider = f"{__name__}:EchoBackend"
    cfg = load_config(None, overrides=[f"llm.models=[{{name: echo, provider: '{provider}'}}]"])
    assert cfg.llm.models[0].provider == provider
    backend = build_backend(cfg.llm, seed=0)
    assert isinstance(backend, EchoBackend)
    assert backend.name == "echo" and backend.where == "llm.models[0]"


def test_an_unknown_provider_is_a_user_error_naming_the_key() -> None:
    cfg = load_config(None, overrides=["llm.models=[{name: m, provider: no-such-provider}]"])
    with pytest.raises(UserError) as caught:
        build_backend(cfg.llm, seed=0)
    assert caught.value.where == "llm.models[0].provider"
    assert "no-such-provider" in str(caught.value)


def test_provider_must_still_be_a_string() -> None:
    with pytest.raises(UserError) as caught:
        load_config(None, overrides=["llm.models=[{name: m, provider: 3}]"])
    assert "provider" in str(caught.value)


PROBLEMS = Path(__file__).resolve().parents[1] / "problems"


def test_eval_prints_candidate_text_literally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A reason or traceback holding rich markup ("[/]") used to crash `evolve eval` with a
    # MarkupError traceback; it must be printed as it is.
    candidate = tmp_path / "markup.py"
    candidate.write_text('def run_packing():\n    raise ValueError("bad [/] tag [bold]x")\n')
    code = main(["eval", str(PROBLEMS / "circle_packing"), str(candidate)])
    out = capsys.readouterr().out
    assert code == 0
    assert "invalid" in out and "bad [/] tag [bold]x" in out
    assert 'raise ValueError("bad [/] tag [bold]x")' in out  # the traceback artifact


def test_eval_keeps_brackets_in_metric_names(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # kernelbench reports per-shape metrics such as candidate_ms[rows=4,cols=64].
    from evolve.evaluation import executor

    def fake_once(**_: object) -> EvaluationResult:
        return EvaluationResult(valid=True, score=1.0,
                                metrics={"candidate_ms[rows=4,cols=64]": 5.5, "candidate_ms[rows=3]": 4.0})

    monkeypatch.setattr(executor, "evaluate_file_once", fake_once)
    candidate = PROBLEMS / "circle_packing" / "initial_program.py"
    assert main(["eval", str(PROBLEMS / "circle_packing"), str(candidate)]) == 0
    out = capsys.readouterr().out
    assert "candidate_ms[rows=4,cols=64]: 5.5" in out and "candidate_ms[rows=3]: 4" in out


def test_run_summary_keeps_brackets_in_metric_names(tmp_path: Path) -> None:
    from rich.console import Console

    from evolve.controller import RunSummary
    from evolve.database.records import ProgramRecord, RunCounters
    from evolve.report.live import print_summary

    best = ProgramRecord(id="p" * 32, run_id="r", code="", valid=True, score=1.0,
                         metrics={"candidate_ms[rows=4,cols=64]": 5.5})
    summary = RunSummary(run_id="r", run_dir=tmp_path / "run[1]", best=best, initial_best=1.0,
                         counters=RunCounters(iterations=1), stop_reason="budget [/] reached")
    console = Console(record=True, width=400, highlight=False)
    print_summary(summary, console)
    text = console.export_text()
    assert "candidate_ms[rows=4,cols=64]=5.5" in text
    assert "budget [/] reached" in text and "run[1]" in text
