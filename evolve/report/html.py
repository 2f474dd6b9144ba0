"""`evolve report`: one self-contained HTML file per run (offline: no server, no CDN).

plotly.js is embedded once, as its partial "cartesian" bundle (assets/, a third of the
full library; `evolve serve` sends it once as a shared asset instead); figure data
travel as one JSON block. Program code, artifacts and reasons are untrusted text: Jinja
autoescaping and Pygments escape them, and the JSON block cannot close its script tag.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from plotly.offline import get_plotlyjs
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, PythonLexer, TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from evolve import __version__
from evolve.codebase import files_diff
from evolve.database.records import ProgramRecord
from evolve.edits import LENIENT_READINGS
from evolve.errors import UserError
from evolve.languages import language_of
from evolve.report import figures
from evolve.report.answer_texts import call_text
from evolve.report.collect import RunData, collect_run
from evolve.report.scores import (
    COMPATIBILITY_TRUST,
    fmt_date,
    fmt_duration,
    fmt_model_mix,
    fmt_score,
    fmt_usd,
    fmt_value,
    in_compatibility_mode,
    offline_run,
    program_holdout,
    short_label,
)
from evolve.report.source import RunHandle
from evolve.safe_text import clip, strip_controls

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


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` output: text loses control characters before it is escaped
    (Markup is built here, from escaped parts, and passes as it is)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value)
    return value


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True, finalize=_finalize)
    env.filters.update(score=fmt_score, value=fmt_value, usd=fmt_usd, date=fmt_date,
                       duration=fmt_duration, short=lambda s: (s or "")[:12], clip=_clip,
                       short_label=short_label)
    return env


def _clip(text: Any, limit: int = MAX_ARTIFACT_CHARS) -> str:
    return clip(str(text), limit)


_FORMATTER = HtmlFormatter(cssclass="hl", wrapcode=True)


def highlight_code(code: str) -> Markup:
    """Pygments escapes every character it emits, so the result is safe markup."""
    return Markup(highlight(_clip(code, MAX_CODE_CHARS), PythonLexer(), _FORMATTER))


def highlight_program(program: ProgramRecord) -> Markup:
    """The program's code; a folder program file by file, each in its own language."""
    if not program.files:
        return highlight_code(program.code)
    parts = []
    for path, text in sorted(program.files.items()):
        try:
            lexer = get_lexer_by_name(language_of(path).name)
        except ClassNotFound:
            lexer = TextLexer()
        code = highlight(_clip(text, MAX_CODE_CHARS), lexer, _FORMATTER)
        parts.append(f'<h5 class="file">{escape(path)}</h5>{code}')
    return Markup("".join(parts))


def program_diff_html(parent: ProgramRecord, child: ProgramRecord) -> tuple[Markup, int, int]:
    """A lineage step's diff; folder programs file by file (``a/path``, ``b/path``)."""
    if parent.files or child.files:
        lines = files_diff(parent.files or {"program": parent.code},
                           child.files or {"program": child.code}, context=2)
        return _diff_markup(lines)
    return diff_html(parent.code, child.code)


def diff_html(before: str, after: str) -> tuple[Markup, int, int]:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "parent", "child",
                                      lineterm="", n=2))
    return _diff_markup(lines)


def _diff_markup(lines: list[str]) -> tuple[Markup, int, int]:
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    if not lines:
        return Markup('<p class="muted">same code (a copy)</p>'), 0, 0
    markup = Markup(highlight(_clip("\n".join(lines), MAX_CODE_CHARS), DiffLexer(), _FORMATTER))
    return markup, added, removed


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
        markup, added, removed = program_diff_html(chain[index - 1], chain[index])
        steps.append(LineageStep(chain[index], delta, markup, added, removed))
    return steps, (len(chain) - 1) - len(steps)


