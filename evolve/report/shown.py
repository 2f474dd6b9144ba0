"""Stored records as every view shows them: each text field cleaned and capped.

Views (terminal, HTML report, charts, leaderboard) take these copies, so a field a
candidate, an evaluator or whoever shared the run folder filled with escape sequences,
markup or 50 MB of text is shown as bounded plain text. Each view still escapes for
its own medium (``evolve.safe_text``). ``evolve show --code-only`` alone prints a
program's stored code unchanged (when its output is not a terminal).
"""

from __future__ import annotations

import copy
from typing import Any

from evolve.database.records import LLMCallRecord, ProgramRecord, RunRecord
from evolve.safe_text import CODE_CHARS, NAME_CHARS, TEXT_CHARS, bounded, clean, line

ID_CHARS = 64
MAX_FILES = 200  # files of a folder program shown (evolve.codebase.MAX_FILES)
ORIGIN_CHARS = 40


def shown_program(program: ProgramRecord) -> ProgramRecord:
    """A copy of ``program`` fit to show (the stored record is left as it is)."""
    shown = copy.copy(program)  # not the constructor: a stored unknown origin is kept
    shown.id = line(program.id, ID_CHARS)
    shown.run_id = line(program.run_id, ID_CHARS)
    shown.parent_id = None if program.parent_id is None else line(program.parent_id, ID_CHARS)
    shown.code = clean(program.code, CODE_CHARS)
    shown.files = {line(path, NAME_CHARS): clean(text, CODE_CHARS)
                   for path, text in list(program.files.items())[:MAX_FILES]}
    shown.metrics = bounded(program.metrics)
    shown.instances = bounded(program.instances)
    shown.holdout = bounded(program.holdout)
    shown.artifacts = bounded(program.artifacts)
    shown.features = {k: v for k, v in bounded(program.features).items() if isinstance(v, float)}
    shown.reason = clean(program.reason, TEXT_CHARS)
    shown.origin = line(program.origin, ORIGIN_CHARS)
    shown.model = line(program.model, NAME_CHARS)
    return shown


def shown_run(record: RunRecord) -> RunRecord:
    """A copy of a run's record with its name, problem and status fit to show."""
    shown = copy.copy(record)
    shown.id = line(record.id, ID_CHARS)
    shown.name = line(record.name, NAME_CHARS)
    shown.problem = line(record.problem, NAME_CHARS)
    shown.status = line(record.status, ORIGIN_CHARS)
    return shown


def shown_call(call: LLMCallRecord) -> LLMCallRecord:
    shown = copy.copy(call)
    shown.model = line(call.model, NAME_CHARS)
    shown.error = clean(call.error, TEXT_CHARS)
    return shown


def shown_scratchpad(data: dict[str, Any]) -> tuple[str, str]:
    """A scratchpad event's (title, body), cleaned and capped."""
    recs = data.get("recommendations")
    items = [line(r, TEXT_CHARS) for r in recs[:20]] if isinstance(recs, list) else []
    body = clean(data.get("text", ""), TEXT_CHARS) + "\n\nRecommendations:" + "".join(
        f"\n- {r}" for r in items)
    title = f"run scratchpad ({line(data.get('source', ''), 40)}, after " \
            f"{line(data.get('evaluated', 0), 20)} children)"
    return title, body
