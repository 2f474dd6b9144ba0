"""Cloud transfer (Cloudcast) evaluator: broadcast routing priced by the simulator.

The candidate's ``search_algorithm(src, dsts, G, num_partitions)`` runs only in the
sandbox, once per scenario, all scenarios in one child. It gets its own pickled copy
of the graph, so mutating it changes nothing here; the routing it returns is reduced to
region names in the child (``convert.paths_to_plain``), checked against the network,
and priced from the simulator's private copy of prices and throughputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.cloud_transfer import feedback
from evaluators.cloud_transfer.feedback import ScenarioOutcome
from evaluators.cloud_transfer.setup import (
    MODES,
    RICH_VM_PRICE_PER_HOUR,
    CostModel,
    PreparedScenario,
    network_for,
    prepare,
)
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.trusted_seed import trusted_seed
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.cloud_transfer import InvalidRouting, load_scenario
from simulators.cloud_transfer.holdout import draw_holdout
from simulators.cloud_transfer.model import ADRS_NUM_VMS, ADRS_VM_PRICE_PER_HOUR
from simulators.cloud_transfer.network import scenario_from_dict

CONVERT = "evaluators.cloud_transfer.convert:paths_to_plain"
TRAIN_SCENARIOS = [
    f"data/config/{n}.json"
    for n in ("intra_aws", "intra_azure", "intra_gcp", "inter_agz", "inter_gaz2")
]
HOLDOUT_SCENARIOS = "data/holdout"
SECRET = "secret"  # holdout drawn from the installation's secret seed


def _arg(key: str) -> str:
    return f"evaluator_args.{key}"


def _scenario_files(problem_dir: Path, value: Any, key: str) -> list[Path]:
    """A list of JSON files, or a folder (every ``*.json`` in it, sorted)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise UserError("expected a folder or a list of scenario JSON files", _arg(key))
    files: list[Path] = []
    for item in items:
        path = Path(item) if Path(item).is_absolute() else problem_dir / item
        if path.is_dir():
            files.extend(sorted(path.glob("*.json")))
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(
                f"scenario file or folder '{item}' not found under {problem_dir}", _arg(key)
            )
    return files