ASSETS = Path(__file__).parent / "assets"
PLOTLY_BUNDLE = ASSETS / "plotly-cartesian.min.js"  # scatter, bar, heatmap: every chart here


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle the report embeds (the full one only if the partial is missing)."""
    text = PLOTLY_BUNDLE.read_text(encoding="utf-8") if PLOTLY_BUNDLE.is_file() else get_plotlyjs()
    # the bundle contains no "</script"; replacing keeps that true for any future version
    return text.replace("</script", "<\\/script")


def figures_json(data: RunData) -> Markup:
    parts = [f"{json.dumps(name)}:{pio.to_json(fig, validate=False)}"
             for name, fig in figures.all_figures(data).items()]
    # "<" only occurs inside JSON strings, where \u003c means the same: nothing in the
    # block can end its script element or start a comment that changes how it ends.
    return Markup(("{" + ",".join(parts) + "}").replace("<", "\\u003c"))


def build_report(handle: RunHandle, top_n: int = 10, refresh_s: int | None = None,
                 plotly_src: str | None = None) -> str:
    """The report as one HTML string; ``refresh_s`` makes the page reload itself (live view);
    ``plotly_src``: the URL of a shared plotly.js (served once) instead of embedding it."""
    data = collect_run(handle, top_n=top_n)
    best = data.top[0] if data.top else None
    steps, omitted = lineage_steps(data.lineage)
    c = data.counters
    record = data.run
    wall = data.last_activity - data.first_activity
    offline = offline_run(record.config)
    summary = [
        ("best score (train)", fmt_score(best.score if best else None), "best-score"),
        ("holdout of best", fmt_score(program_holdout(best) if best else None), "best-holdout"),
        ("programs", str(data.programs), "program-count"),
        ("evaluations", str(data.evaluations), "evaluation-count"),
        ("valid", f"{c.valid / max(c.valid + c.invalid, 1):.0%}", "valid-rate"),
        ("LLM calls", str(c.llm_calls), "llm-calls"),
        ("tokens", "offline" if offline else f"{c.prompt_tokens + c.completion_tokens:,}",
         "tokens"),
        ("cost", "offline" if offline else fmt_usd(c.usd), "usd"),
        ("wall time", fmt_duration(wall), "wall"),
        ("answers without a candidate", str(data.failed_answers), "failed-answers"),
    ]
    # Each lineage step opens the prompt and answer that wrote it.
    step_texts = {step.program.id: [call_text(handle.store, call)
                                    for call in data.program_calls.get(step.program.id, [])]
                  for step in steps}
    mix = {m.name: m.calls for m in data.models}
    page = _env().get_template("report.html.j2").render(
        run=record, handle=handle, data=data, best=best, summary=summary, steps=steps,
        omitted_steps=omitted, model_mix=fmt_model_mix(mix), holdout_of=program_holdout,
        highlight=highlight_code, highlight_program=highlight_program,
        pygments_css=Markup(_FORMATTER.get_style_defs(".hl")),
        figures_json=figures_json(data), version=__version__, plotly_src=plotly_src,
        plotly_js=Markup(plotly_js()) if plotly_src is None else Markup(""), offline=offline,
        generated=time.strftime("%Y-%m-%d %H:%M:%S"), counters=c, refresh_s=refresh_s,
        step_texts=step_texts, lenient_readings=LENIENT_READINGS,
        compatibility=COMPATIBILITY_TRUST if in_compatibility_mode(handle.store, handle.run_id)
        else "",
    )
    return with_policy(page)


# Executable inline scripts are exactly "<script>...</script>" (the figure data block has
# a type attribute and is not run); stored text is escaped, so it cannot add one.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_SCRIPT_FILE = re.compile(r"<script\b[^>]*\bsrc=")


def content_security_policy(page: str) -> str:
    """The page's policy: only its own inline scripts (by hash) and, when it loads
    plotly.js from the server, scripts from that server; nothing remote, no plugins,
    no forms, no frames of other sites; styles inline (plotly sets them at run time)."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(page))
    same_origin = " 'self'" if _SCRIPT_FILE.search(page) else ""
    return (f"default-src 'none'; script-src{same_origin}{hashes}; style-src 'unsafe-inline'; "
            "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'")


def with_policy(page: str) -> str:
    """``page`` with its Content-Security-Policy as a meta element at the top of <head>,
    so the report file carries it too (opened from disk, it has no HTTP headers)."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(page)}">'
    for anchor in ('<meta charset="utf-8">', "<head>"):  # before any script
        at = page.find(anchor)
        if at >= 0:
            at += len(anchor)
            return page[:at] + "\n" + meta + page[at:]
    return page


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
