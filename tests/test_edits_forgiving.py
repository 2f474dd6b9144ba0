"""Nearly-right answers: applied where only one reading is possible, else a precise failure."""

from __future__ import annotations

from evolve.edits import FAILURE_KINDS, LENIENT_READINGS, apply_response

PROGRAM = """import numpy as np


# EVOLVE-BLOCK-START
def score(x):
    y = x * 2

    return y + 1
# EVOLVE-BLOCK-END


def main():
    return score(3)
"""
NEW_BLOCK = "def score(x):\n    return x * 3\n"
EXPECTED = PROGRAM.replace("def score(x):\n    y = x * 2\n\n    return y + 1\n", NEW_BLOCK)


def sr(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def fenced(code: str) -> str:
    return f"Here is the improved program:\n\n```python\n{code}```\nIt triples x."


def test_a_whole_program_where_a_diff_was_asked_rewrites_the_block() -> None:
    answer = fenced(EXPECTED.replace("import numpy as np\n\n\n", "import numpy  as np\n"))
    result = apply_response(PROGRAM, answer, "diff")
    assert result.ok, result.error
    assert result.code == EXPECTED  # the parent's own text outside the block is kept
    assert set(result.lenient) == {"whole_program", "outside_whitespace"}


def test_a_whole_program_without_markers_where_a_diff_was_asked() -> None:
    unmarked = "\n".join(line for line in EXPECTED.splitlines() if "EVOLVE-BLOCK" not in line)
    result = apply_response(PROGRAM, fenced(unmarked + "\n"), "diff")
    assert result.ok, result.error
    assert result.code == EXPECTED
    assert "whole_program" in result.lenient and result.code.count("import numpy") == 1


def test_a_whole_program_that_changes_outside_code_stays_a_failure() -> None:
    changed = EXPECTED.replace("return score(3)", "return score(4)")
    result = apply_response(PROGRAM, fenced(changed), "diff")
    assert not result.ok and result.kind == "no_edit"
    assert result.error.startswith("no SEARCH/REPLACE block found in the response; the code "
                                   "block given instead is not the current program")
    assert "changes code outside the EVOLVE-BLOCK (line 11" in result.error
    snippet = apply_response(PROGRAM, fenced(NEW_BLOCK), "diff")  # a fragment: where would it go?
    assert not snippet.ok and snippet.kind == "no_edit"
    assert "does not repeat the code around the block" in snippet.error


def test_a_rewrite_repeating_the_code_around_the_block_keeps_one_copy() -> None:
    unmarked = "\n".join(line for line in EXPECTED.splitlines() if "EVOLVE-BLOCK" not in line)
    result = apply_response(PROGRAM, fenced(unmarked + "\n"), "rewrite")
    assert result.ok, result.error
    assert result.lenient == ["repeated_outside"]
    assert result.code.count("import numpy") == 1 and result.code.count("def main") == 1
    assert "    return x * 3" in result.code


def test_a_rewrite_repeating_only_one_side_is_refused() -> None:
    half = "import numpy as np\n\n" + NEW_BLOCK
    result = apply_response(PROGRAM, fenced(half), "rewrite")
    assert not result.ok and result.kind == "markers"
    assert "repeats the code before the EVOLVE-BLOCK but not the code after it" in result.error


def test_a_rewrite_changing_only_whitespace_outside_keeps_the_parent_text() -> None:
    spaced = EXPECTED.replace("def main():\n    return score(3)", "def main():\n\n    return  score(3)")
    result = apply_response(PROGRAM, fenced(spaced), "rewrite")
    assert result.ok and result.code == EXPECTED
    assert result.lenient == ["outside_whitespace"]


def test_search_and_replace_carrying_the_same_markers() -> None:
    answer = sr("# EVOLVE-BLOCK-START\ndef score(x):\n    y = x * 2",
                "# EVOLVE-BLOCK-START\ndef score(x):\n    y = x * 5")
    result = apply_response(PROGRAM, answer, "diff")
    assert result.ok, result.error
    assert result.code == PROGRAM.replace("x * 2", "x * 5")
    assert result.lenient == ["markers_in_search"]
    whole = sr("# EVOLVE-BLOCK-START\ndef score(x):\n    y = x * 2\n\n    return y + 1\n"
               "# EVOLVE-BLOCK-END", f"# EVOLVE-BLOCK-START\n{NEW_BLOCK}# EVOLVE-BLOCK-END")
    result = apply_response(PROGRAM, whole, "diff")
    assert result.ok and result.code == EXPECTED


def test_search_matching_modulo_whitespace_in_one_place() -> None:
    answer = sr("def score(x):\n  y = x*2\n  return y + 1", "def score(x):\n  return x * 7")
    assert not apply_response(PROGRAM, answer, "diff").ok  # "x*2" is not whitespace
    answer = sr("def score(x):\n  y  =  x * 2\n  return y + 1", "def score(x):\n  return x * 7")
    result = apply_response(PROGRAM, answer, "diff")
    assert result.ok, result.error
    assert result.lenient == ["loose_match"]
    assert "def score(x):\n  return x * 7\n# EVOLVE-BLOCK-END" in result.code


def test_a_loose_match_in_two_places_is_ambiguous() -> None:
    code = "# EVOLVE-BLOCK-START\nx = 1\n\ny = 2\nx = 1\ny = 2\n# EVOLVE-BLOCK-END\n"
    result = apply_response(code, sr("x  = 1\ny = 2", "x = 3"), "diff")
    assert not result.ok and result.kind == "ambiguous"
    assert result.error.startswith("SEARCH block 1 matches 2 places in the parent program (lines 2, 5)")


def test_every_failure_has_a_known_kind() -> None:
    cases = {
        "no_edit": ("I would change the constant.", "diff"),
        "malformed": ("<<<<<<< SEARCH\n    y = x * 2\n>>>>>>> REPLACE\n", "diff"),
        "no_match": (sr("z = 0", "z = 1"), "diff"),
        "unchanged": (sr("    y = x * 2", "    y = x * 2"), "diff"),
        "outside_block": (sr("def main():", "def main2():"), "diff"),
        "bad_mode": ("x", "other"),
    }
    for kind, (answer, mode) in cases.items():
        result = apply_response(PROGRAM, answer, mode)
        assert not result.ok and result.kind == kind, (kind, result.error)
        assert kind in FAILURE_KINDS
    assert apply_response("# EVOLVE-BLOCK-START\nx\n", "x", "diff").kind == "bad_parent"
    assert set(LENIENT_READINGS) == {"loose_match", "markers_in_search", "whole_program",
                                     "repeated_outside", "outside_whitespace"}
