"""Terminal views of one program (`evolve show`) and of two programs' difference (`evolve diff`)."""

from __future__ import annotations

import difflib
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from evolve.database.records import ProgramRecord
from evolve.report.scores import fmt_date, fmt_score, fmt_value, program_holdout
from evolve.report.source import RunHandle, lineage

MAX_ARTIFACT_CHARS = 4000  # per artifact in the terminal; the database keeps everything


def _kv_table(title: str, items: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2),
                  min_width=len(title) + 4)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in sorted(items.items()):
        table.add_row(escape(str(key)), escape(fmt_value(value)))
    return table


def summary_table(program: ProgramRecord) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    status = "[green]valid[/]" if program.valid else f"[red]invalid[/]: {escape(program.reason)}"
    table.add_row("program", program.id)
    table.add_row("status", status)
    table.add_row("score (train)", fmt_score(program.score))
    table.add_row("score (holdout)", fmt_score(program_holdout(program)))
    table.add_row("origin", f"{program.origin}" + (f" by {escape(program.model)}" if program.model else ""))
    table.add_row("parent", program.parent_id or "-")
    table.add_row("island / generation / iteration",
                  f"{program.island} / {program.generation} / {program.iteration}")
    table.add_row("changed lines", str(program.changed_lines))
    table.add_row("evaluation time", f"{program.eval_s:.3g}s")
    table.add_row("created", fmt_date(program.created_at))
    return table


LINEAGE_ROWS = 30  # longer lineages show their first and last steps


def lineage_table(chain: list[ProgramRecord]) -> Table:
    table = Table(title=f"lineage (root first, {len(chain) - 1} steps)", title_justify="left")
    for name in ("generation", "program", "origin", "score", "change", "model"):
        table.add_column(name, justify="right" if name in ("generation", "score", "change") else "left")
    previous: float | None = None
    hidden = range(5, len(chain) - (LINEAGE_ROWS - 5)) if len(chain) > LINEAGE_ROWS else range(0)
    for index, program in enumerate(chain):
        if index in hidden:
            if index == hidden.start:
                table.add_row("...", f"[dim]{len(hidden)} steps[/]", "", "", "", "")
            if program.score is not None:
                previous = program.score
            continue
        change = "-"
        if program.score is not None and previous is not None:
            delta = program.score - previous
            style = "green" if delta > 0 else "red" if delta < 0 else "dim"
            change = f"[{style}]{delta:+.4g}[/]"
        table.add_row(str(program.generation), program.id[:12], program.origin, fmt_score(program.score),
                      change, escape(program.model or "-"))
        if program.score is not None:
            previous = program.score
    return table


def show_program(console: Console, handle: RunHandle, program: ProgramRecord, code: bool = True) -> None:
    """Everything stored about one program, holdout kept apart from train metrics."""
    console.print(Panel(summary_table(program), title=f"run {escape(handle.name)}", expand=False))
    if program.metrics:
        console.print(_kv_table("metrics (train)", program.metrics))
    if program.instances:
        console.print(_kv_table("per-instance scores (train)", program.instances))
    if program.holdout:
        console.print(_kv_table("holdout (never shown to the LLM)", program.holdout))
    if program.features:
        console.print(_kv_table("MAP-Elites features", program.features))
    for name, text in sorted(program.artifacts.items()):
        body = str(text)
        if len(body) > MAX_ARTIFACT_CHARS:
            body = body[:MAX_ARTIFACT_CHARS] + f"\n... ({len(str(text)) - MAX_ARTIFACT_CHARS} more characters)"
        console.print(Panel(Text(body), title=f"artifact: {escape(str(name))}", title_align="left"))
    scratchpads = handle.store.events(handle.run_id, "scratchpad")
    if scratchpads:  # the run's latest meta-scratchpad (search.scratchpad)
        pad = scratchpads[-1].data
        recs = "".join(f"\n- {r}" for r in pad.get("recommendations", []))
        console.print(Panel(Text(f"{pad.get('text', '')}\n\nRecommendations:{recs}"), title_align="left",
                            title=f"run scratchpad ({pad.get('source', '')}, after {pad.get('evaluated', 0)} children)"))
    chain = lineage(handle, program)
    if len(chain) > 1:
        console.print(lineage_table(chain))
    if code:
        console.print(Panel(Syntax(program.code, "python", line_numbers=True, word_wrap=False),
                            title="code", title_align="left"))


def unified_diff(a: ProgramRecord, b: ProgramRecord, context: int = 3) -> list[str]:
    return list(difflib.unified_diff(
        a.code.splitlines(), b.code.splitlines(), fromfile=f"a/{a.id[:12]} (score {fmt_score(a.score)})",
        tofile=f"b/{b.id[:12]} (score {fmt_score(b.score)})", lineterm="", n=context,
    ))


def diff_renderable(a: ProgramRecord, b: ProgramRecord) -> Group:
    lines = unified_diff(a, b)
    header = Text()
    header.append(f"{a.id[:12]} -> {b.id[:12]}  ", style="bold")
    if a.score is not None and b.score is not None:
        delta = b.score - a.score
        header.append(f"score {fmt_score(a.score)} -> {fmt_score(b.score)} ({delta:+.4g})",
                      style="green" if delta > 0 else "red" if delta < 0 else "")
    else:
        header.append(f"score {fmt_score(a.score)} -> {fmt_score(b.score)}")
    if not lines:
        return Group(header, Text("(identical code)", style="dim"))
    return Group(header, Syntax("\n".join(lines), "diff", word_wrap=False))


def show_diff(console: Console, a: ProgramRecord, b: ProgramRecord) -> None:
    console.print(diff_renderable(a, b))
