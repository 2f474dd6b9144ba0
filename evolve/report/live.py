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

if TYPE_CHECKING:
    from evolve.controller import Progress, RunSummary


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
        self.console = console or Console()
        self.plain_every_s = plain_every_s
        self._live: Live | None = None
        self._last_plain = 0.0
        self._last: Progress | None = None

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal:
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
        line.append(
            f"  ${p.usd:.4f}  elapsed {time.strftime('%H:%M:%S', time.gmtime(p.elapsed_s))}  ETA {_eta(p)}"
        )
        return line

    def update(self, progress: Progress) -> None:
        self._last = progress
        if progress.message:
            self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {progress.message}")
        if self._live is not None:
            self._live.update(self.render(progress))
        elif time.monotonic() - self._last_plain >= self.plain_every_s:
            self._last_plain = time.monotonic()
            self.console.print(self.render(progress))


def print_summary(summary: RunSummary, console: Console) -> None:
    c = summary.counters
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    best = summary.best
    # Plain Text, not markup: metric names such as candidate_ms[rows=4] keep their brackets.
    table.add_row("stopped", Text(summary.stop_reason))
    table.add_row("iterations", str(c.iterations))
    table.add_row("evaluations", f"{c.evaluations} ({c.valid} valid)")
    table.add_row(
        "LLM calls", f"{c.llm_calls} ({c.prompt_tokens + c.completion_tokens} tokens, ${c.usd:.4f})"
    )
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
                Text(", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown)),
            )
        table.add_row("code", Text(str(summary.run_dir / "best_program.py")))
    table.add_row("run folder", Text(str(summary.run_dir)))
    table.add_row("continue", Text(f"evolve resume {summary.run_dir} --iterations 50"))
    console.print(Panel(table, title="evolve run summary", expand=False))
