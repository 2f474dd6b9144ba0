"""One pass over a run's programs into the small aggregates a report draws.

Every series is bounded in size whatever the population (change points, buckets,
a sampled scatter), so a report on 10,000 programs stays a few hundred kilobytes of
data; only the top-N programs and the best program's lineage keep their code.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from evolve.database.answers import failure_counts, lenient_counts
from evolve.database.lenient import text, whole
from evolve.database.records import LLMCallRecord, ProgramRecord, RunCounters, RunRecord
from evolve.report.answer_texts import FailureGroup, edit_errors, failure_groups
from evolve.report.scores import holdout_score, shorten
from evolve.report.shown import shown_program, shown_run
from evolve.report.source import RunHandle, lineage
from evolve.safe_text import line
from evolve.search.features import FeatureAxis

T = TypeVar("T")

SCATTER_POINTS = 2000  # at most this many points in any scatter
VALIDITY_BUCKETS = 40
TOP_REASONS = 10
REASON_CHARS = 100  # reasons are grouped by their first line, cut to this length


@dataclass
class BestPoint:
    evaluation: int
    usd: float
    score: float
    holdout: float | None
    program_id: str


@dataclass
class ModelStats:
    name: str
    calls: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0
    latency_s: float = 0.0
    programs: int = 0
    valid: int = 0
    improved_parent: int = 0
    new_best: int = 0


@dataclass
class IslandStats:
    island: int
    programs: int = 0
    valid: int = 0
    best: float | None = None


@dataclass
class Grid:
    """MAP-Elites occupancy over two feature dimensions (one when only one is configured)."""

    x_name: str
    y_name: str | None
    bins: int
    best: list[list[float | None]]  # [y][x]
    count: list[list[int]]


@dataclass
class RunData:
    run: RunRecord
    counters: RunCounters
    programs: int = 0
    evaluations: int = 0  # programs that were evaluated (migration copies are not)
    best_curve: list[BestPoint] = field(default_factory=list)
    # (evaluation, usd, score)
    scatter: list[tuple[int, float, float]] = field(default_factory=list)
    # (train, holdout, id)
    holdout_pairs: list[tuple[float, float, str]] = field(default_factory=list)
    # (from, to, valid, invalid)
    validity: list[tuple[int, int, int, int]] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    islands: list[IslandStats] = field(default_factory=list)
    grid: Grid | None = None
    models: list[ModelStats] = field(default_factory=list)
    top: list[ProgramRecord] = field(default_factory=list)
    lineage: list[ProgramRecord] = field(default_factory=list)
    total_usd: float = 0.0
    first_activity: float = float("inf")
    last_activity: float = 0.0  # newest program or LLM call (wall time of a running run)
    failures: list[FailureGroup] = field(default_factory=list)  # answers without a candidate
    failed_answers: int = 0
    lenient: dict[str, int] = field(default_factory=dict)  # candidates read forgivingly
    program_calls: dict[str, list[LLMCallRecord]] = field(default_factory=dict)  # lineage's


def is_copy(p: ProgramRecord) -> bool:
    """Migration copies and per-island copies of a baseline were not evaluated again."""
    return p.origin == "migration" or (p.origin == "initial" and p.parent_id is not None)


class _UsdClock:
    """Cumulative LLM spend at a moment: calls are stored before the program they produce."""

    def __init__(self, calls: list[LLMCallRecord]) -> None:
        ordered = sorted(calls, key=lambda c: c.created_at)
        self.times = [c.created_at for c in ordered]
        self.totals: list[float] = []
        running = 0.0
        for call in ordered:
            running += call.cost_usd
            self.totals.append(running)

    def at(self, moment: float) -> float:
        index = bisect.bisect_right(self.times, moment)
        return self.totals[index - 1] if index else 0.0


def _model_stats(calls: list[LLMCallRecord]) -> dict[str, ModelStats]:
    stats: dict[str, ModelStats] = {}
    for call in calls:
        s = stats.setdefault(call.model or "offline", ModelStats(call.model or "offline"))
        s.calls += 1
        s.failed += 0 if call.ok else 1
        s.prompt_tokens += call.prompt_tokens
        s.completion_tokens += call.completion_tokens
        s.usd += call.cost_usd
        s.latency_s += call.latency_s
    return stats


def _grid(points: list[tuple[dict[str, float], float]], dims: list[str], bins: int) -> Grid | None:
    dims = [d for d in dims if any(d in f for f, _ in points)][:2]
    if not dims or not points:
        return None
    axes = [FeatureAxis(d, bins, log_scale=d == "complexity") for d in dims]
    for features, _ in points:
        for axis in axes:
            axis.observe(float(features.get(axis.name, 0.0)))
    rows = bins if len(axes) == 2 else 1
    best: list[list[float | None]] = [[None] * bins for _ in range(rows)]
    count = [[0] * bins for _ in range(rows)]
    for features, score in points:
        x = axes[0].bin(float(features.get(axes[0].name, 0.0)))
        y = axes[1].bin(float(features.get(axes[1].name, 0.0))) if len(axes) == 2 else 0
        count[y][x] += 1
        current = best[y][x]
        best[y][x] = score if current is None else max(current, score)
    return Grid(dims[0], dims[1] if len(dims) == 2 else None, bins, best, count)


MAX_BINS = 64  # per feature axis: a stored config cannot make the grid unbounded


def _feature_config(config: dict[str, Any]) -> tuple[list[str], int]:
    section = config.get("database")
    db: dict[str, Any] = section if isinstance(section, dict) else {}
    dims = db.get("feature_dimensions")
    if not isinstance(dims, list) or not dims:
        dims = ["complexity", "diversity"]
    bins = whole(db.get("feature_bins") or 8)
    return [text(d) for d in dims[:2]], min(max(1, bins), MAX_BINS)


def collect_run(handle: RunHandle, top_n: int = 10) -> RunData:
    store, run_id = handle.store, handle.run_id
    calls = store.llm_calls(run_id)
    data = RunData(run=handle.record, counters=store.counters(run_id))
    usd = _UsdClock(calls)
    models = _model_stats(calls)
    islands: dict[int, IslandStats] = {}
    scores: dict[str, float | None] = {}
    reasons: dict[str, int] = {}
    flags: list[bool] = []
    feature_points: list[tuple[dict[str, float], float]] = []
    raw_scatter: list[tuple[int, float, float]] = []
    raw_pairs: list[tuple[float, float, str]] = []
    top_heap: list[tuple[float, int, ProgramRecord]] = []
    best: BestPoint | None = None

    for seq, p in enumerate(store.programs(run_id)):
        data.programs += 1
        data.first_activity = min(data.first_activity, p.created_at)
        data.last_activity = max(data.last_activity, p.created_at)
        scores[p.id] = p.score if p.valid else None
        isl = islands.setdefault(p.island, IslandStats(p.island))
        isl.programs += 1
        if p.valid and p.score is not None:
            isl.valid += 1
            isl.best = p.score if isl.best is None else max(isl.best, p.score)
        if is_copy(p):
            continue
        data.evaluations += 1
        n = data.evaluations
        flags.append(p.valid)
        spent = usd.at(p.created_at)
        model = models.get(p.model) if p.origin == "llm" else None
        if model is not None:
            model.programs += 1
        if not p.valid or p.score is None:
            first = (p.reason or "no reason given").splitlines()[0]
            key = shorten(line(first, 4 * REASON_CHARS), REASON_CHARS)
            reasons[key] = reasons.get(key, 0) + 1
            continue
        if model is not None:
            model.valid += 1
            parent_score = scores.get(p.parent_id) if p.parent_id else None
            model.improved_parent += int(parent_score is not None and p.score > parent_score)
        hold = holdout_score(p.holdout)
        raw_scatter.append((n, spent, p.score))
        if hold is not None:
            raw_pairs.append((p.score, hold, p.id))
        if p.features:
            feature_points.append((p.features, p.score))
        if best is None or p.score > best.score:
            best = BestPoint(n, spent, p.score, hold, p.id)
            data.best_curve.append(best)
            if model is not None:
                model.new_best += 1
        entry = (p.score, -seq, p)
        if len(top_heap) < top_n:
            heapq.heappush(top_heap, entry)
        elif entry[:2] > top_heap[0][:2]:
            heapq.heapreplace(top_heap, entry)

    data.total_usd = data.counters.usd
    data.first_activity = min(data.first_activity, handle.record.created_at)
    data.last_activity = max([data.last_activity, handle.record.updated_at]
                             + [c.created_at for c in calls[-1:]])
    if best is not None and data.evaluations > best.evaluation:
        # close the step curve at the last evaluation
        data.best_curve.append(BestPoint(data.evaluations, usd.at(float("inf")), best.score,
                                         best.holdout, best.program_id))
    data.scatter = _thin(raw_scatter, lambda pt: pt[2])
    data.holdout_pairs = _thin(raw_pairs, lambda pt: pt[0])
    data.validity = _buckets(flags)
    data.reasons = sorted(reasons.items(), key=lambda kv: -kv[1])[:TOP_REASONS]
    data.islands = [islands[k] for k in sorted(islands)][:MAX_ISLANDS]
    dims, bins = _feature_config(handle.record.config)
    try:
        data.grid = _grid(feature_points, dims, bins)
    except (ValueError, OverflowError):  # stored features too extreme to bin: no grid
        data.grid = None
    data.models = _shown_models(models)
    # Views get bounded, cleaned copies (evolve.report.shown); the store keeps the rest.
    data.run = shown_run(handle.record)
    data.top = [shown_program(entry[2])
                for entry in sorted(top_heap, key=lambda e: e[:2], reverse=True)]
    if top_heap:
        best_stored = max(top_heap, key=lambda e: e[:2])[2]
        data.lineage = [shown_program(p) for p in lineage(handle, best_stored)]
    _collect_answers(data, handle, calls)
    return data


def _collect_answers(data: RunData, handle: RunHandle, calls: list[LLMCallRecord]) -> None:
    """What the answers led to: failures by reason with examples, lenient readings, and
    the calls behind each program of the best lineage (their prompts open in the report)."""
    data.failures = failure_groups(handle.store, calls, edit_errors(handle))
    data.failed_answers = sum(failure_counts(calls).values())
    data.lenient = lenient_counts(calls)
    wanted = {p.id for p in data.lineage}
    for call in calls:
        if call.program_id in wanted:
            data.program_calls.setdefault(call.program_id, []).append(call)


MAX_ISLANDS = 256  # islands drawn; a run configures a handful
MAX_MODELS = 30  # models listed by calls; the rest are summed in one row


def _shown_models(models: dict[str, ModelStats]) -> list[ModelStats]:
    ranked = sorted(models.values(), key=lambda m: -m.calls)
    shown = ranked[:MAX_MODELS]
    for m in shown:
        m.name = line(m.name)
    rest = ranked[MAX_MODELS:]
    if rest:
        other = ModelStats(f"{len(rest)} other models")
        for m in rest:
            for name in ("calls", "failed", "prompt_tokens", "completion_tokens", "usd",
                         "latency_s", "programs", "valid", "improved_parent", "new_best"):
                setattr(other, name, getattr(other, name) + getattr(m, name))
        shown.append(other)
    return shown


def _thin(points: list[T], score: Callable[[T], float]) -> list[T]:
    """Every k-th point, so the browser draws at most SCATTER_POINTS (the best is always kept)."""
    if len(points) <= SCATTER_POINTS:
        return points
    step = len(points) / SCATTER_POINTS
    kept = [points[int(i * step)] for i in range(SCATTER_POINTS)]
    top = max(points, key=score)
    if top not in kept:
        kept.append(top)
    return kept


def _buckets(flags: list[bool]) -> list[tuple[int, int, int, int]]:
    if not flags:
        return []
    size = max(1, -(-len(flags) // VALIDITY_BUCKETS))
    out = []
    for start in range(0, len(flags), size):
        chunk = flags[start:start + size]
        valid = sum(chunk)
        out.append((start + 1, start + len(chunk), valid, len(chunk) - valid))
    return out
