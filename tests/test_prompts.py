"""Prompt rendering: default templates, problem overrides, no holdout in prompts."""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

import pytest

from evolve.errors import UserError
from evolve.prompts import ProgramView, PromptBuilder, PromptContext, default_prompt_dirs

CODE = "import math\n# EVOLVE-BLOCK-START\ndef f(x):\n    return x * 2\n# EVOLVE-BLOCK-END\n"


def make_context(**overrides) -> PromptContext:
    metrics = {"makespan": 12.3456789, "valid_frac": 1.0}
    failure = ProgramView("f1", CODE.replace("2", "0"), None, {}, reason="division by zero in f")
    values: dict = {
        "description": "Minimise the makespan of the schedule.",
        "parent": ProgramView("p1", CODE, 0.123456789, metrics, {"stderr": "warning: slow"}),
        "inspirations": [ProgramView("i1", CODE.replace("2", "3"), 0.5, {})],
        "failures": [failure],
        "hints": ["Sorting jobs by length helps."],
        "max_changed_lines": 40,
    }
    values.update(overrides)
    return PromptContext(**values)


def test_defaults_are_found():
    assert default_prompt_dirs(), "prompts/system.j2 must be shipped"


def test_diff_prompt_shows_context_and_format():
    system, user = PromptBuilder().render(make_context())
    assert system["role"] == "system" and user["role"] == "user"
    text = user["content"]
    for expected in (
        "Minimise the makespan",
        CODE.strip(),
        "score: 0.1235",
        "makespan=12.35",
        "warning: slow",
        "score: 0.5",
        "division by zero in f",
        "Sorting jobs by length helps.",
        "Change at most 40 lines",
        "<<<<<<< SEARCH",
        ">>>>>>> REPLACE",
    ):
        assert expected in text, expected


def test_rewrite_and_fix_templates():
    builder = PromptBuilder()
    rewrite = builder.render(make_context(mode="rewrite"))[1]["content"]
    assert "complete new program" in rewrite and "<<<<<<< SEARCH" not in rewrite
    fix = builder.render(
        make_context(edit_error="SEARCH block 2 did not match the parent program")
    )[1]["content"]
    assert "could not be used" in fix and "SEARCH block 2 did not match the parent program" in fix
    assert "<<<<<<< SEARCH" in fix
    fix_rewrite = builder.render(make_context(mode="rewrite", edit_error="bad"))[1]["content"]
    assert "complete new program" in fix_rewrite


def test_artifacts_are_truncated():
    parent = ProgramView("p", CODE, 1.0, {}, {"log": "x" * 5000})
    text = PromptBuilder(artifact_chars=100).render(make_context(parent=parent))[1]["content"]
    assert "x" * 100 in text and "x" * 101 not in text and "[4900 more characters]" in text


def test_problem_override_wins(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diff.j2").write_text("CUSTOM {{ parent.id }} {{ description }}\n")
    builder = PromptBuilder(problem_dir=tmp_path)
    system, user = builder.render(make_context())
    assert user["content"] == "CUSTOM p1 Minimise the makespan of the schedule.\n"
    assert "evolutionary search" in system["content"]  # not overridden: the default


def test_override_with_undefined_variable_is_a_user_error(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diff.j2").write_text("{{ no_such_variable }}\n")
    with pytest.raises(UserError, match="undefined"):
        PromptBuilder(problem_dir=tmp_path).render(make_context())


def test_unknown_mode_is_a_user_error():
    with pytest.raises(UserError):
        PromptBuilder().render(make_context(mode="poem"))


def test_holdout_never_reaches_the_prompt():
    assert "holdout" not in {f.name for f in fields(ProgramView)}
    record = SimpleNamespace(
        id="r1",
        code=CODE,
        valid=True,
        score=0.75,
        reason="",
        metrics={"speed": 1.5, "holdout_speed": 987.654},
        holdout={"secret_workload": 31337.0},
        artifacts={"note": "fine"},
    )
    view = ProgramView.from_record(record)
    ctx = make_context(parent=view, inspirations=[view], failures=[])
    # metrics given directly with a holdout key are hidden too
    ctx.inspirations.append(ProgramView("i2", CODE, 0.1, {"holdout_score": 4242.0}))
    for message in PromptBuilder().render(ctx):
        assert "31337" not in message["content"]
        assert "987.6" not in message["content"]
        assert "4242" not in message["content"]
        assert "secret_workload" not in message["content"]
    assert "speed=1.5" in PromptBuilder().render(ctx)[1]["content"]


def test_invalid_record_shows_as_invalid():
    record = SimpleNamespace(
        id="r", code=CODE, valid=False, score=0.0, reason="crashed", metrics={}, artifacts={}
    )
    view = ProgramView.from_record(record, include_artifacts=False)
    assert view.score is None and view.reason == "crashed"
    text = PromptBuilder().render(make_context(parent=view))[1]["content"]
    assert "score: invalid" in text
