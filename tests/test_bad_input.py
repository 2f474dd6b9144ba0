"""User-caused errors beyond tests/test_cli_errors.py: one line on stderr naming the
file/key, exit code 2, no traceback, nothing created or modified on the way out."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evolve.problem import load_problem
from evolve.runs import create_run

REPO = Path(__file__).resolve().parent.parent
PROGRAM = "# EVOLVE-BLOCK-START\nX = 1\n# EVOLVE-BLOCK-END\n"
BINARY = bytes(range(256)) * 4  # not UTF-8


def evolve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True, check=False,
                          text=True, cwd=REPO, timeout=120)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def problem_folder(tmp_path: Path, spec: str, files: dict[str, str | bytes | None] | None = None) -> Path:
    """A problem folder; a file given as None becomes a directory of that name."""
    folder = tmp_path / "problem"
    folder.mkdir()
    (folder / "problem.yaml").write_text(spec)
    for name, content in ({"initial_program.py": PROGRAM} | (files or {})).items():
        target = folder / name
        if content is None:
            target.mkdir()
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return folder


def run_refused(tmp_path: Path, folder: Path, *needles: str) -> str:
    out = tmp_path / "runs"
    line = assert_one_line_error(evolve("run", str(folder), "--out", str(out)), *needles)
    assert not out.exists(), "a refused run must not leave a run folder behind"
    return line


# ---------------------------------------------------------------- config files


@pytest.mark.parametrize("content, needle", [
    (None, "Is a directory"),
    (BINARY, "not a text file"),
    ("- a\n- b\n", "expected a mapping at the top level, got list"),
    ("llm: {modles: []}\n", "llm.modles: unknown key"),
    ("budget: {iterations: many}\n", "budget.iterations: expected"),
    ("evaluation: {workers: 0}\n", "evaluation.workers"),
])
def test_bad_config_file(tmp_path: Path, content: str | bytes | None, needle: str) -> None:
    path = tmp_path / "cfg.yaml"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    proc = evolve("config", "validate", "--config", str(path))
    assert_one_line_error(proc, needle)
    if content is not None and "workers" not in needle:
        assert str(path) in proc.stderr  # names the file


# ---------------------------------------------------------------- problem specs


@pytest.mark.parametrize("spec, key, needle", [
    ("evaluator: circle_packing\nconstraints: {timeout_s: slow}\n", "constraints.timeout_s", "expected float"),
    ("evaluator: circle_packing\ninitial_programs: 5\n", "initial_programs", "expected list"),
    ("evaluator: circle_packing\nhints: hello\n", "hints", "expected list"),
    ("evaluator: circle_packing\nhints: [{after_iterations: soon, text: x}]\n", "after_iterations", "expected int"),
    ("evaluator: [circle_packing]\n", "evaluator", "expected str"),
    ("evaluator: circle_packing\nevaluator_args: [1, 2]\n", "evaluator_args", "expected"),
])
def test_bad_types_in_problem_yaml(tmp_path: Path, spec: str, key: str, needle: str) -> None:
    folder = problem_folder(tmp_path, spec)
    run_refused(tmp_path, folder, str(folder / "problem.yaml"), key, needle)


def test_unknown_argument_of_a_real_evaluator(tmp_path: Path) -> None:
    folder = problem_folder(tmp_path, "evaluator: eplb\nevaluator_args: {num_gpus: 8, num_gpu: 8}\n")
    run_refused(tmp_path, folder, "problem.yaml", "evaluator_args.num_gpu",
                "unknown argument 'num_gpu' for evaluator 'eplb'", "num_gpus")


@pytest.mark.parametrize("files, key, needle", [
    ({}, "description", "'notes.md' not found"),
    ({"notes.md": None}, "description", "'notes.md' is a directory"),
    ({"notes.md": BINARY}, "description", "'notes.md' is not a text file"),
])
def test_unusable_description_file(tmp_path: Path, files: dict, key: str, needle: str) -> None:
    folder = problem_folder(tmp_path, "evaluator: circle_packing\ndescription: notes.md\n", files)
    run_refused(tmp_path, folder, "problem.yaml", key, needle)


@pytest.mark.parametrize("content, needle", [(None, "program folder 'seed.py': holds no files"),
                                             (BINARY, "'seed.py' is not a text file")])
def test_unusable_initial_program(tmp_path: Path, content: bytes | None, needle: str) -> None:
    folder = problem_folder(tmp_path, "evaluator: circle_packing\ninitial_programs: [seed.py]\n",
                            {"seed.py": content})
    run_refused(tmp_path, folder, "initial_programs", needle)


def test_binary_problem_yaml(tmp_path: Path) -> None:
    folder = problem_folder(tmp_path, "")
    (folder / "problem.yaml").write_bytes(BINARY)
    run_refused(tmp_path, folder, str(folder / "problem.yaml"), "not a text file")


# ---------------------------------------------------------------- evaluators


@pytest.mark.parametrize("name, needle", [
    ("nope", "unknown evaluator 'nope' (known: cant_be_late, cant_be_late_multi, circle_packing"),
    ("pkg.mod:missing", "cannot import module 'pkg.mod'"),
    ("evolve.errors:missing", "module 'evolve.errors' has no attribute 'missing'"),
])
def test_evaluator_not_found_before_the_run_starts(tmp_path: Path, name: str, needle: str) -> None:
    folder = problem_folder(tmp_path, f"evaluator: '{name}'\n")
    run_refused(tmp_path, folder, f"{folder / 'problem.yaml'}: evaluator", needle)


# ---------------------------------------------------------------- CLI arguments


@pytest.mark.parametrize("args, needles", [
    (("run", "problems/circle_packing", "--iterations", "ten"), ("--iterations", "expected a whole number")),
    (("run", "problems/circle_packing", "--iterations", "-3"), ("--iterations", "must not be negative")),
    (("resume", "runs/x", "--iterations", "-1"), ("--iterations", "must not be negative")),
    (("run", "problems/circle_packing", "--frobnicate"), ("unrecognized arguments: --frobnicate",)),
    (("launch",), ("invalid choice: 'launch'",)),
    (("config", "show", "--set", "budget"), ("--set budget", "expected KEY=VALUE")),
    (("config", "show", "--set", "budget.iterations=[1"), ("budget.iterations",)),
])
def test_bad_cli_arguments(args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    assert_one_line_error(evolve(*args), *needles)


# ---------------------------------------------------------------- run folders and databases


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine run folder (run.json + evolve.db) to damage copies of."""
    problem = load_problem(REPO / "problems" / "circle_packing")
    run = create_run(problem, tmp_path_factory.mktemp("runs"), "real")
    run.store.close()
    return run.run_dir


def foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()


def damaged(kind: str, db: Path, real_db: Path) -> None:
    if kind == "garbage":
        db.write_bytes(BINARY * 20)
    elif kind == "foreign":
        foreign_sqlite(db)
    elif kind == "empty sqlite":
        sqlite3.connect(db).execute("PRAGMA user_version = 7").connection.close()
    elif kind == "truncated":
        db.write_bytes(real_db.read_bytes()[:3000])
    elif kind == "sqlite header, garbage body":
        db.write_bytes(b"SQLite format 3\x00" + BINARY * 20)
    elif kind == "empty file":
        db.write_bytes(b"")


@pytest.mark.parametrize("kind, needle", [
    ("garbage", "not an evolve database (not an SQLite file)"),
    ("foreign", "not an evolve database (has tables users, no evolve_meta)"),
    ("empty sqlite", "not an evolve database"),
    ("truncated", "not an evolve database"),
    ("sqlite header, garbage body", "not an evolve database"),
    ("empty file", "not an evolve database (empty file)"),
])
def test_resume_refuses_a_corrupt_or_foreign_database_untouched(
        tmp_path: Path, real_run: Path, kind: str, needle: str) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    db = run_dir / "evolve.db"
    damaged(kind, db, real_run / "evolve.db")
    meta = json.loads((real_run / "run.json").read_text())
    meta["database_url"] = f"sqlite:///{db}"
    (run_dir / "run.json").write_text(json.dumps(meta))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    listing = sorted(p.name for p in run_dir.iterdir())
    assert_one_line_error(evolve("resume", str(run_dir)), str(db), needle)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before, "the database file was modified"
    assert sorted(p.name for p in run_dir.iterdir()) == listing, "files were created beside it"


@pytest.mark.parametrize("content, needle", [
    ("[1, 2]", "damaged run file"),
    ('{"run_id": "x"}', "damaged run file (no 'database' or 'database_url')"),
    (BINARY, "damaged run file"),
])
def test_damaged_run_file(tmp_path: Path, content: str | bytes, needle: str) -> None:
    run_file = tmp_path / "run.json"
    run_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert_one_line_error(evolve("resume", str(tmp_path)), str(run_file), needle)


def test_run_file_naming_a_run_the_database_does_not_hold(tmp_path: Path, real_run: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(real_run, run_dir)
    meta = json.loads((run_dir / "run.json").read_text())
    meta.update(run_id="0" * 32, database_url=f"sqlite:///{run_dir / 'evolve.db'}")
    (run_dir / "run.json").write_text(json.dumps(meta))
    assert_one_line_error(evolve("resume", str(run_dir)), "no run with id '000")
