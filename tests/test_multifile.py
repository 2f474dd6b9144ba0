"""Folder programs: languages and markers, loading, per-file edits, prompts, the offline engine."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from evolve.codebase import (
    combined_text,
    editable_paths,
    evolving_text,
    files_diff,
    read_program_folder,
)
from evolve.errors import UserError
from evolve.file_edits import apply_files_response, file_sections, static_check_files
from evolve.languages import language_of, marker_problem
from evolve.llm.base import EditRequest, GenerationParams
from evolve.llm.offline import OfflineMutationEngine
from evolve.problem import load_problem
from evolve.prompts import ProgramView, PromptBuilder, PromptContext, file_views

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "problems" / "knapsack_ctypes"

MAIN = """import helper

# EVOLVE-BLOCK-START
SCALE = 2
# EVOLVE-BLOCK-END


def run(x):
    return helper.twice(x) * SCALE
"""
HELPER = """# EVOLVE-BLOCK-START
def twice(x):
    return x + x
# EVOLVE-BLOCK-END
"""
KERNEL = """#include "kernel.h"

int gain(int x)
{
    /* EVOLVE-BLOCK-START */
    int k = 3;
    return x * k;
    /* EVOLVE-BLOCK-END */
}
"""
HEADER = "int gain(int x);\n"
FILES = {"main.py": MAIN, "helper.py": HELPER, "kernel.c": KERNEL, "kernel.h": HEADER}


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


# ---------------------------------------------------------------- languages and loading


def test_language_by_extension_name_and_override() -> None:
    assert language_of("src/a.py").name == "python"
    assert language_of("kernel.cu").name == "cuda"
    assert language_of("Makefile").name == "make"
    assert language_of("query.sql").comments == ("--",)
    assert language_of("notes.inc").name == "text"
    assert language_of("notes.inc", {"*.inc": "c"}).name == "c"
    assert language_of("src/k.cl", {"src/k.cl": "c"}).name == "c"


@pytest.mark.parametrize(
    ("path", "text", "needle"),
    [
        ("k.c", "# EVOLVE-BLOCK-START\nint a;\n# EVOLVE-BLOCK-END\n", "starts with '#'"),
        ("k.c", "/* EVOLVE-BLOCK-START\nint a;\n// EVOLVE-BLOCK-END\n", "not closed with '*/'"),
        ("a.py", "// EVOLVE-BLOCK-START\nx = 1\n// EVOLVE-BLOCK-END\n", "Python comments"),
        ("q.txt", "-- EVOLVE-BLOCK-START\nx\n-- EVOLVE-BLOCK-END\n", "no comment syntax"),
    ],
)
def test_markers_must_use_the_files_comment_syntax(path: str, text: str, needle: str) -> None:
    problem = marker_problem(path, text, language_of(path))
    assert needle in problem and f"{path} line 1" in problem
    assert marker_problem("q.sql", "-- EVOLVE-BLOCK-START\nx\n-- EVOLVE-BLOCK-END\n",
                          language_of("q.sql")) == ""


def test_a_folder_is_read_with_its_context_files(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "prog", FILES)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00\x01")
    (folder / ".hidden").write_text("x")
    files = read_program_folder(folder)
    assert files == FILES
    assert editable_paths(files) == ["helper.py", "kernel.c", "main.py"]  # kernel.h: context
    assert combined_text(files).startswith("==> helper.py <==\n# EVOLVE-BLOCK-START")
    assert "==> kernel.h <==" not in evolving_text(files) and "SCALE" in evolving_text(files)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"data.bin": None}, "not a text file"),
        ({"main.py": "x = 1\n", "helper.py": "y = 2\n", "kernel.c": "int a;\n"}, "no file has"),
        ({"bad.c": "# EVOLVE-BLOCK-START\nint a;\n# EVOLVE-BLOCK-END\n"}, "bad.c line 1"),
        ({"_evolve_build.py": "x = 1\n"}, "a name evolve uses"),
        ({"open.py": "# EVOLVE-BLOCK-START\nx = 1\n"}, "open.py: EVOLVE-BLOCK-START on line 1"),
    ],
)
def test_bad_folders_are_refused_in_one_line(tmp_path: Path, extra: dict[str, str | None],
                                             needle: str) -> None:
    folder = write_folder(tmp_path / "prog", {**FILES, **{k: v for k, v in extra.items() if v}})
    for name, text in extra.items():
        if text is None:
            (folder / name).write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(UserError, match=needle) as caught:
        read_program_folder(folder)
    assert "\n" not in caught.value.message


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "prog", FILES)
    os.symlink("/etc/hostname", folder / "link.txt")
    with pytest.raises(UserError, match="symbolic link"):
        read_program_folder(folder)


def test_the_shipped_example_loads_as_a_folder() -> None:
    problem = load_problem(EXAMPLE)
    files = problem.folders["program"]
    assert sorted(files) == ["fill.c", "fill.h", "scoring.py", "solver.py"]
    assert editable_paths(files) == ["fill.c", "scoring.py", "solver.py"]
    assert problem.initial_programs == [("program", combined_text(files))]
    assert problem.config.build.command[0] == "gcc"


def test_folders_and_files_are_not_mixed(tmp_path: Path) -> None:
    write_folder(tmp_path / "p" / "prog", FILES)
    (tmp_path / "p" / "one.py").write_text(HELPER)
    (tmp_path / "p" / "problem.yaml").write_text(
        "initial_programs: [prog, one.py]\nevaluator: circle_packing\n")
    with pytest.raises(UserError, match="mixes folders and single files"):
        load_problem(tmp_path / "p")


def test_an_unknown_language_override_names_the_key(tmp_path: Path) -> None:
    write_folder(tmp_path / "p" / "prog", FILES)
    (tmp_path / "p" / "problem.yaml").write_text(
        "initial_programs: [prog]\nevaluator: circle_packing\nlanguages: {'*.inc': fortran}\n")
    with pytest.raises(UserError, match="unknown language 'fortran'") as caught:
        load_problem(tmp_path / "p")
    assert "languages" in caught.value.where


# ---------------------------------------------------------------- edits


def test_search_replace_blocks_land_in_the_files_they_name() -> None:
    answer = """Scale up and make the kernel faster.

