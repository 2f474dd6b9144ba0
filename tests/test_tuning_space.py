"""The search space read from a program's source: which literals, which ranges, written back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evolve.tunable import SPAN, SpaceError, space_of

REPO = Path(__file__).resolve().parent.parent

UNANNOTATED = '''\
import numpy as np

LIMIT = 500  # outside the block: stays as written


# EVOLVE-BLOCK-START
def plan(x, threshold=0.8, *, retries=-3):
    """Docstring numbers are text: 12 and 0.5."""
    rate = 2.5e-3
    count = 16
    offset = -0.75
    shape = np.zeros((count, 2))   # 2: a shape, left alone
    first = x[0] + x[3]            # indexes, left alone
    square = x[1] ** 2             # an exponent, left alone
    label = f"{count:5d} items"    # f-string parts, left alone
    name = "greedy"                # strings only when annotated
    flag = True                    # booleans only when annotated
    table = {"alpha": 0.1}         # keyed by its key
    if rate > 1e-9:
        return count * 3.0 + offset
    return 0
# EVOLVE-BLOCK-END
'''


def test_unannotated_literals_follow_the_default_rule() -> None:
    space = space_of(UNANNOTATED)
    found = {p.name: p for p in space.parameters}
    assert list(found) == [
        "threshold", "retries", "rate@9", "count", "offset", "alpha", "rate@19", "return",
    ]  # fmt: skip
    threshold = found["threshold"]  # a float in (0, 1]: a fraction, its range stops at 1
    assert threshold.kind == "float" and threshold.domain.log
    assert (threshold.domain.low, threshold.domain.high) == pytest.approx((0.8 / SPAN, 1.0))
    ret = found["return"]  # above 1: value / SPAN .. value * SPAN
    assert (ret.domain.low, ret.domain.high) == pytest.approx((3.0 / SPAN, 3.0 * SPAN))
    count = found["count"]  # ints stay ints, a log range around the value
    assert count.kind == "int" and (count.domain.low, count.domain.high, count.domain.log) == (4, 64, True)
    retries = found["retries"]  # negative: keeps its sign, linear range
    assert retries.value == -3 and (retries.domain.low, retries.domain.high) == (-12, -1)
    assert not retries.domain.log
    offset = found["offset"]
    assert offset.text == "-0.75" and offset.domain.high < 0 < -offset.domain.low
    assert found["rate@9"].text == "2.5e-3" and found["rate@9"].value == pytest.approx(0.0025)
    assert found["return"].value == 3.0
    assert not any(p.domain.annotated for p in space.parameters)
    # nothing outside the block, in strings, docstrings, comments, indexes or exponents
    assert all(p.line > 5 for p in space.parameters)
    assert {p.value for p in space.parameters}.isdisjoint({500, 12, 0.5, 0, 1, 2})


ANNOTATED = '''\
# EVOLVE-BLOCK-START
def plan():
    width = 0.3        # tune: 0.1..0.9
    budget = 64        # tune: 8..512 log
    n = 26             # the problem fixes 26 circles  # tune: off
    step = 0           # tune: 0..10
    mode = "greedy"    # tune: ["greedy", "random", "lookahead"]
    tiles = 32         # tune: [16, 32, 64]
    exact = False      # tune: on
    pairs = 2          # tune: on
    scale = 1e-4       # tune: 1e-6..1e-2 log
    return width, budget, n, step, mode, tiles, exact, pairs, scale
# EVOLVE-BLOCK-END
'''


def test_annotations_set_ranges_choices_and_switch_literals_on_and_off() -> None:
    found = {p.name: p for p in space_of(ANNOTATED).parameters}
    assert "n" not in found
    assert all(p.domain.annotated for p in found.values())
    width = found["width"]
    assert (width.kind, width.domain.low, width.domain.high, width.domain.log) == ("float", 0.1, 0.9, False)
    assert (found["budget"].kind, found["budget"].domain.log) == ("int", True)
    assert (found["step"].domain.low, found["step"].domain.high) == (0, 10)
    assert found["mode"].domain.choices == ("greedy", "random", "lookahead")
    assert found["tiles"].domain.choices == (16, 32, 64)
    assert found["exact"].domain.choices == (False, True)
    assert (found["pairs"].domain.low, found["pairs"].domain.high) == (1, 8)
    assert found["scale"].describe() == "1e-06..0.01 log"


def test_values_are_written_back_as_literals_of_their_kind() -> None:
    space = space_of(ANNOTATED)
    code = space.apply({"width": 0.123456789, "budget": 100, "mode": "lookahead",
                        "exact": True, "tiles": 64, "scale": 3e-5})
    tree = ast.parse(code)
    assert "width = 0.123457" in code and "budget = 100" in code
    assert "mode = 'lookahead'" in code and "exact = True" in code and "tiles = 64" in code
    assert "scale = 3e-05" in code and "n = 26" in code  # untouched
    assert space_of(code).values()["width"] == pytest.approx(0.123457)
    assert isinstance(tree, ast.Module)
    with pytest.raises(ValueError, match="outside"):
        space.apply({"width": 1.5})
    with pytest.raises(ValueError, match="not one of"):
        space.apply({"mode": "other"})
    with pytest.raises(ValueError, match="unknown parameters"):
        space.apply({"nope": 1})


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("# tune: 5..1", "LOW must be below HIGH"),
        ("# tune: 0..10 log", "log range needs LOW > 0"),
        ("# tune: 0.5..2.5", "needs int bounds"),
        ("# tune: [1]", "list of 2 to"),
        ("# tune: [1, 1]", "repeat a value"),
        ("# tune: [open(1), 2]", "not a list of literals"),
        ("# tune: sometimes", "cannot read"),
    ],
)
def test_an_unreadable_annotation_names_its_line(comment: str, message: str) -> None:
    source = f"# EVOLVE-BLOCK-START\nx = 1\ny = 3  {comment}\n# EVOLVE-BLOCK-END\n"
    with pytest.raises(SpaceError, match=message) as caught:
        space_of(source)
    assert caught.value.line == 3


def test_a_zero_switched_on_needs_bounds_and_a_syntax_error_is_reported() -> None:
    with pytest.raises(SpaceError, match="0 has no default range"):
        space_of("x = 0  # tune: on\n")
    with pytest.raises(SpaceError, match="syntax error") as caught:
        space_of("x = 1\ny = (\n")
    assert caught.value.line >= 2


def test_names_are_unique_and_offsets_survive_non_ascii_text() -> None:
    source = 'label = "äöü ✓"; a = 3.5\na = 7.5\nb = [0.25, 0.75]\n'
    space = space_of(source)
    assert space.names() == ["a@1", "a@2", "b@3:5", "b@3:11"]
    code = space.apply({"a@1": 4.0, "b@3:11": 0.5})
    assert code == 'label = "äöü ✓"; a = 4.0\na = 7.5\nb = [0.25, 0.5]\n'


def test_a_program_without_markers_is_tunable_as_a_whole() -> None:
    assert space_of("rate = 0.25\n").names() == ["rate"]


def test_the_shipped_circle_packing_program() -> None:
    code = (REPO / "problems" / "circle_packing" / "initial_program.py").read_text()
    found = {p.name: p for p in space_of(code).parameters}
    assert "n" not in found  # annotated off: the problem fixes the circle count
    assert {"inner_count", "inner_radius", "outer_radius", "margin"} <= set(found)


C_SOURCE = '''\
#define LIMIT 99
// EVOLVE-BLOCK-START
#define TILE 16  // tune: [8, 16, 32, 64]
/* a comment with 42 in it */
static const float ALPHA = 0.25f;
int f(int *a, int x) {
    const char *s = "text 77";
    int block = 128;   // tune: 32..512 log
    double eps = -1e-3;
    if (x > 4096) return a[3];
    return x * 3u;
}
// EVOLVE-BLOCK-END
'''


def test_a_c_source_keeps_suffixes_and_skips_comments_strings_and_indexes() -> None:
    space = space_of(C_SOURCE, "c")
    found = {p.name: p for p in space.parameters}
    assert list(found) == ["TILE", "ALPHA", "block", "eps", "x", "return"]
    assert found["TILE"].domain.choices == (8, 16, 32, 64)
    assert found["block"].domain.log and found["eps"].value == -0.001
    code = space.apply({"ALPHA": 0.5, "TILE": 32, "eps": -0.002, "return": 5})
    assert "#define TILE 32" in code and "ALPHA = 0.5f;" in code
    assert "eps = -0.002;" in code and "return x * 5u;" in code
    assert '"text 77"' in code and "LIMIT 99" in code and "a[3]" in code


def test_languages_with_hash_and_dash_comments() -> None:
    sql = "-- EVOLVE-BLOCK-START\nSELECT * FROM t LIMIT 100; -- tune: 10..1000\n-- EVOLVE-BLOCK-END\n"
    assert [p.describe() for p in space_of(sql, "sql").parameters] == ["10..1000"]
    shell = "# EVOLVE-BLOCK-START\nWORKERS=8  # tune: off\nBATCH=64 # 7 in a comment\n# EVOLVE-BLOCK-END\n"
    assert space_of(shell, "bash").names() == ["BATCH"]
    with pytest.raises(SpaceError, match="must be numbers"):
        space_of('// EVOLVE-BLOCK-START\nint m = 1; // tune: ["a", "b"]\nint k = 4; // tune: ["a", 3]\n'
                 "// EVOLVE-BLOCK-END\n", "c")


@pytest.mark.parametrize(
    ("source", "language"),
    [
        (f"x = {'9' * 400}\n", "python"),  # an int no float holds: not a setting
        ("x = 1e999\n", "python"),
        (f"int x = {'9' * 5000};\n", "c"),  # more digits than Python converts
        ("x = 3.5  # tune: 1..1e400\n", "python"),
        (f"x = 3  # tune: [1, {'9' * 30}]\n", "python"),
        ("x = 5  # tune: [" + "[" * 90 + "]" * 90 + ", 1]\n", "python"),
        ("x = 5  # tune: " + "1" * 500 + "\n", "python"),
        ("y = " + "(" * 300 + "1" + ")" * 300 + "\n", "python"),
    ],
)
def test_hostile_sources_give_a_space_or_a_space_error(source: str, language: str) -> None:
    """A candidate writes these: the extractor answers or raises SpaceError, nothing else."""
    try:
        space = space_of(source, language)
    except SpaceError:
        return
    assert all(p.domain.low is None or abs(p.domain.low) <= 2**53 for p in space.parameters)
