"""Prompt context and rendering with Jinja templates.

Templates are looked up first in ``<problem_dir>/prompts/`` (a problem overrides any
template by file name), then in the default set: the repository's ``prompts/``
directory (source checkouts and editable installs), or ``<prefix>/share/evolve/prompts``
where a wheel install puts the same files. Undefined variables are errors
(StrictUndefined) so a broken override fails loudly instead of rendering blanks.

Holdout scores are never part of a prompt: :class:`ProgramView` has no field for them,
and metric names starting with ``holdout`` are dropped on the way in.
"""

from __future__ import annotations

import math
import sys
import sysconfig
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import jinja2

from evolve.codebase import editable_paths
from evolve.edits import evolve_blocks
from evolve.errors import UserError
from evolve.languages import describe_languages, language_of

TEMPLATE_NAMES = {"diff": "diff.j2", "rewrite": "rewrite.j2"}
STRATEGY_TEMPLATES = {"explore": "explore.j2", "exploit": "exploit.j2"}  # adaptive exploration
FIX_TEMPLATE = "fix.j2"
SYSTEM_TEMPLATE = "system.j2"


@dataclass
class FileView:
    """One file of a folder program as a prompt shows it (``text`` may leave lines out)."""

    path: str
    language: str  # fence tag, e.g. "python", "c"
    text: str
    editable: bool  # holds EVOLVE-BLOCKs
    note: str = ""  # e.g. what was left out


@dataclass
class ProgramView:
    """What a prompt may show about one program (deliberately no holdout field).

    Folder programs: ``files`` is what the prompt shows of them (see :func:`file_views`),
    ``file_texts`` every file in full (what edits apply to; never rendered whole)."""

    id: str
    code: str
    score: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    files: list[FileView] = field(default_factory=list)
    file_texts: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> bool:
        return bool(self.file_texts)

    @classmethod
    def from_record(
        cls,
        record: Any,
        include_artifacts: bool = True,
        file_chars: int = 16_000,
        languages: dict[str, str] | None = None,
        compare_with: dict[str, str] | None = None,
    ) -> ProgramView:
        """View of a stored program (any object with ProgramRecord's attributes); a folder
        program's files are shown as :func:`file_views` chooses."""
        texts = dict(getattr(record, "files", {}) or {})
        return cls(
            id=str(record.id),
            code=record.code,
            score=record.score if getattr(record, "valid", True) else None,
            metrics=visible_metrics(getattr(record, "metrics", {}) or {}),
            artifacts=dict(getattr(record, "artifacts", {}) or {}) if include_artifacts else {},
            reason=getattr(record, "reason", "") or "",
            files=file_views(texts, file_chars, languages, compare_with) if texts else [],
            file_texts=texts,
        )


@dataclass
class PromptContext:
    description: str
    parent: ProgramView
    inspirations: list[ProgramView] = field(default_factory=list)
    failures: list[ProgramView] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    edit_error: str = ""  # set when the previous edit failed; selects fix.j2
    mode: str = "diff"  # "diff" | "rewrite"
    max_changed_lines: int | None = None
    language: str = "python"
    # "explore" | "exploit" | "": selects explore.j2 / exploit.j2 (search.exploration)
    strategy: str = ""
    scratchpad: str = ""  # what the search learned so far (search.scratchpad)
    recommendation: str = ""  # one recommendation from the scratchpad


