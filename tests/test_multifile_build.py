"""The build step of folder programs: in the sandbox, under its own limits, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolve.evaluation import _fileview as fileview
from evolve.evaluation.build import BuildStep, _outcome, folder_files, prepare_folder, run_build
from evolve.evaluation.sandbox import Sandbox

SOURCES = {"lib.c": "int twice(int x) { return 2 * x; }\n", "notes/readme.txt": "context\n"}


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    with Sandbox(preload=()) as box:
        yield box


def step(*command: str, **limits: float) -> BuildStep:
    return BuildStep(command=command, **limits)  # type: ignore[arg-type]


def test_a_build_adds_what_it_made_to_the_folder(tmp_path: Path, sandbox: Sandbox) -> None:
    gcc = step("gcc", "-shared", "-fPIC", "-o", "libx.so", "lib.c")
    assert prepare_folder(tmp_path, SOURCES, gcc, sandbox) is None
    made = folder_files(tmp_path)
    assert sorted(made) == ["lib.c", "libx.so", "notes/readme.txt"]
    assert made["libx.so"].startswith(b"\x7fELF")


def test_a_build_sees_only_its_folder_and_may_start_processes(tmp_path: Path,
                                                              sandbox: Sandbox) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    project = Path(__file__).resolve().parent.parent / "pyproject.toml"
    probe = step("sh", "-c", f"test -e {project} && echo VISIBLE || echo HIDDEN; "
                 "cat a.txt > b.txt; ln -s /etc/hostname link; sh -c 'echo child' > c.txt")
    outcome = run_build(tmp_path, probe, sandbox)
    assert outcome.ok, outcome.reason
    assert sorted(outcome.files) == ["b.txt", "c.txt"], "new files come back, links never"
    assert outcome.files["c.txt"] == b"child\n"
    if fileview.probe():  # this machine gives sandbox children their private file view
        assert outcome.output == "HIDDEN\n", "the project tree is not visible to the build"


@pytest.mark.parametrize(
    ("command", "limits", "needle"),
    [
        (("no-such-compiler", "x.c"), {}, "command not found: no-such-compiler"),
        (("sh", "-c", "echo 'x.c:3: error: boom' >&2; exit 2"), {},
         "exited with status 2: x.c:3: error: boom"),
        (("sleep", "30"), {"timeout_s": 1.0}, "did not finish within 1 s"),
    ],
)
def test_failed_builds_say_why_in_one_line(tmp_path: Path, sandbox: Sandbox,
                                           command: tuple[str, ...], limits: dict[str, float],
                                           needle: str) -> None:
    failed = prepare_folder(tmp_path, SOURCES, step(*command, **limits), sandbox)
    assert failed is not None and not failed.valid
    assert needle in failed.reason and "\n" not in failed.reason
    assert "build_output" in failed.artifacts


def test_build_output_is_capped(tmp_path: Path, sandbox: Sandbox) -> None:
    noisy = step("sh", "-c", "yes 'warning: noise' | head -c 100000; exit 1", output_chars=500)
    failed = prepare_folder(tmp_path, SOURCES, noisy, sandbox)
    assert failed is not None
    output = failed.artifacts["build_output"]
    assert len(output) < 600 and "output cut at 500 of 100000 bytes" in output


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"status": 0, "note": "", "output": "", "files": {"../escape": b"x"}},
        {"status": 0, "note": "", "output": "", "files": {"/abs": b"x"}},
        {"status": 0, "note": "", "output": "", "files": {"a": "not bytes"}},
        {"status": 0, "note": "", "output": "", "files": {"_evolve_build.py": b"x"}},
        {"status": "0", "note": "", "output": "", "files": {}},
    ],
)
def test_what_the_build_process_returns_is_checked(value: object) -> None:
    outcome = _outcome(value, step("make"), "make")
    assert not outcome.ok and "malformed" in outcome.reason
