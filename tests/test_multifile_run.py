"""A folder program (two Python modules and a C file built with gcc in the sandbox) through
the real loop: edits landing in each file, a compiler error fed back, resume, storage,
and the per-file views (`evolve diff`, `evolve show --file`, the report)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from evolve.codebase import editable_paths
from evolve.controller import Controller
from evolve.database.records import ProgramRecord
from evolve.database.store import Store
from evolve.llm.base import Completion, GenerationParams
from evolve.problem import load_problem
from evolve.runs import create_run

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "problems" / "knapsack_ctypes"
EDITABLE = {"fill.c", "scoring.py", "solver.py"}
SERIAL = ["llm.concurrency=1", "evaluation.workers=1"]


def evolve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900, check=False)


def changed_files(child: ProgramRecord, programs: dict[str, ProgramRecord]) -> set[str]:
    parent = programs[child.parent_id] if child.parent_id else None
    assert parent is not None and set(child.files) == set(parent.files)
    return {path for path in child.files if child.files[path] != parent.files[path]}


@pytest.mark.slow
def test_offline_run_resume_and_per_file_views(tmp_path: Path) -> None:
    sets = [arg for item in SERIAL for arg in ("--set", item)]
    made = evolve("run", str(EXAMPLE), "--iterations", "14", "--out", "runs", "--name", "ks",
                  *sets, cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-3000:]
    run_dir = tmp_path / "runs" / "ks"
    resumed = evolve("resume", str(run_dir), "--iterations", "8", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    with Store.open_for_reading(run_dir / "evolve.db") as store:
        run = store.runs()[0]
        assert store.counters(run.id).iterations == 22
        programs = {p.id: p for p in store.programs(run.id)}
        assert all(sorted(p.files) == ["fill.c", "fill.h", "scoring.py", "solver.py"]
                   for p in programs.values()), "every program, also after resume, is a folder"
        children = [p for p in programs.values() if p.origin == "llm"]
        assert max(p.iteration for p in children) > 14, "the resumed run made children"
        touched = set().union(*(changed_files(p, programs) for p in children))
        assert touched == EDITABLE, "the offline engine edits each editable file"
        assert all(p.files["fill.h"] == programs[children[0].parent_id or ""].files["fill.h"]
                   for p in programs.values()), "the context file never changes"
        assert any(p.valid and p.iteration > 14 for p in children)
        # content-addressed: each distinct text once, unchanged files shared by all programs
        distinct = {text for p in programs.values() for text in p.files.values()}
        assert store.count_file_blobs() == len(distinct)
        assert store.count_file_blobs() < sum(len(p.files) for p in programs.values()) / 2
        best = store.best_program(run.id)
        assert best is not None
    for path, text in best.files.items():
        assert (run_dir / "best_program" / path).read_text() == text

    child = next(p for p in children if changed_files(p, programs))
    diff = evolve("diff", str(run_dir), child.id, "--plain", cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    for path in EDITABLE | {"fill.h"}:
        shown = f"+++ b/{child.id[:12]}/{path}" in diff.stdout
        assert shown == (path in changed_files(child, programs)), (path, diff.stdout)

    everything = evolve("show", str(run_dir), best.id, cwd=tmp_path)
    assert everything.returncode == 0, everything.stderr
    for path in ("fill.c", "fill.h", "scoring.py", "solver.py"):
        assert f"file: {path}" in everything.stdout
    one = evolve("show", str(run_dir), best.id, "--file", "fill.c", cwd=tmp_path)
    assert one.returncode == 0 and one.stdout == best.files["fill.c"]
    missing = evolve("show", str(run_dir), best.id, "--file", "nope.c", cwd=tmp_path)
    assert missing.returncode == 2 and "has no file 'nope.c'" in missing.stderr

    report = evolve("report", str(run_dir), "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "r.html").read_text()
    for path in ("fill.c", "fill.h", "scoring.py", "solver.py"):
        assert f'<h5 class="file">{path}</h5>' in html
    chain = [best]
    while chain[-1].parent_id:
        chain.append(programs[chain[-1].parent_id])
    steps = [changed_files(p, programs) for p in chain[:-1] if p.origin == "llm"]
    for path in set().union(*steps):
        assert f"b/{path}" in html, "lineage diffs are per file"


class Scripted:
    """A model answering from a script of ``(name, iterations, answer)`` entries, in order;
    an entry named ``retry...`` answers only a prompt asking again (the fix prompt), the
    others only first prompts. Each answers once ``iterations`` iterations are committed
    (the loop runs two iterations at once; this fixes when each prompt is planned) and
    ``prompts[name]`` keeps the prompt it answered."""

    name = "scripted"

    def __init__(self, script: list[tuple[str, int, Any]]) -> None:
        self.script = list(script)
        self.prompts: dict[str, str] = {}
        self.store: Store | None = None
        self.run_id = ""

    async def complete(self, messages: list[dict[str, str]],
                       params: GenerationParams) -> Completion:
        prompt = messages[-1]["content"]
        again = "# Your previous answer could not be used" in prompt
        entry = next(e for e in self.script if e[0].startswith("retry") == again)
        self.script.remove(entry)
        name, wait_for, answer = entry
        self.prompts[name] = prompt
        assert params.context is not None and params.context.files, "a folder parent"
        assert self.store is not None
        deadline = time.monotonic() + 120
        while self.store.counters(self.run_id).iterations < wait_for:
            assert time.monotonic() < deadline, f"{name}: iteration {wait_for} never committed"
            await asyncio.sleep(0.02)
        return Completion(text=answer(params.context.files), model="scripted", prompt_tokens=1,
                          completion_tokens=1, cost_usd=0.0, latency_s=0.0)


def replace_line(path: str, pattern: str, new: str) -> Any:
    """An answer replacing the parent's line matching ``pattern`` in ``path``."""
    def answer(files: dict[str, str]) -> str:
        found = re.search(rf"^.*{pattern}.*$", files[path], re.MULTILINE)
        assert found, f"{path} has a line matching {pattern}"
        old = found.group(0)
        indent = old[: len(old) - len(old.lstrip())]
        return f"Change {path}.\n\n{path}\n<<<<<<< SEARCH\n{old}\n=======\n{indent}{new}\n" \
               ">>>>>>> REPLACE\n"
    return answer


