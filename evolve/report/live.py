"""Terminal views for a running evolution: live progress and the closing summary."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from evolve import safe_text
from evolve.console import make_console, stream_is_terminal
from evolve.database.answers import describe_counts
from evolve.report.scores import COMPATIBILITY_TRUST

if TYPE_CHECKING:
    from evolve.progress import Progress, RunSummary


def _fmt_score(score: float | None) -> str:
    return "-" if score is None else f"{score:.6g}"


def _eta(p: Progress) -> str:
    if p.iteration_budget is None or p.iterations == 0 or p.elapsed_s <= 0:
        return "-"
    left = max(p.iteration_budget - p.iterations, 0)
    rate = p.iterations / p.elapsed_s
    seconds = left / rate if rate > 0 else 0
    return time.strftime("%H:%M:%S", time.gmtime(seconds))


class LiveProgress:
    """rich live line on a terminal; plain periodic lines otherwise (logs, CI)."""

    def __init__(self, console: Console | None = None, plain_every_s: float = 5.0) -> None:
        self.console = console or make_console()
        self.plain_every_s = plain_every_s
        self._live: Live | None = None
        self._last_plain = 0.0
        self._last: Progress | None = None

    def __enter__(self) -> LiveProgress:
        if stream_is_terminal(self.console.file):
            self._live = Live(
                Text("starting..."), console=self.console, refresh_per_second=4, transient=True
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def render(self, p: Progress) -> Text:
        budget = f"/{p.iteration_budget}" if p.iteration_budget is not None else ""
        rate = p.valid / p.evaluations if p.evaluations else 0.0
        line = Text()
        line.append(f"iteration {p.iterations}{budget}", style="bold")
        line.append(f"  best {_fmt_score(p.best_score)}", style="green")
        line.append(f"  valid {rate:.0%}  evals {p.evaluations} ({p.evals_per_s:.2f}/s)")
        elapsed = time.strftime("%H:%M:%S", time.gmtime(p.elapsed_s))
        line.append(f"  ${p.usd:.4f}  elapsed {elapsed}  ETA {_eta(p)}")
        return line

    def update(self, progress: Progress) -> None:
        self._last = progress
        if progress.message:
            # Messages may quote evaluator or model text: never markup.
            self.console.print(Text(f"{time.strftime('%H:%M:%S')} ", style="dim")
                               + Text(safe_text.log(progress.message)))
        if self._live is not None:
            self._live.update(self.render(progress))
        elif time.monotonic() - self._last_plain >= self.plain_every_s:
            self._last_plain = time.monotonic()
            self.console.print(self.render(progress))


def print_summary(summary: RunSummary, console: Console, offline: bool = False) -> None:
    """The closing panel; ``offline``: the offline engine answered (no tokens, no cost)."""
    c = summary.counters
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    best = summary.best
    # Plain Text, not markup: metric names such as candidate_ms[rows=4] keep their brackets.
    table.add_row("stopped", Text(safe_text.clean(summary.stop_reason)))
    table.add_row("iterations", str(c.iterations))
    table.add_row("evaluations", f"{c.evaluations} ({c.valid} valid)")
    usage = (
        "offline engine: no tokens, no cost"
        if offline
        else f"{c.prompt_tokens + c.completion_tokens} tokens, ${c.usd:.4f}"
    )
    table.add_row("LLM calls", f"{c.llm_calls} ({usage})")
    if summary.failures:
        total = sum(summary.failures.values())
        table.add_row("no candidate", Text(safe_text.line(
            f"{total} answers: {describe_counts(summary.failures, 6)}", safe_text.TEXT_CHARS)))
    if summary.lenient:
        table.add_row("read leniently", Text(safe_text.line(
            describe_counts(summary.lenient, 6), safe_text.TEXT_CHARS)))
    for note in summary.notes:
        table.add_row("note", Text(note))
    if summary.compatibility_mode:
        table.add_row("trust", Text(COMPATIBILITY_TRUST, style="bold yellow"))
    if best is not None:
        start = _fmt_score(summary.initial_best)
        table.add_row("best score", f"{_fmt_score(best.score)} (initial {start})")
        table.add_row(
            "best program", f"{best.id} (island {best.island}, generation {best.generation})"
        )
        shown = sorted(best.metrics.items())[:8]
        if shown:
            table.add_row(
                "metrics",
                Text(safe_text.line(", ".join(
                    f"{safe_text.line(k)}={v:.6g}" if isinstance(v, float)
                    else f"{safe_text.line(k)}={v}"
                    for k, v in shown), safe_text.TEXT_CHARS)),
            )
        written = "best_program/" if best.files else "best_program.py"  # a folder program
        table.add_row("code", Text(str(summary.run_dir / written)))
    table.add_row("run folder", Text(str(summary.run_dir)))
    if summary.failures:
        table.add_row("failed answers", Text(f"evolve show {summary.run_dir} --failures"))
    table.add_row("continue", Text(f"evolve resume {summary.run_dir} --iterations 50"))
    console.print(Panel(table, title="evolve run summary", expand=False))
