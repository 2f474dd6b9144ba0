"""The leaderboard: one row per run (its best program), score and cost side by side.

Train and holdout scores sit in separate columns so overfitting shows; cost is in
calls, tokens, USD, evaluations and wall time, not folded into the score.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from evolve.database.answers import describe_counts, failure_counts
from evolve.errors import UserError
from evolve.report.scores import (
    fmt_date,
    fmt_duration,
    fmt_model_mix,
    fmt_score,
    fmt_usd,
    model_mix,
    offline_run,
    program_holdout,
)
from evolve.report.source import RunHandle, iter_runs, skipped
from evolve.safe_text import clean_json, csv_cell, line

FORMATS = ("table", "json", "csv")


@dataclass
class LeaderboardRow:
    problem: str
    run: str
    run_dir: str
    run_id: str
    status: str
    best_program: str | None
    score: float | None  # best train score (the search objective)
    holdout: float | None  # holdout score of that same program
    models: dict[str, int] = field(default_factory=dict)  # LLM calls per model
    llm_calls: int = 0
    tokens: int = 0
    usd: float = 0.0
    evaluations: int = 0
    programs: int = 0
    wall_s: float = 0.0
    seed: int = 0
    created_at: float = 0.0
    offline: bool = False  # the offline engine answered: tokens and cost are not model usage
    # Answers that produced no candidate: how many, and by reason (evolve.database.answers).
    failed_answers: int = 0
    failures: dict[str, int] = field(default_factory=dict)


# Sort keys a user may name, mapped to row attributes. Numbers sort high-first by default.
SORT_KEYS: dict[str, str] = {
    "score": "score", "holdout": "holdout", "usd": "usd", "cost": "usd", "tokens": "tokens",
    "calls": "llm_calls", "evaluations": "evaluations", "programs": "programs", "wall": "wall_s",
    "date": "created_at", "seed": "seed", "problem": "problem", "run": "run",
    "failed": "failed_answers",
}
TEXT_KEYS = {"problem", "run"}


MODELS_SHOWN = 10  # per row; the rest are summed as "other models"


def row_for(handle: RunHandle) -> LeaderboardRow:
    """One run's row; every text field is cleaned and capped (``evolve.safe_text``)."""
    store, run_id, record = handle.store, handle.run_id, handle.record
    counters = store.counters(run_id)
    best = store.best_program(run_id)
    calls = store.llm_calls(run_id)
    last_activity = max([record.updated_at] + [c.created_at for c in calls[-1:]])
    failures = failure_counts(calls)
    return LeaderboardRow(
        problem=line(record.problem), run=handle.name, run_dir=str(handle.run_dir),
        run_id=line(run_id), status=line(record.status, 40),
        best_program=line(best.id) if best else None,
        score=best.score if best else None, holdout=program_holdout(best) if best else None,
        models=_top_models(model_mix(calls)), llm_calls=counters.llm_calls,
        tokens=counters.prompt_tokens + counters.completion_tokens, usd=counters.usd,
        evaluations=counters.evaluations, programs=store.count_programs(run_id),
        wall_s=max(0.0, last_activity - record.created_at), seed=record.seed,
        created_at=record.created_at, offline=offline_run(record.config),
        failed_answers=sum(failures.values()),
        failures={line(reason, 80): count for reason, count in list(failures.items())[:20]},
    )


def _top_models(mix: dict[str, int]) -> dict[str, int]:
    items = list(mix.items())
    shown = {line(name, 80): count for name, count in items[:MODELS_SHOWN]}
    others = sum(count for _, count in items[MODELS_SHOWN:])
    if others:
        shown[f"{len(items) - MODELS_SHOWN} other models"] = others
    return shown


def collect(root: str | Path, problem: str | None = None,
            warnings: list[str] | None = None, database: str | None = None) -> list[LeaderboardRow]:
    """Rows for every run below ``root`` (optionally one problem); a run that cannot be
    read adds one line to ``warnings`` and is left out."""
    warn = warnings if warnings is not None else []
    rows = []
    for handle in iter_runs(root, warn, database):
        with handle:
            if problem is not None and handle.record.problem != problem:
                continue
            try:
                rows.append(row_for(handle))
            except Exception as exc:  # noqa: BLE001 - one bad run never hides the others
                warn.append(skipped(handle.run_dir, exc))
    return rows