def test_edits_land_in_each_file_and_compile_errors_are_fed_back(tmp_path: Path) -> None:
    backend = Scripted([
        ("solver", 0, replace_line("solver.py", r"passes = ", "passes = 2")),
        ("scoring", 1, replace_line("scoring.py", r"WEIGHT_EXPONENT = ", "WEIGHT_EXPONENT = 1.0")),
        ("fill", 2, replace_line("fill.c", r"double min_gain = ", "double min_gain = 0.0;")),
        ("broken", 3, replace_line("fill.c", r"double min_gain = ", "double min_gain = 0.25")),
        ("context", 4, replace_line("fill.h", r"int fill\(", "int fill(long n, double *v,")),
        ("retry", 4, replace_line("scoring.py", r"WEIGHT_EXPONENT = ", "WEIGHT_EXPONENT = 0.9")),
        ("after", 4, replace_line("solver.py", r"passes = ", "passes = 3")),
    ])
    problem = load_problem(EXAMPLE, overrides=[
        *SERIAL, "database.num_islands=1", "budget.iterations=6", "search.retry_failed_edit=true"])
    run = create_run(problem, tmp_path / "runs", "scripted")
    backend.store, backend.run_id = run.store, run.run_id
    controller = Controller(problem, run.store, run.run_id, run.run_dir, backend=backend)
    asyncio.run(controller.run())
    assert not backend.script, "every scripted answer was asked for"

    programs = {p.id: p for p in run.store.programs(run.run_id)}
    children = sorted((p for p in programs.values() if p.origin == "llm"),
                      key=lambda p: p.iteration)
    landed = [changed_files(p, programs) for p in children]
    assert landed == [{"solver.py"}, {"scoring.py"}, {"fill.c"}, {"fill.c"}, {"scoring.py"},
                      {"solver.py"}]
    assert all(p.valid for p in children[:3]) and children[1].score > children[0].score
    assert "## fill.h (context: read-only)" in backend.prompts["solver"]

    broken = children[3]
    assert not broken.valid
    assert broken.reason.startswith("build `gcc -O2 -std=c99 -shared -fPIC -o libfill.so fill.c`"
                                    " exited with status 1: fill.c:")
    assert "error" in broken.reason and "fill.c:" in broken.artifacts["build_output"]
    # an edit of the context file is refused, and the model is told why at once
    assert "'fill.h' has no EVOLVE-BLOCK: it is context" in backend.prompts["retry"]
    # the prompt planned after the broken build shows the compiler's output
    compiler_line = broken.artifacts["build_output"].splitlines()[1]
    assert compiler_line.strip() and compiler_line in backend.prompts["after"]
    assert "### build_output" in backend.prompts["after"]
    assert compiler_line not in backend.prompts["broken"], "not shown before the build failed"
    run.store.close()


def test_evolve_eval_scores_a_folder_and_reports_its_build(tmp_path: Path) -> None:
    good = evolve("eval", str(EXAMPLE), str(EXAMPLE / "program"), "--json", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    result = json.loads(good.stdout)
    assert result["valid"] and 0.8 < result["score"] < 1.0
    assert not (EXAMPLE / "program" / "libfill.so").exists(), "the user's folder stays clean"
    folder = tmp_path / "candidate"
    folder.mkdir()
    for path in editable_paths(load_problem(EXAMPLE).folders["program"]) + ["fill.h"]:
        (folder / path).write_text((EXAMPLE / "program" / path).read_text())
    (folder / "fill.c").write_text((folder / "fill.c").read_text().replace("used = 0.0;",
                                                                          "used = 0.0"))
    bad = evolve("eval", str(EXAMPLE), str(folder), "--json", cwd=tmp_path)
    result = json.loads(bad.stdout)
    assert not result["valid"] and "exited with status 1: fill.c:" in result["reason"]
    assert "error" in result["artifacts"]["build_output"]