def _elided(lines: list[str], keep: set[int]) -> str:
    """The kept lines, each run of left-out lines replaced by one line saying so."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        if index in keep:
            out.append(lines[index])
            index += 1
            continue
        end = index
        while end < len(lines) and end not in keep:
            end += 1
        out.append(f"... [lines {index + 1}-{end} not shown] ...")
        index = end
    return "\n".join(out)


def block_excerpt(text: str, budget: int, most_context: int = 40) -> tuple[str, str]:
    """``text`` whole when it fits ``budget``, else its EVOLVE-BLOCKs (always whole, with
    their marker lines) and as many lines around them as fit. Returns (text, note)."""
    if len(text) <= budget:
        return text, ""
    lines = text.splitlines()
    blocks = evolve_blocks(text)
    for around in range(most_context, -1, -1):
        keep = {i for start, end in blocks
                for i in range(max(0, start - 1 - around), min(len(lines), end + 1 + around))}
        shown = _elided(lines, keep)
        if len(shown) <= budget or around == 0:
            return shown, f"{len(lines) - len(keep)} of {len(lines)} lines not shown"
    raise AssertionError("unreachable")


def file_views(
    files: dict[str, str],
    budget: int,
    languages: dict[str, str] | None = None,
    compare_with: dict[str, str] | None = None,
) -> list[FileView]:
    """What a prompt shows of a folder program within ``budget`` characters.

    The current program (``compare_with`` None): editable files first (whole when they all
    fit, else their blocks with the lines around them), then context files, smallest
    first, whole while the budget lasts (the rest are named only). Another program:
    only its editable files that differ from ``compare_with``, as block excerpts.
    """
    editable = editable_paths(files)
    views: list[FileView] = []
    if compare_with is not None:
        changed = [p for p in editable if compare_with.get(p) != files[p]]
        for path in changed:
            text, note = block_excerpt(files[path], budget // max(len(changed), 1), 3)
            views.append(FileView(path, language_of(path, languages).name, text, True, note))
        return views
    whole = sum(len(files[p]) for p in editable) <= budget
    share = budget if whole else budget // max(len(editable), 1)
    left = budget
    for path in editable:
        text, note = block_excerpt(files[path], share)
        left -= len(text)
        views.append(FileView(path, language_of(path, languages).name, text, True, note))
    for path in sorted((p for p in files if p not in editable), key=lambda p: len(files[p])):
        language = language_of(path, languages).name
        if len(files[path]) <= left:
            left -= len(files[path])
            views.append(FileView(path, language, files[path], False))
        else:
            lines = len(files[path].splitlines())
            views.append(FileView(path, language, "", False, f"{lines} lines, not shown"))
    return views


def program_language(view: ProgramView, default: str) -> str:
    """How the system prompt names the program's language(s) ("Python and C")."""
    if not view.files:
        return default
    return describe_languages([f.language for f in view.files])


def visible_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if not str(k).lower().startswith("holdout")}


def format_number(value: Any, digits: int = 4) -> str:
    """Numbers rounded to ``digits`` significant digits; anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def clip(text: Any, limit: int) -> str:
    """Keep the head of long text and say how much was cut."""
    shown = str(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}\n... [{len(shown) - limit} more characters]"


def default_prompt_dirs() -> list[Path]:
    """The shipped templates: repository checkout first, then a wheel's data dir."""
    here = Path(__file__).resolve().parent.parent / "prompts"
    installed = Path(sysconfig.get_path("data")) / "share" / "evolve" / "prompts"
    prefix = Path(sys.prefix) / "share" / "evolve" / "prompts"
    found = [d for d in (here, installed, prefix) if (d / SYSTEM_TEMPLATE).is_file()]
    return list(dict.fromkeys(found))


class PromptBuilder:
    """Renders a :class:`PromptContext` into ``[system, user]`` chat messages."""

    def __init__(
        self,
        problem_dir: Path | None = None,
        *,
        artifact_chars: int = 1500,
        failure_code_chars: int = 1500,
    ) -> None:
        search: list[Path] = []
        if problem_dir is not None and (Path(problem_dir) / "prompts").is_dir():
            search.append(Path(problem_dir) / "prompts")
        defaults = default_prompt_dirs()
        if not defaults:
            raise UserError(
                "default prompt templates not found (expected prompts/system.j2 next to the "
                "evolve package or under <prefix>/share/evolve/prompts)",
                "prompts",
            )
        search.extend(defaults)
        self.search_path = search
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in search]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["num"] = format_number
        self.env.filters["clip"] = clip
        self.env.filters["visible_metrics"] = visible_metrics
        self.artifact_chars = artifact_chars
        self.failure_code_chars = failure_code_chars

    def template_for(self, ctx: PromptContext) -> str:
        if ctx.edit_error:
            return FIX_TEMPLATE
        if ctx.strategy in STRATEGY_TEMPLATES and ctx.mode in TEMPLATE_NAMES:
            return STRATEGY_TEMPLATES[ctx.strategy]
        try:
            return TEMPLATE_NAMES[ctx.mode]
        except KeyError:
            raise UserError(
                f"unknown prompt mode {ctx.mode!r} (expected one of {', '.join(TEMPLATE_NAMES)})",
                "prompt.mode",
            ) from None

    def _render(self, name: str, variables: dict[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(**variables).strip() + "\n"
        except jinja2.TemplateNotFound as exc:
            raise UserError(f"template {exc.name} not found", f"prompts/{name}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(
                f"template syntax error on line {exc.lineno}: {exc.message}",
                f"{exc.filename or name}",
            ) from None
        except jinja2.UndefinedError as exc:
            raise UserError(
                f"template uses an undefined variable ({exc.message})", f"prompts/{name}"
            ) from None

    def render(self, ctx: PromptContext) -> list[dict[str, str]]:
        variables = {f.name: getattr(ctx, f.name) for f in fields(ctx)}
        variables["artifact_chars"] = self.artifact_chars
        variables["failure_code_chars"] = self.failure_code_chars
        return [
            {"role": "system", "content": self._render(SYSTEM_TEMPLATE, variables)},
            {"role": "user", "content": self._render(self.template_for(ctx), variables)},
        ]
