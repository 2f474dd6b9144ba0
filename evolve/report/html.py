"""`evolve report`: one self-contained HTML file per run (offline: no server, no CDN).

plotly.js is embedded once from the installed plotly package; figure data travel as
one JSON block. Program code, artifacts and reasons are untrusted text: Jinja
autoescaping and Pygments escape them, and the JSON block cannot close its script tag.
"""

from __future__ import annotations

import difflib
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, PythonLexer

from evolve import __version__
from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.report import figures
from evolve.report.collect import RunData, collect_run
from evolve.report.scores import (
    fmt_date,
    fmt_duration,
    fmt_model_mix,
    fmt_score,
    fmt_usd,
    fmt_value,
    program_holdout,
)
from evolve.report.source import RunHandle

TEMPLATES = Path(__file__).parent / "templates"
LINEAGE_DIFFS = 60  # steps of the best program's lineage shown with their diff
MAX_CODE_CHARS = 100_000
MAX_ARTIFACT_CHARS = 4000


@dataclass
class LineageStep:
    program: ProgramRecord
    delta: float | None
    diff_html: Markup
    added: int
    removed: int


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(score=fmt_score, value=fmt_value, usd=fmt_usd, date=fmt_date, duration=fmt_duration,
                       short=lambda s: (s or "")[:12], clip=_clip)
    return env


def _clip(text: Any, limit: int = MAX_ARTIFACT_CHARS) -> str:
    body = str(text)
    return body if len(body) <= limit else body[:limit] + f"\n... ({len(body) - limit} more characters)"


_FORMATTER = HtmlFormatter(cssclass="hl", wrapcode=True)


def highlight_code(code: str) -> Markup:
    """Pygments escapes every character it emits, so the result is safe markup."""
    return Markup(highlight(_clip(code, MAX_CODE_CHARS), PythonLexer(), _FORMATTER))


def diff_html(before: str, after: str) -> tuple[Markup, int, int]:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "parent", "child",
                                      lineterm="", n=2))
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    if not lines:
        return Markup('<p class="muted">same code (a copy)</p>'), 0, 0
    return Markup(highlight(_clip("\n".join(lines), MAX_CODE_CHARS), DiffLexer(), _FORMATTER)), added, removed


def lineage_steps(chain: list[ProgramRecord]) -> tuple[list[LineageStep], int]:
    """Steps of the best program's lineage with their diffs; long chains keep the biggest moves."""
    candidates: list[tuple[int, float | None]] = []
    for index in range(1, len(chain)):
        prev, cur = chain[index - 1], chain[index]
        delta = cur.score - prev.score if cur.score is not None and prev.score is not None else None
        candidates.append((index, delta))
    if len(candidates) > LINEAGE_DIFFS:
        last = candidates[-1]
        ranked = sorted(candidates[:-1], key=lambda c: -abs(c[1] or 0.0))[:LINEAGE_DIFFS - 1]
        candidates = sorted(ranked + [last])
    steps = []
    for index, delta in candidates:
        markup, added, removed = diff_html(chain[index - 1].code, chain[index].code)
        steps.append(LineageStep(chain[index], delta, markup, added, removed))
    return steps, (len(chain) - 1) - len(steps)


@lru_cache(maxsize=1)
def plotly_js() -> str:
    # the bundle contains no "</script"; replacing keeps that true for any future version
    return get_plotlyjs().replace("</script", "<\\/script")


def figures_json(data: RunData) -> Markup:
    parts = [f"{json.dumps(name)}:{pio.to_json(fig, validate=False)}"
             for name, fig in figures.all_figures(data).items()]
    return Markup(("{" + ",".join(parts) + "}").replace("</", "<\\/"))


def build_report(handle: RunHandle, top_n: int = 10, refresh_s: int | None = None) -> str:
    """The report as one HTML string; ``refresh_s`` makes the page reload itself (live view)."""
    data = collect_run(handle, top_n=top_n)
    best = data.top[0] if data.top else None
    steps, omitted = lineage_steps(data.lineage)
    c = data.counters
    record = data.run
    wall = data.last_activity - data.first_activity
    summary = [
        ("best score (train)", fmt_score(best.score if best else None), "best-score"),
        ("holdout of best", fmt_score(program_holdout(best) if best else None), "best-holdout"),
        ("programs", str(data.programs), "program-count"),
        ("evaluations", str(data.evaluations), "evaluation-count"),
        ("valid", f"{c.valid / max(c.valid + c.invalid, 1):.0%}", "valid-rate"),
        ("LLM calls", str(c.llm_calls), "llm-calls"),
        ("tokens", f"{c.prompt_tokens + c.completion_tokens:,}", "tokens"),
        ("cost", fmt_usd(c.usd), "usd"),
        ("wall time", fmt_duration(wall), "wall"),
    ]
    mix = {m.name: m.calls for m in data.models}
    return _env().get_template("report.html.j2").render(
        run=record, handle=handle, data=data, best=best, summary=summary, steps=steps,
        omitted_steps=omitted, model_mix=fmt_model_mix(mix), holdout_of=program_holdout,
        highlight=highlight_code, pygments_css=Markup(_FORMATTER.get_style_defs(".hl")),
        figures_json=figures_json(data), plotly_js=Markup(plotly_js()), version=__version__,
        generated=time.strftime("%Y-%m-%d %H:%M:%S"), counters=c, refresh_s=refresh_s,
    )


def default_output(handle: RunHandle) -> Path:
    return handle.run_dir / "report.html"


def write_report(handle: RunHandle, output: str | Path | None = None, top_n: int = 10) -> Path:
    """Render and write atomically (a browser refreshing mid-write never sees half a file)."""
    if top_n < 1:
        raise UserError("must be at least 1", "--top")
    path = Path(output) if output is not None else default_output(handle)
    if path.is_dir():
        path = path / "report.html"
    html = build_report(handle, top_n=top_n)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"cannot write the report ({exc.strerror})", str(path)) from None
    return path