class CloudTransferEvaluator:
    """Scores ``search_algorithm`` on the train scenarios; holdout scenarios apart.

    ``score`` = sum of egress lower bounds / total cost (in (0, 1], higher is better);
    ``metrics.gap_to_optimum`` = total cost / cost of the reference optimum - 1.
    """

    def __init__(
        self,
        problem_dir: Path,
        mode: str = "adrs",
        network: str = "data/profiles/edges_slim.csv",
        scenarios: list[str] | str | None = None,
        holdout: list[str] | str | None = HOLDOUT_SCENARIOS,
        num_vms: int = ADRS_NUM_VMS,
        vm_price_per_hour: float | dict[str, float] | None = None,
        deadline_s_per_gb: float = 2.0,
        max_vms_per_region: int = 8,
        memory_mb: int = 2048,
    ) -> None:
        problem_dir = Path(problem_dir)
        if mode not in MODES:
            raise UserError(f"must be one of {', '.join(MODES)}, got {mode!r}", _arg("mode"))
        if isinstance(num_vms, bool) or not isinstance(num_vms, int) or num_vms < 1:
            raise UserError(f"must be a whole number >= 1, got {num_vms!r}", _arg("num_vms"))
        if (
            isinstance(max_vms_per_region, bool)
            or not isinstance(max_vms_per_region, int)
            or max_vms_per_region < num_vms
        ):
            raise UserError(
                f"must be a whole number >= num_vms ({num_vms}), got {max_vms_per_region!r}",
                _arg("max_vms_per_region"),
            )
        if not isinstance(deadline_s_per_gb, (int, float)) or deadline_s_per_gb <= 0:
            raise UserError(
                f"must be a positive number, got {deadline_s_per_gb!r}", _arg("deadline_s_per_gb")
            )
        prices = self._prices(mode, vm_price_per_hour)
        self.model = CostModel(
            mode,
            num_vms,
            prices,
            float(deadline_s_per_gb) if mode == "rich" else None,
            max_vms_per_region if mode == "rich" else None,
        )
        network_path = Path(network) if Path(network).is_absolute() else problem_dir / network
        if not network_path.is_file():
            raise UserError(
                f"network file '{network}' not found under {problem_dir}", _arg("network")
            )
        self.network = network_for(network_path)
        self.memory_mb = int(memory_mb)
        self.train = self._prepare(
            problem_dir,
            network_path,
            TRAIN_SCENARIOS if scenarios is None else scenarios,
            "scenarios",
        )
        if not self.train:
            raise UserError("no train scenarios", _arg("scenarios"))
        if holdout == SECRET:
            self.holdout = self._secret_holdout(network_path)
        else:
            self.holdout = (
                self._prepare(problem_dir, network_path, holdout, "holdout") if holdout else []
            )

    def _secret_holdout(self, network_path: Path) -> list[PreparedScenario]:
        """Scenarios drawn by the documented holdout rule from this installation's secret
        seed, so no file and no public seed names them (docs/problems/cloud_transfer.md)."""
        seed = trusted_seed("cloud_transfer/holdout")
        drawn = draw_holdout(self.network, seed, [p.scenario.src for p in self.train])
        return [
            prepare(self.network, str(network_path.resolve()),
                    scenario_from_dict(data["name"], data, self.network), self.model)
            for data in drawn
        ]

    @staticmethod
    def _prices(mode: str, value: float | dict[str, float] | None) -> dict[str, float]:
        if value is None:
            value = ADRS_VM_PRICE_PER_HOUR if mode == "adrs" else dict(RICH_VM_PRICE_PER_HOUR)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return {p: float(value) for p in RICH_VM_PRICE_PER_HOUR}
        if mode == "rich" and isinstance(value, dict):
            missing = [p for p in RICH_VM_PRICE_PER_HOUR if p not in value]
            bad = [
                k
                for k, v in value.items()
                if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0
            ]
            if not missing and not bad:
                return {p: float(value[p]) for p in RICH_VM_PRICE_PER_HOUR}
        shape = (
            "a number" if mode == "adrs" else "a number or a mapping aws/gcp/azure -> USD per hour"
        )
        raise UserError(
            f"expected {shape} (non-negative), got {value!r}", _arg("vm_price_per_hour")
        )

    def _prepare(
        self, problem_dir: Path, network_path: Path, value: Any, key: str
    ) -> list[PreparedScenario]:
        prepared = []
        for path in _scenario_files(problem_dir, value, key):
            try:
                scenario = load_scenario(path, self.network)
            except (ValueError, OSError) as exc:
                raise UserError(str(exc), f"{_arg(key)}: {path.name}") from None
            prepared.append(
                prepare(self.network, str(network_path.resolve()), scenario, self.model)
            )
        return prepared

    # ------------------------------------------------------------------ evaluation

    def _calls(self, prepared: list[PreparedScenario]) -> list[CandidateCall]:
        return [
            CandidateCall(
                function="search_algorithm",
                args=(p.scenario.src, list(p.scenario.dsts), p.graph, p.scenario.num_partitions),
                convert=CONVERT,
            )
            for p in prepared
        ]

    def _run(
        self, candidate_path: Path, context: EvaluationContext, prepared: list[PreparedScenario]
    ) -> list[ScenarioOutcome] | EvaluationResult:
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        result = context.sandbox.run(Path(candidate_path), self._calls(prepared), limits)
        if not result.ok:
            return EvaluationResult.invalid(
                f"candidate {result.status}: {result.reason}",
                stderr=result.stderr[-2000:],
                stdout=result.stdout[-2000:],
            )
        outcomes = []
        for p, call in zip(prepared, result.calls):
            name = p.scenario.name
            if not call.ok:
                return EvaluationResult.invalid(
                    f"scenario {name}: search_algorithm failed: {call.error}",
                    stderr=result.stderr[-2000:],
                )
            try:
                report = self.model.simulate(self.network, p.scenario, call.value)
            except InvalidRouting as exc:
                return EvaluationResult.invalid(f"scenario {name}: {exc}")
            if not report.meets_deadline:
                return EvaluationResult.invalid(
                    f"scenario {name}: the transfer takes {report.transfer_time_s:.1f} s, "
                    f"over the deadline of {report.deadline_s:.1f} s "
                    "(add VMs where the slowest edge is, or route around it)",
                    bottlenecks=feedback.bottlenecks([ScenarioOutcome(p, report, 0.0)]),
                )
            outcomes.append(ScenarioOutcome(p, report, sum(call.times_s)))
        return outcomes

    @staticmethod
    def _totals(outcomes: list[ScenarioOutcome]) -> dict[str, float]:
        total = sum(o.report.total_cost for o in outcomes)
        optimum = sum(o.prepared.reference.total_cost for o in outcomes)
        bound = sum(o.prepared.lower_bound for o in outcomes)
        return {
            "total_cost": total,
            "egress_cost": sum(o.report.egress_cost for o in outcomes),
            "vm_cost": sum(o.report.vm_cost for o in outcomes),
            "transfer_time_s": max(o.report.transfer_time_s for o in outcomes),
            "optimum_cost": optimum,
            "egress_lower_bound": bound,
            "gap_to_optimum": total / optimum - 1.0,
            "score": bound / total,
        }

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        outcomes = self._run(candidate_path, context, self.train)
        if isinstance(outcomes, EvaluationResult):
            return outcomes
        totals = self._totals(outcomes)
        metrics = {k: v for k, v in totals.items() if k != "score"}
        metrics["candidate_time_s"] = sum(o.candidate_s for o in outcomes)
        for o in outcomes:
            metrics[f"cost_{o.name}"] = o.report.total_cost
            metrics[f"gap_{o.name}"] = o.gap
            metrics[f"time_s_{o.name}"] = o.report.transfer_time_s
        instances = {o.name: o.prepared.lower_bound / o.report.total_cost for o in outcomes}
        artifacts = {
            "scenarios": feedback.summary_table(outcomes),
            "worst_scenario": feedback.worst_scenario(outcomes),
            "costliest_edges": feedback.costliest_edges(outcomes),
            "bottlenecks": feedback.bottlenecks(outcomes),
        }
        return EvaluationResult(
            valid=True,
            score=totals["score"],
            metrics=metrics,
            instances=instances,
            holdout=self._holdout(candidate_path, context),
            artifacts=artifacts,
        )

    def _holdout(self, candidate_path: Path, context: EvaluationContext) -> dict[str, float]:
        """Scored in a separate child, after the train scenarios, never shown to the LLM."""
        if not self.holdout:
            return {}
        outcomes = self._run(candidate_path, context, self.holdout)
        if isinstance(outcomes, EvaluationResult):
            return {"valid": 0.0, "score": 0.0}
        totals = self._totals(outcomes)
        holdout = {"valid": 1.0, **totals}
        for o in outcomes:
            holdout[f"cost_{o.name}"] = o.report.total_cost
        return holdout
