"""`evolve run FOLDER` on OpenEvolve and ShinkaEvolve folders, offline: the initial program
scores what the folder's own evaluator returns, and every view says compatibility mode."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support_foreign import FOLDERS, evolve, openevolve_metrics, shinka_results

from evolve.evaluation.types import COMPATIBILITY_NOTE
from evolve.runs import open_run


def initial_record(run_dir: Path):  # type: ignore[no-untyped-def]
    run = open_run(run_dir)
    try:
        programs = list(run.store.programs(run.run_id))
        counters = run.store.counters(run.run_id)
    finally:
        run.close()
    initial = [p for p in programs if p.origin == "initial" and p.parent_id is None]
    assert len(initial) == 1
    return initial[0], programs, counters


def expected_score(name: str) -> float:
    folder = FOLDERS / name
    if name.startswith("shinka"):
        results = shinka_results(folder, folder / "initial.py")
        assert results["correct"]["correct"] is True
        return float(results["metrics"]["combined_score"])
    if name == "openevolve_cascade":  # stage 1 passes its threshold (0.05), so stage 2 decides
        stage1 = openevolve_metrics(folder, folder / "initial_program.py", "evaluate_stage1")
        assert stage1["combined_score"] >= 0.05
        return float(openevolve_metrics(folder, folder / "initial_program.py",
                                        "evaluate_stage2")["combined_score"])
    return float(openevolve_metrics(folder, folder / "initial_program.py")["combined_score"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each folder run offline for 3 iterations: name -> (run folder, stdout)."""
    out = tmp_path_factory.mktemp("runs")
    done = {}
    for name in ("openevolve_cascade", "openevolve_artifacts", "openevolve_llm",
                 "shinka_knapsack"):
        proc = evolve("run", str(FOLDERS / name), "--iterations", "3", "--out", str(out),
                      "--name", name, "--set", "llm.models=[]")
        assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
        done[name] = (out / name, proc.stdout)
    return done


@pytest.mark.slow
@pytest.mark.parametrize("name", ["openevolve_cascade", "openevolve_artifacts", "openevolve_llm",
                                  "shinka_knapsack"])
def test_the_initial_program_scores_what_the_folders_evaluator_returns(
        runs: dict[str, tuple[Path, str]], name: str) -> None:
    run_dir, stdout = runs[name]
    initial, programs, counters = initial_record(run_dir)
    assert initial.valid, initial.reason
    assert initial.score == expected_score(name)
    assert counters.iterations == 3
    assert any(p.origin == "llm" for p in programs)  # children were evaluated the same way
    title = "ShinkaEvolve" if name.startswith("shinka") else "OpenEvolve"
    assert f"is read as a folder of {title}" in stdout
    assert COMPATIBILITY_NOTE in stdout.split("evolve run summary")[1]  # in the summary


@pytest.mark.slow
def test_what_each_format_brings_back(runs: dict[str, tuple[Path, str]]) -> None:
    cascade, _, _ = initial_record(runs["openevolve_cascade"][0])
    assert cascade.metrics["cascade_stages_run"] == 2
    assert cascade.metrics["stage1_error"] > cascade.metrics["stage2_error"] > 0
    artifacts, _, _ = initial_record(runs["openevolve_artifacts"][0])
    assert artifacts.metrics["sorted_fraction"] == 0.75 and artifacts.metrics["cases"] == 8
    assert artifacts.artifacts["feedback"].startswith("2 of 8 lists came back unsorted")
    assert artifacts.artifacts["first_output"] == "[1, 2, 3]"  # bytes artifact, decoded
    shinka, _, _ = initial_record(runs["shinka_knapsack"][0])
    assert (shinka.metrics["value"], shinka.metrics["weight"]) == (19, 15)
    assert shinka.holdout == {"optimum": 20.0}  # "private": stored, never in prompts
    assert shinka.artifacts["text_feedback"] == "value 19 of a possible 20, weight 15"
    assert shinka.artifacts["chosen"] == "[0, 1, 6]"


@pytest.mark.slow
def test_show_report_and_resume_say_compatibility_mode(
        runs: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    run_dir = runs["openevolve_cascade"][0]
    shown = evolve("show", str(run_dir), "--no-code")
    assert shown.returncode == 0, shown.stderr
    assert f"trust: {COMPATIBILITY_NOTE}" in shown.stdout
    report = evolve("report", str(run_dir), "-o", str(tmp_path / "report.html"))
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "report.html").read_text()
    assert 'id="compatibility-mode"' in page and COMPATIBILITY_NOTE in page
    resumed = evolve("resume", str(run_dir), "--iterations", "1")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert COMPATIBILITY_NOTE in resumed.stdout.split("evolve run summary")[1]
    run = open_run(run_dir)
    try:
        assert run.store.counters(run.run_id).iterations == 4
        assert len(run.store.events(run.run_id, "compatibility_mode")) == 1  # recorded once
    finally:
        run.close()


