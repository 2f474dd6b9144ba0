"""Foreign folders driven through the real openai client against the fake server: an
OpenEvolve config.yaml with primary_model / secondary_model / api_base, and a ShinkaEvolve
folder given models on the command line."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from support_fake_openai import FakeOpenAIServer, Reply
from support_foreign import FOLDERS, evolve, openevolve_metrics, shinka_results

from evolve.runs import open_run

CODE_BLOCK = re.compile(r"```(?:python)?\n(.*?)```", re.S)


def parent_code(body: dict[str, Any]) -> str:
    section = body["messages"][-1]["content"].split("# Current program", 1)[1]
    match = CODE_BLOCK.search(section)
    assert match, "the prompt shows the parent program in a code block"
    return match.group(1)


def replace_line(pattern: str, make: Any):  # type: ignore[no-untyped-def]
    """Answers with one SEARCH/REPLACE of the parent's line matching ``pattern``."""

    def respond(body: dict[str, Any]) -> Reply:
        if "# Current program" not in body["messages"][-1]["content"]:
            return Reply.ok("Keep the capacity check; try other orders.")  # a side call
        line = re.search(pattern, parent_code(body), re.M)
        assert line, f"the parent keeps a line matching {pattern}"
        return Reply.ok(f"A small change.\n<<<<<<< SEARCH\n{line.group(0)}\n=======\n"
                        f"{make(line.group(0))}\n>>>>>>> REPLACE\n")

    return respond


def stored(run_dir: Path) -> list[Any]:
    run = open_run(run_dir)
    try:
        return list(run.store.programs(run.run_id))
    finally:
        run.close()


@pytest.mark.slow
def test_openevolve_config_with_primary_model_and_api_base(tmp_path: Path) -> None:
    folder = tmp_path / "growth"
    shutil.copytree(FOLDERS / "openevolve_llm", folder)
    rng = random.Random(5)
    with FakeOpenAIServer() as server:
        config = (folder / "config.yaml").read_text()
        config = config.replace('"http://127.0.0.1:8000/v1"', f'"{server.base_url}"')
        (folder / "config.yaml").write_text(config)
        tune = replace_line(r"^RATE = .*$", lambda _: f"RATE = {rng.uniform(0.03, 0.12):.4f}")
        server.set_responder("fake-large", tune)
        server.set_responder("fake-small", tune)
        proc = evolve("run", str(folder), "--out", str(tmp_path / "runs"), "--name", "llm",
                      env={"FAKE_LLM_KEY": "key-from-the-environment"})
        requests = list(server.requests)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    assert len(requests) == 6  # max_iterations: 6
    for request in requests:
        body = request["body"]
        assert body["model"] in ("fake-large", "fake-small")
        assert body["temperature"] == 0.5
        assert body.get("max_tokens", body.get("max_completion_tokens")) == 2048
        assert request["headers"]["authorization"] == "Bearer key-from-the-environment"
        prompt = " ".join(m["content"] for m in body["messages"])
        assert "Find the yearly RATE for which growth(10) matches" in prompt  # system_message
    programs = stored(tmp_path / "runs" / "llm")
    initial = next(p for p in programs if p.origin == "initial")
    expected = openevolve_metrics(folder, folder / "initial_program.py")["combined_score"]
    assert initial.score == expected
    children = [p for p in programs if p.origin == "llm"]
    assert len(children) == 6
    for child in children:  # every child is scored by the folder's evaluator, unchanged
        path = tmp_path / f"{child.id}.py"
        path.write_text(child.code)
        assert child.valid, child.reason
        assert child.score == openevolve_metrics(folder, path)["combined_score"]
    assert max(c.score for c in children) > initial.score


@pytest.mark.slow
def test_shinka_folder_with_models_on_the_command_line(tmp_path: Path) -> None:
    folder = FOLDERS / "shinka_knapsack"
    by_ratio = "    order = sorted(range(len(values)), key=lambda i: -values[i] / weights[i])"
    with FakeOpenAIServer() as server:
        server.set_responder("m", replace_line(r"^    order = sorted\(.*$", lambda _: by_ratio))
        proc = evolve("run", str(folder), "--out", str(tmp_path / "runs"), "--name", "sk",
                      "--iterations", "2", "--set",
                      f"llm.models=[{{name: m, base_url: '{server.base_url}'}}]")
        requests = list(server.requests)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    edits = [r for r in requests if "# Current program" in r["body"]["messages"][-1]["content"]]
    assert len(edits) == 2
    assert "Choose knapsack items of the greatest total value" in " ".join(
        m["content"] for m in requests[0]["body"]["messages"])  # task_sys_msg
    programs = stored(tmp_path / "runs" / "sk")
    initial = next(p for p in programs if p.origin == "initial")
    assert initial.score == shinka_results(folder, folder / "initial.py")["metrics"][
        "combined_score"]
    child = next(p for p in programs if p.origin == "llm")
    assert by_ratio in child.code
    path = tmp_path / "child.py"
    path.write_text(child.code)
    reference = shinka_results(folder, path)
    assert child.valid and child.score == reference["metrics"]["combined_score"] == 0.9
    assert child.artifacts["text_feedback"] == reference["metrics"]["text_feedback"]
