"""EVOLVE-BLOCK parsing, SEARCH/REPLACE and rewrite application, the static gate."""

from __future__ import annotations

import pytest

from evolve.edits import apply_response, count_changed_lines, evolve_blocks, static_check

PROGRAM = """import numpy as np

# EVOLVE-BLOCK-START
def score(x):
    y = x * 2
    return y + 1
# EVOLVE-BLOCK-END


def main():
    return score(3)
"""

TWO_BLOCKS = """# EVOLVE-BLOCK-START
A = 1
# EVOLVE-BLOCK-END
def keep():
    return A
# EVOLVE-BLOCK-START
B = 2
# EVOLVE-BLOCK-END
"""


def sr(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def test_evolve_blocks_finds_bodies():
    assert evolve_blocks(PROGRAM) == [(3, 6)]
    assert evolve_blocks(TWO_BLOCKS) == [(1, 2), (6, 7)]
    assert evolve_blocks("x = 1\n") == []


@pytest.mark.parametrize(
    "code,message",
    [
        ("# EVOLVE-BLOCK-START\nx = 1\n", "EVOLVE-BLOCK-START on line 1 has no EVOLVE-BLOCK-END"),
        ("x = 1\n# EVOLVE-BLOCK-END\n", "EVOLVE-BLOCK-END on line 2 has no EVOLVE-BLOCK-START"),
        (
            "# EVOLVE-BLOCK-START\n# EVOLVE-BLOCK-START\n",
            "opens a block inside the block opened on line 1",
        ),
    ],
)
def test_unbalanced_markers_raise(code, message):
    with pytest.raises(ValueError, match=message):
        evolve_blocks(code)


def test_diff_applies_with_prose_and_fences():
    response = "I double less.\n```python\n" + sr("    y = x * 2", "    y = x * 3") + "```\nDone."
    result = apply_response(PROGRAM, response, "diff")
    assert result.ok, result.error
    assert "    y = x * 3\n" in result.code
    assert result.changed_lines == 1
    assert "# EVOLVE-BLOCK-START" in result.code and "# EVOLVE-BLOCK-END" in result.code


def test_several_blocks_in_one_response():
    response = sr("A = 1", "A = 10") + "and\n" + sr("B = 2", "B = 20\nC = 3")
    result = apply_response(TWO_BLOCKS, response, "diff")
    assert result.ok, result.error
    assert "A = 10" in result.code and "B = 20\nC = 3" in result.code
    assert result.changed_lines == 3


def test_whitespace_tolerant_matching_keeps_indentation():
    response = sr("y = x * 2   ", "y = x * 5")  # wrong indentation and trailing spaces
    result = apply_response(PROGRAM, response, "diff")
    assert result.ok, result.error
    assert "\n    y = x * 5\n" in result.code


def test_search_that_does_not_match():
    response = sr("A = 1", "A = 5") + sr("Z = 9", "Z = 1")
    result = apply_response(TWO_BLOCKS, response, "diff")
    assert not result.ok
    assert result.error == "SEARCH block 2 did not match the parent program"
    assert result.code == TWO_BLOCKS


def test_search_outside_the_block_is_rejected():
    result = apply_response(
        PROGRAM, sr("def main():\n    return score(3)", "def main():\n    return 0"), "diff"
    )
    assert not result.ok
    assert result.error == "SEARCH block 1 touches lines outside the EVOLVE-BLOCK (line 10)"
    spanning = apply_response(
        PROGRAM, sr("    return y + 1\n# EVOLVE-BLOCK-END", "    return y"), "diff"
    )
    assert spanning.kind == "outside_block" and spanning.error == (
        "SEARCH block 1 includes EVOLVE-BLOCK marker lines but its REPLACE does not repeat "
        "them at the same place; markers cannot be moved or removed"
    )
    into_next = apply_response(
        PROGRAM, sr("    return y + 1\n# EVOLVE-BLOCK-END\n", "    return y\n# EVOLVE-BLOCK-END\n"
                    "def helper():\n    return 1"), "diff")
    assert into_next.kind == "outside_block" and "cannot be moved" in into_next.error


def test_ambiguous_search_is_rejected():
    code = "# EVOLVE-BLOCK-START\nx = 1\nx = 1\n# EVOLVE-BLOCK-END\n"
    result = apply_response(code, sr("x = 1", "x = 2"), "diff")
    assert not result.ok and "matches 2 places" in result.error


def test_replace_may_not_add_markers():
    result = apply_response(PROGRAM, sr("    y = x * 2", "# EVOLVE-BLOCK-END\n    y = 1"), "diff")
    assert result.error == "REPLACE block 1 contains an EVOLVE-BLOCK marker"


def test_no_block_and_unchanged_and_unclosed():
    assert apply_response(PROGRAM, "I would not change anything.", "diff").error == (
        "no SEARCH/REPLACE block found in the response"
    )
    assert apply_response(PROGRAM, sr("    y = x * 2", "    y = x * 2"), "diff").error == (
        "edit leaves the program unchanged"
    )
    truncated = "<<<<<<< SEARCH\n    y = x * 2\n=======\n    y = x"
    assert "not closed" in apply_response(PROGRAM, truncated, "diff").error


def test_program_without_markers_is_editable_everywhere():
    result = apply_response("a = 1\nb = 2\n", sr("b = 2", "b = 3"), "diff")
    assert result.ok and result.code == "a = 1\nb = 3\n"


def test_rewrite_full_program_takes_only_block_bodies():
    new = PROGRAM.replace("    y = x * 2\n", "    y = x ** 2\n    y -= 1\n")
    result = apply_response(PROGRAM, f"Here:\n```python\n{new}```\n", "rewrite")
    assert result.ok, result.error
    assert result.code == new
    assert result.changed_lines == 2


def test_rewrite_changing_outside_code_is_rejected():
    new = PROGRAM.replace("return score(3)", "return 42")
    result = apply_response(PROGRAM, f"```python\n{new}```", "rewrite")
    assert not result.ok
    assert "changes code outside the EVOLVE-BLOCK (line 11" in result.error


def test_rewrite_body_only_for_single_block_programs():
    body = "def score(x):\n    return x * x\n"
    result = apply_response(PROGRAM, f"```python\n{body}```", "rewrite")
    assert result.ok, result.error
    assert "def score(x):\n    return x * x\n# EVOLVE-BLOCK-END" in result.code
    assert result.code.startswith("import numpy as np\n")
    several = apply_response(TWO_BLOCKS, "```python\nA = 3\n```", "rewrite")
    assert not several.ok and "2 EVOLVE-BLOCKs" in several.error


def test_rewrite_errors():
    assert "no fenced code block" in apply_response(PROGRAM, "no code here", "rewrite").error
    same = apply_response(PROGRAM, f"```python\n{PROGRAM}```", "rewrite")
    assert same.error == "edit leaves the program unchanged"
    one_block = apply_response(
        TWO_BLOCKS, "```python\n# EVOLVE-BLOCK-START\nA = 3\n# EVOLVE-BLOCK-END\n```", "rewrite"
    )
    assert "1 EVOLVE-BLOCKs but the program has 2" in one_block.error


def test_unknown_mode():
    assert "unknown edit mode" in apply_response(PROGRAM, "x", "patch").error


def test_count_changed_lines():
    assert count_changed_lines("a\nb\nc\n", "a\nB\nc\nd\n") == 2
    assert count_changed_lines("a\n", "a\n") == 0


def test_static_check_reasons():
    assert static_check(PROGRAM, ["os"], None, 1) == ""
    assert static_check("def f(:\n", [], None, 0).startswith("syntax error on line 1")
    assert "forbidden import 'os.path' on line 2" in static_check(
        "x = 1\nimport os.path\n", ["os"], None, 0
    )
    assert "'subprocess'" in static_check("from subprocess import run\n", ["subprocess"], None, 0)
    assert "'socket'" in static_check("s = __import__('socket')\n", ["socket"], None, 0)
    dynamic = "import importlib\nm = importlib.import_module('ctypes')\n"
    assert "'ctypes' on line 2" in static_check(dynamic, ["ctypes"], None, 0)
    assert (
        static_check("import osmosis\n", ["os"], None, 0) == ""
    )  # prefix of a name is not the name
    assert static_check(PROGRAM, [], 5, 6) == "edit changes 6 lines (limit 5)"
    assert static_check("int main() {", [], None, 0, language="c") == ""
