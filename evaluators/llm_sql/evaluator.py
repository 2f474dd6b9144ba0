"""LLM-SQL prefix reuse (ADRS ``llm_sql``): the evaluator.

The candidate's ``Evolved().reorder(df, ...)`` (the published interface) runs only in
the sandbox; what comes back is the returned frame's rows as text cells. Every row
must be an input row with its cells reordered (merged columns joined), each input row
exactly once; the prefix reuse of those rows is computed here.

    hit rate    = characters served from a prefix cache / all characters (rows in any
                  order give the same figure: see ``simulators.llm_sql.prefix``)
    score       = mean hit rate over the train tables
    adrs_score  = 0.95 * sum(hit rates) / 5 + 0.05 * (12 - min(12, seconds / 5)) / 12
                  (the ADRS formula: five tables of which only beer.csv exists, and the
                  reorder time of all tables, here measured by the sandbox's clock)

Holdout: seeded synthetic tables with other columns, in their own child.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluators.harnessed import CandidateFault, run_harnessed
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.trusted_seed import SECRET, seed_from
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.llm_sql import (
    HOLDOUT_TABLES,
    NotAPermutation,
    Table,
    check_answer,
    make_csv,
    prefix_hits,
    render,
)

HERE = Path(__file__).parent
HARNESS = HERE / "harness.py"
SHIM = {p.name: p.read_bytes() for p in sorted((HERE / "shim").glob("*.py"))
        if p.name != "__init__.py"}  # the shim folder is a package only for installs
ADRS_TABLES = 5  # the published evaluator divides by five whatever was found
DEFAULT_TRAIN = [{"file": "data/beer.csv", "col_merge": [["beer/beerId", "beer/name"]]}]
DEFAULT_HOLDOUT = [{"synthetic": "shop_reviews", "seed": SECRET},
                   {"synthetic": "support_tickets", "seed": SECRET}]


@dataclass(frozen=True)
class Dataset:
    table: Table
    csv: bytes


def _table(name: str, csv: bytes, col_merge: list[list[str]]) -> Dataset:
    df = pd.read_csv(io.BytesIO(csv))
    missing = [c for g in col_merge for c in g if c not in df.columns]
    if missing:
        raise ValueError(f"col_merge names unknown columns {missing}")
    cells = [[render(v) for v in row] for row in df.astype(object).values.tolist()]
    return Dataset(Table(name, [str(c) for c in df.columns], cells, col_merge), csv)


def _datasets(problem_dir: Path, value: Any, key: str) -> list[Dataset]:
    where = f"evaluator_args.{key}"
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise UserError("expected a list of {file, col_merge} or {synthetic, seed}", where)
    out = []
    for item in value:
        try:
            if "file" in item:
                path = Path(item["file"])
                path = path if path.is_absolute() else problem_dir / path
                if not path.is_file():
                    raise UserError(f"table file not found: {path}", where)
                merge = [list(map(str, g)) for g in item.get("col_merge", [])]
                out.append(_table(path.stem, path.read_bytes(), merge))
            elif item.get("synthetic") in HOLDOUT_TABLES:
                spec = HOLDOUT_TABLES[item["synthetic"]]
                given = item.get("seed", SECRET)
                seed = seed_from(given, f"llm_sql/{key}/{spec.name}", where)
                label = "secret" if given == SECRET else f"seed{given}"
                csv = make_csv(spec, seed).encode()
                out.append(_table(f"{spec.name}_{label}", csv, [list(g) for g in spec.col_merge]))
            else:
                raise UserError(f"{item!r}: 'file' or 'synthetic' (one of "
                                f"{', '.join(HOLDOUT_TABLES)}) is required", where)
        except (ValueError, TypeError, KeyError, pd.errors.ParserError) as exc:
            raise UserError(f"{item!r}: {exc}", where) from None
    return out


@dataclass
class Scored:
    hit_rates: dict[str, float]
    seconds: dict[str, float]

    @property
    def score(self) -> float:
        return float(np.mean(list(self.hit_rates.values())))

    def adrs_score(self) -> float:
        runtime = sum(self.seconds.values()) / ADRS_TABLES
        return (0.95 * sum(self.hit_rates.values()) / ADRS_TABLES
                + 0.05 * (12 - min(12.0, runtime)) / 12)


class LLMSQLEvaluator:
    """Scores ``Evolved.reorder`` by the prefix reuse of the rows it returns."""

    def __init__(
        self,
        problem_dir: Path,
        tables: list[dict[str, Any]] | None = None,
        holdout: list[dict[str, Any]] | None = None,
        memory_mb: int = 4096,
    ) -> None:
        problem_dir = Path(problem_dir)
        self.train = _datasets(problem_dir, DEFAULT_TRAIN if tables is None else tables,
                               "tables")
        if not self.train:
            raise UserError("needs at least one table", "evaluator_args.tables")
        self.holdout = _datasets(problem_dir, DEFAULT_HOLDOUT if holdout is None else holdout,
                                 "holdout")
        self.memory_mb = int(memory_mb)

    def _run(self, datasets: list[Dataset], candidate: Path, context: EvaluationContext,
             what: str) -> Scored:
        files, calls = {}, []
        for i, data in enumerate(datasets):
            name = f"table_{i}.csv"
            files[name] = data.csv
            calls += [CandidateCall("load", (name, int(context.seed))),
                      CandidateCall("run", (data.table.col_merge,)),
                      CandidateCall("answer")]
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        result = run_harnessed(context, HARNESS, candidate, calls, limits,
                               {**SHIM, **files}, what)
        scored = Scored({}, {})
        for i, data in enumerate(datasets):
            name = data.table.name
            try:
                prompts = check_answer(data.table, result.calls[3 * i + 2].value)
            except NotAPermutation as exc:
                raise CandidateFault(f"{what}, table {name}: {exc}") from None
            hits, total = prefix_hits(prompts)
            scored.hit_rates[name] = hits / total if total else 0.0
            scored.seconds[name] = float(sum(result.calls[3 * i + 1].times_s))
        return scored

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        try:
            scored = self._run(self.train, candidate_path, context, "train tables")
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        metrics = {"adrs_score": scored.adrs_score(), "reorder_s": sum(scored.seconds.values())}
        for name in scored.hit_rates:
            metrics[f"hit_rate_{name}"] = scored.hit_rates[name]
            metrics[f"reorder_s_{name}"] = scored.seconds[name]
        return EvaluationResult(
            valid=True, score=scored.score, metrics=metrics, instances=dict(scored.hit_rates),
            holdout=self._holdout(candidate_path, context),
            artifacts={"tables": "\n".join(
                f"{n}: hit rate {r:.4f}, reorder {scored.seconds[n]:.1f} s"
                for n, r in scored.hit_rates.items())},
        )

    def _holdout(self, candidate: Path, context: EvaluationContext) -> dict[str, float]:
        """In its own child, after the train tables; never shown to the LLM."""
        if not self.holdout:
            return {}
        try:
            scored = self._run(self.holdout, candidate, context, "holdout tables")
        except CandidateFault:
            return {"valid": 0.0, "score": 0.0}
        holdout = {"valid": 1.0, "score": scored.score}
        holdout.update({f"hit_rate_{n}": r for n, r in scored.hit_rates.items()})
        return holdout