def sort_rows(rows: Iterable[LeaderboardRow], key: str | None = None,
              ascending: bool = False) -> list[LeaderboardRow]:
    """Default: grouped by problem, best score first. Missing values always sort last."""
    items = list(rows)
    if key is None:
        return sorted(items, key=lambda r: (r.problem, r.score is None, -(r.score or 0.0),
                                            r.created_at))
    if key not in SORT_KEYS:
        raise UserError(f"unknown sort key {key!r} (one of: {', '.join(SORT_KEYS)})", "--sort")
    attr = SORT_KEYS[key]
    present = [r for r in items if getattr(r, attr) is not None]
    missing = [r for r in items if getattr(r, attr) is None]
    reverse = not ascending if key not in TEXT_KEYS else ascending
    present.sort(key=lambda r: getattr(r, attr), reverse=reverse)
    return present + missing


def to_json(rows: list[LeaderboardRow]) -> str:
    return json.dumps(clean_json([asdict(r) for r in rows]), indent=2)


CSV_COLUMNS = ["problem", "run", "score", "holdout", "models", "llm_calls", "tokens", "usd",
               "evaluations", "programs", "wall_s", "seed", "date", "status", "offline",
               "failed_answers", "failures", "best_program", "run_dir", "run_id"]


def scored(rows: Iterable[LeaderboardRow]) -> tuple[list[LeaderboardRow], int]:
    """Rows of runs with a scored (valid, evaluated) program, and how many were left out
    (failed starts, runs whose baselines were all invalid, runs not yet past seeding)."""
    items = list(rows)
    kept = [r for r in items if r.score is not None]
    return kept, len(items) - len(kept)


def to_csv(rows: list[LeaderboardRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        data = asdict(r)
        data["models"] = ";".join(f"{name}={count}" for name, count in r.models.items())
        data["date"] = fmt_date(r.created_at)
        data["failures"] = ";".join(f"{reason}={count}" for reason, count in r.failures.items())
        # Text cells a spreadsheet would run as a formula (=, +, -, @) are quoted.
        writer.writerow(["" if data[c] is None else csv_cell(data[c]) if isinstance(data[c], str)
                         else data[c] for c in CSV_COLUMNS])
    return out.getvalue()


def to_table(rows: list[LeaderboardRow]) -> Table:
    table = Table(title="evolve leaderboard", title_justify="left")
    for name, justify in (("problem", "left"), ("run", "left"), ("status", "left"),
                          ("train", "right"), ("holdout", "right"), ("models", "left"),
                          ("LLM calls", "right"), ("no candidate", "left"), ("tokens", "right"),
                          ("USD", "right"), ("evals", "right"), ("wall", "right"),
                          ("seed", "right"), ("date", "left")):
        table.add_column(name, justify=justify,  # type: ignore[arg-type]
                         no_wrap=name not in ("models", "run", "no candidate"))
    for r in rows:
        table.add_row(  # stored names as Text: never read as markup
            Text(r.problem), Text(r.run), Text(r.status), fmt_score(r.score), fmt_score(r.holdout),
            Text(fmt_model_mix(r.models)), str(r.llm_calls), Text(_failed_cell(r)),
            "offline" if r.offline else f"{r.tokens:,}",
            "offline" if r.offline else fmt_usd(r.usd), str(r.evaluations),
            fmt_duration(r.wall_s), str(r.seed), fmt_date(r.created_at),
        )
    return table


def _failed_cell(row: LeaderboardRow) -> str:
    """``12: edit failed: no_match 8, LLM error: server 4`` (``0`` when every answer counted)."""
    if not row.failed_answers:
        return "0"
    return f"{row.failed_answers}: {describe_counts(row.failures, 2)}"


def render(rows: list[LeaderboardRow], fmt: str, console: Console) -> None:
    if fmt == "json":
        print(to_json(rows))
    elif fmt == "csv":
        print(to_csv(rows), end="")
    elif fmt == "table":
        if rows:
            console.print(to_table(rows))
        else:
            console.print("no runs found")
    else:
        raise UserError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})", "--format")
