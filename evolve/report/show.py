"""Terminal views of one program (`evolve show`) and of two programs' difference (`evolve diff`).

Stored text is shown as ``shown_program`` bounds it and always as ``Text``, never as
markup (names like ``[blink]`` or ``[/]`` are printed as they are)."""

from __future__ import annotations

import difflib
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from evolve.codebase import files_diff
from evolve.database.records import ProgramRecord
from evolve.languages import language_of
from evolve.report.scores import (
    COMPATIBILITY_TRUST,
    fmt_date,
    fmt_score,
    fmt_value,
    in_compatibility_mode,
    program_holdout,
)
from evolve.report.shown import shown_program, shown_scratchpad
from evolve.report.source import RunHandle, lineage
from evolve.safe_text import bounded
from evolve.safe_text import line as one_line


def _kv_table(title: str, items: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2),
                  min_width=len(title) + 4)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in items.items():  # already sorted and bounded by shown_program
        table.add_row(Text(str(key)), Text(fmt_value(value)))
    return table


def summary_table(program: ProgramRecord) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    status = Text("valid", style="green") if program.valid else (
        Text("invalid", style="red") + Text(f": {program.reason}"))
    table.add_row("program", Text(program.id))
    table.add_row("status", status)
    table.add_row("score (train)", fmt_score(program.score))
    table.add_row("score (holdout)", fmt_score(program_holdout(program)))
    by_model = f" by {program.model}" if program.model else ""
    table.add_row("origin", Text(program.origin + by_model))
    table.add_row("parent", Text(program.parent_id or "-"))
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
        numeric = name in ("generation", "score", "change")
        table.add_column(name, justify="right" if numeric else "left")
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
        table.add_row(str(program.generation), Text(program.id[:12]), Text(program.origin),
                      fmt_score(program.score), change, Text(program.model or "-"))
        if program.score is not None:
            previous = program.score
    return table


def show_program(console: Console, handle: RunHandle, program: ProgramRecord,
                 code: bool = True) -> None:
    """Everything stored about one program, holdout kept apart from train metrics."""
    program = shown_program(program)
    console.print(Panel(summary_table(program), title=f"run {escape(handle.name)}", expand=False))
    if in_compatibility_mode(handle.store, handle.run_id):
        console.print(Text(f"trust: {COMPATIBILITY_TRUST}", style="bold yellow"))
    if program.metrics:
        console.print(_kv_table("metrics (train)", program.metrics))
    if program.instances:
        console.print(_kv_table("per-instance scores (train)", program.instances))
    if program.holdout:
        console.print(_kv_table("holdout (never shown to the LLM)", program.holdout))
    if program.features:
        console.print(_kv_table("MAP-Elites features", program.features))
    tune = program.metadata.get("tune")  # an autotuning trial: the values it was given
    if isinstance(tune, dict) and isinstance(tune.get("params"), dict):
        study = one_line(str(tune.get("study", "")))[:12]
        title = f"tuned literals (trial {one_line(str(tune.get('trial', '?')))[:12]} of {study})"
        console.print(_kv_table(escape(title), bounded(tune["params"])))
    for name, text in program.artifacts.items():
        console.print(Panel(Text(str(text)), title=f"artifact: {escape(name)}", title_align="left",
                            expand=False))
    scratchpads = handle.store.events(handle.run_id, "scratchpad")
    if scratchpads:  # the run's latest meta-scratchpad (search.scratchpad)
        title, body = shown_scratchpad(scratchpads[-1].data)
        console.print(Panel(Text(body), title=escape(title), title_align="left", expand=False))
    chain = [shown_program(p) for p in lineage(handle, program)]
    if len(chain) > 1:
        console.print(lineage_table(chain))
    if code and program.files:  # a folder program: one panel per file
        for path, text in sorted(program.files.items()):
            syntax = Syntax(text, language_of(path).name, line_numbers=True, word_wrap=True)
            console.print(Panel(syntax, title=f"file: {escape(path)}", title_align="left",
                                expand=False))
    elif code:
        # Wrapped, never cropped, on a terminal; other output has no width limit.
        console.print(Panel(Syntax(program.code, "python", line_numbers=True, word_wrap=True),
                            title="code", title_align="left", expand=False))


def unified_diff(a: ProgramRecord, b: ProgramRecord, context: int = 3) -> list[str]:
    """The diff of two programs' code, each cleaned and capped (``shown_program``); folder
    programs are diffed file by file (``--- a/<id>/<path>``, ``+++ b/<id>/<path>``)."""
    a, b = shown_program(a), shown_program(b)
    if a.files or b.files:
        return files_diff(a.files or {"program": a.code}, b.files or {"program": b.code},
                          context, (f"a/{a.id[:12]}", f"b/{b.id[:12]}"))
    return list(difflib.unified_diff(
        a.code.splitlines(), b.code.splitlines(),
        fromfile=f"a/{a.id[:12]} (score {fmt_score(a.score)})",
        tofile=f"b/{b.id[:12]} (score {fmt_score(b.score)})", lineterm="", n=context,
    ))


DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("+", "green"), ("-", "red"), ("@@", "cyan"))


def diff_line(line: str) -> Text:
    """One diff line as Text (never markup: the code is candidate-written)."""
    style = next((style for prefix, style in DIFF_STYLES if line.startswith(prefix)), "")
    return Text(line, style=style)


def diff_header(a: ProgramRecord, b: ProgramRecord) -> Text:
    a, b = shown_program(a), shown_program(b)
    header = Text()
    header.append(f"{a.id[:12]} -> {b.id[:12]}  ", style="bold")
    if a.score is not None and b.score is not None:
        delta = b.score - a.score
        header.append(f"score {fmt_score(a.score)} -> {fmt_score(b.score)} ({delta:+.4g})",
                      style="green" if delta > 0 else "red" if delta < 0 else "")
    else:
        header.append(f"score {fmt_score(a.score)} -> {fmt_score(b.score)}")
    return header


def show_diff(console: Console, a: ProgramRecord, b: ProgramRecord) -> None:
    """Line by line, each printed whole: a terminal wraps long lines, a pipe gets them as
    they are."""
    console.print(diff_header(a, b))
    lines = unified_diff(a, b)
    if not lines:
        console.print(Text("(identical code)", style="dim"))
    for line in lines:
        console.print(diff_line(line), soft_wrap=True)