@pytest.mark.slow
def test_a_native_run_says_nothing_of_compatibility_mode(tmp_path: Path) -> None:
    proc = evolve("run", "problems/circle_packing", "--iterations", "1", "--out",
                  str(tmp_path), "--name", "native")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert COMPATIBILITY_NOTE not in proc.stdout
    shown = evolve("show", str(tmp_path / "native"), "--no-code")
    assert "compatibility mode" not in shown.stdout


@pytest.mark.parametrize("name, initial", [("openevolve_cascade", "initial_program.py"),
                                           ("shinka_knapsack", "initial.py")])
def test_import_writes_the_equivalent_native_folder(tmp_path: Path, name: str,
                                                    initial: str) -> None:
    from evolve.problem import load_problem

    fmt = "shinka" if name.startswith("shinka") else "openevolve"
    target = tmp_path / "imported"
    proc = evolve("import", fmt, str(FOLDERS / name), "-o", str(target))
    assert proc.returncode == 0, proc.stderr[-3000:]
    foreign, native = load_problem(FOLDERS / name), load_problem(target)
    assert native.layout == "" and native.warnings == []
    assert native.description.strip() == foreign.description.strip()
    assert native.initial_programs == foreign.initial_programs
    for section in ("evaluator", "evaluator_args", "constraints", "budget", "llm", "database",
                    "prompt", "search", "evaluation", "seed"):
        assert getattr(native.config, section) == getattr(foreign.config, section), section
    text = (target / "problem.yaml").read_text()
    assert text.startswith(f"# Imported from the {'ShinkaEvolve' if fmt == 'shinka' else 'OpenEvolve'} folder")
    for warning in foreign.warnings:  # what did not carry over is printed and kept
        assert f"#   {warning}\n" in text and f"warning: {warning}" in proc.stdout
    assert f"try: evolve eval {target} {target / initial}" in proc.stdout
    scored = evolve("eval", str(target), str(target / initial), "--json")
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert '"compatibility_mode": true' in scored.stdout
    assert f'"score": {expected_score(name)!r}' in scored.stdout
    again = evolve("import", fmt, str(FOLDERS / name), "-o", str(target))
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "exists and is not empty (use --force" in again.stderr
    assert evolve("import", fmt, str(FOLDERS / name), "-o", str(target), "--force").returncode == 0


def test_import_of_a_folder_in_another_format_is_one_clear_error(tmp_path: Path) -> None:
    proc = evolve("import", "shinka", str(FOLDERS / "openevolve_llm"), "-o", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {FOLDERS / 'openevolve_llm'}: not a ShinkaEvolve "
                                   "folder (see docs/importing.md for the files one holds)")


def test_eval_prints_the_trust_of_the_score() -> None:
    folder = FOLDERS / "openevolve_artifacts"
    proc = evolve("eval", str(folder), str(folder / "initial_program.py"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "score: 0.75" in proc.stdout and COMPATIBILITY_NOTE in proc.stdout


def test_a_foreign_run_can_use_the_folder_from_inside(tmp_path: Path) -> None:
    """Run from within the folder: its runs/ folder is never shipped into the sandbox."""
    folder = tmp_path / "oe"
    shutil.copytree(FOLDERS / "openevolve_artifacts", folder)
    proc = evolve("run", ".", "--iterations", "1", "--name", "inside", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from evolve.evaluation.task_files import task_paths

    assert task_paths(folder) == ["data/cases.json", "evaluator.py", "initial_program.py"]


def test_the_importers_keep_the_importer_contract(tmp_path: Path) -> None:
    from evolve.testing.importer_kit import check_importer

    both = check_importer("openevolve", [FOLDERS / "openevolve_cascade",
                                         FOLDERS / "openevolve_artifacts"], tmp_path / "oe")
    assert [f.name for f in both] == ["openevolve_cascade", "openevolve_artifacts"]
    assert (both[1] / "data" / "cases.json").is_file()  # the evaluator's data travels along
    check_importer("shinka", [FOLDERS / "shinka_knapsack"], tmp_path / "shinka",
                   {"config": "shinka.yaml"})
