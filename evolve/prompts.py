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

from evolve.errors import UserError

TEMPLATE_NAMES = {"diff": "diff.j2", "rewrite": "rewrite.j2"}
STRATEGY_TEMPLATES = {"explore": "explore.j2", "exploit": "exploit.j2"}  # adaptive exploration
FIX_TEMPLATE = "fix.j2"
SYSTEM_TEMPLATE = "system.j2"


@dataclass
class ProgramView:
    """What a prompt may show about one program (deliberately no holdout field)."""

    id: str
    code: str
    score: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @classmethod
    def from_record(cls, record: Any, include_artifacts: bool = True) -> ProgramView:
        """View of a stored program (any object with ProgramRecord's attributes)."""
        return cls(
            id=str(record.id),
            code=record.code,
            score=record.score if getattr(record, "valid", True) else None,
            metrics=visible_metrics(getattr(record, "metrics", {}) or {}),
            artifacts=dict(getattr(record, "artifacts", {}) or {}) if include_artifacts else {},
            reason=getattr(record, "reason", "") or "",
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
    strategy: str = ""  # "explore" | "exploit" | "": selects explore.j2 / exploit.j2 (search.exploration)
    scratchpad: str = ""  # what the search learned so far (search.scratchpad)
    recommendation: str = ""  # one recommendation from the scratchpad


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
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... [{len(text) - limit} more characters]"


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