main.py
<<<<<<< SEARCH
SCALE = 2
=======
SCALE = 3
>>>>>>> REPLACE

### `kernel.c`
```c
<<<<<<< SEARCH
    int k = 3;
=======
    int k = 4;
>>>>>>> REPLACE
```
"""
    result = apply_files_response(FILES, answer, "diff")
    assert result.ok, result.error
    assert result.files["main.py"] == MAIN.replace("SCALE = 2", "SCALE = 3")
    assert result.files["kernel.c"] == KERNEL.replace("int k = 3;", "int k = 4;")
    assert result.files["helper.py"] == HELPER and result.files["kernel.h"] == HEADER
    assert result.changed_lines == 2 and result.code == combined_text(result.files)


def test_a_path_inside_the_fence_right_before_search_counts() -> None:
    answer = "```python\nhelper.py\n<<<<<<< SEARCH\n    return x + x\n=======\n" \
             "    return 2 * x\n>>>>>>> REPLACE\n```\n"
    result = apply_files_response(FILES, answer, "diff")
    assert result.ok and result.files["helper.py"] == HELPER.replace("x + x", "2 * x")


@pytest.mark.parametrize(
    ("answer", "needle"),
    [
        ("<<<<<<< SEARCH\nSCALE = 2\n=======\nSCALE = 3\n>>>>>>> REPLACE\n", "names no file"),
        ("kernel.h\n<<<<<<< SEARCH\nint gain(int x);\n=======\nint gain(long x);\n"
         ">>>>>>> REPLACE\n", "'kernel.h' has no EVOLVE-BLOCK: it is context"),
        ("other.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "'other.py', which is not"),
        ("main.py\n<<<<<<< SEARCH\nimport helper\n=======\nimport os\n>>>>>>> REPLACE\n",
         "main.py: SEARCH block 1 touches lines outside the EVOLVE-BLOCK"),
        ("kernel.c\n<<<<<<< SEARCH\nint k = 9;\n=======\nint k = 4;\n>>>>>>> REPLACE\n",
         "kernel.c: SEARCH block 1 did not match"),
        ("Just prose, no edit.", "no SEARCH/REPLACE block found"),
    ],
)
def test_refused_edits_say_which_file_and_why(answer: str, needle: str) -> None:
    result = apply_files_response(FILES, answer, "diff")
    assert not result.ok and needle in result.error
    assert result.files == FILES, "a refused edit leaves every file as it was"


def test_one_editable_file_needs_no_path() -> None:
    files = {"main.py": MAIN, "helper.txt": "notes\n"}
    result = apply_files_response(
        files, "<<<<<<< SEARCH\nSCALE = 2\n=======\nSCALE = 5\n>>>>>>> REPLACE\n", "diff")
    assert result.ok and "SCALE = 5" in result.files["main.py"]


def test_rewrites_name_their_files() -> None:
    new_kernel = KERNEL.replace("int k = 3;", "int k = 5;")
    answer = f"kernel.c\n```c\n{new_kernel}```\n\n```python helper.py\n" \
             "def twice(x):\n    return x * 2\n```\n"
    result = apply_files_response(FILES, answer, "rewrite")
    assert result.ok, result.error
    assert result.files["kernel.c"] == new_kernel
    assert result.files["helper.py"] == HELPER.replace("x + x", "x * 2")
    assert file_sections("helper.py\ntext", FILES)[1][0] == "helper.py"


def test_static_check_reads_each_changed_file_in_its_language() -> None:
    broken = {**FILES, "helper.py": HELPER.replace("return x + x", "return x +")}
    assert static_check_files(FILES, broken, [], None, 1).startswith("helper.py: syntax error")
    banned = {**FILES, "main.py": MAIN.replace("SCALE = 2", "import socket\nSCALE = 2")}
    assert "main.py: forbidden import 'socket'" in static_check_files(FILES, banned, ["socket"],
                                                                     None, 1)
    c_only = {**FILES, "kernel.c": KERNEL.replace("int k = 3;", "int k = ;")}
    assert static_check_files(FILES, c_only, ["socket"], None, 1) == ""  # the compiler's job
    assert "limit 1" in static_check_files(FILES, c_only, [], 1, 2)


def test_files_diff_is_per_file() -> None:
    after = {**FILES, "kernel.c": KERNEL.replace("3", "4"), "new.py": "x = 1\n"}
    del after["kernel.h"]
    lines = files_diff(FILES, after)
    assert "--- a/kernel.c" in lines and "+++ b/kernel.c" in lines
    assert "+++ b/new.py" in lines and "--- a/kernel.h" in lines and "+++ /dev/null" in lines
    assert not any("main.py" in line for line in lines)


# ---------------------------------------------------------------- prompts


def test_prompts_show_blocks_whole_and_cut_around_them() -> None:
    long_main = "\n".join(f"x{i} = {i}" for i in range(400)) + "\n" + MAIN
    files = {**FILES, "main.py": long_main, "big.h": "// big\n" * 2000}
    views = {v.path: v for v in file_views(files, 2000)}
    assert "SCALE = 2" in views["main.py"].text and "# EVOLVE-BLOCK-END" in views["main.py"].text
    assert "not shown" in views["main.py"].text and "lines not shown" in views["main.py"].note
    assert views["kernel.h"].text == HEADER and not views["kernel.h"].editable
    assert views["big.h"].text == "" and "2000 lines, not shown" in views["big.h"].note
    other = file_views({**FILES, "kernel.c": KERNEL.replace("3", "7")}, 2000, compare_with=FILES)
    assert [v.path for v in other] == ["kernel.c"], "others show only where they differ"


def test_a_folder_prompt_names_each_file_and_feeds_back_build_errors() -> None:
    record = type("R", (), {"id": "p", "code": combined_text(FILES), "files": FILES,
                            "score": 0.5, "valid": True, "metrics": {}, "artifacts": {}})()
    failed = type("F", (), {"id": "f", "code": combined_text(FILES), "reason": "build failed",
                            "files": {**FILES, "kernel.c": KERNEL.replace("k;", "k")},
                            "score": None, "valid": False, "metrics": {},
                            "artifacts": {"build_output": "kernel.c:7:5: error: expected ';'"}})()
    parent = ProgramView.from_record(record)
    context = PromptContext(description="d", parent=parent,
                            failures=[ProgramView.from_record(failed, compare_with=FILES)],
                            language="Python and C")
    system, user = PromptBuilder().render(context)
    text = user["content"]
    assert "expert Python and C programmer" in system["content"]
    assert "## kernel.c (editable between its EVOLVE-BLOCK markers)" in text
    assert "## kernel.h (context: read-only)" in text and "```c\nint gain(int x);" in text
    assert "kernel.c:7:5: error: expected ';'" in text, "the compiler's output is shown"
    assert "path of the file a block changes" in text
    rewrite = PromptBuilder().render(PromptContext(description="d", parent=parent,
                                                   mode="rewrite"))[1]["content"]
    assert "with the file's path on its own line before the block" in rewrite


# ---------------------------------------------------------------- offline engine


def test_the_offline_engine_edits_folder_programs_per_file() -> None:
    engine = OfflineMutationEngine(seed=3)
    languages = {path: language_of(path).name for path in FILES}
    touched: set[str] = set()
    for mode in ("diff", "rewrite") * 12:
        request = EditRequest(parent_code=combined_text(FILES), mode=mode, files=FILES,
                              file_languages=languages,
                              inspiration_files=[("i", {**FILES, "kernel.c": KERNEL.replace(
                                  "int k = 3;", "int k = 8;")})])
        answer = asyncio.run(engine.complete([], GenerationParams(context=request))).text
        result = apply_files_response(FILES, answer, mode)
        assert result.ok, (answer, result.error)
        changed = {p for p in FILES if result.files[p] != FILES[p]}
        assert changed and changed <= {"main.py", "helper.py", "kernel.c"}
        touched |= changed
    assert touched == {"main.py", "helper.py", "kernel.c"}
