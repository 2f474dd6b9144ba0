"""Text feedback for the LLM: where the money goes and how far from the optimum."""

from __future__ import annotations

from dataclasses import dataclass

from evaluators.cloud_transfer.setup import PreparedScenario
from simulators.cloud_transfer import TransferReport


@dataclass
class ScenarioOutcome:
    prepared: PreparedScenario
    report: TransferReport
    candidate_s: float

    @property
    def name(self) -> str:
        return self.prepared.scenario.name

    @property
    def gap(self) -> float:
        return self.report.total_cost / self.prepared.reference.total_cost - 1.0


def summary_table(outcomes: list[ScenarioOutcome]) -> str:
    lines = ["scenario | total $ | egress $ | VM $ | time s | optimum $ | gap | egress bound $"]
    for o in outcomes:
        r, p = o.report, o.prepared
        lines.append(
            f"{o.name} | {r.total_cost:.2f} | {r.egress_cost:.2f} | {r.vm_cost:.3f} | "
            f"{r.transfer_time_s:.1f} | {p.reference.total_cost:.2f} | {o.gap:+.1%} | "
            f"{p.lower_bound:.2f}"
        )
    return "\n".join(lines)


def worst_scenario(outcomes: list[ScenarioOutcome]) -> str:
    worst = max(outcomes, key=lambda o: o.gap)
    p = worst.prepared
    return (
        f"{worst.name} is the furthest from its optimum: ${worst.report.total_cost:.2f} vs "
        f"${p.reference.total_cost:.2f} ({worst.gap:+.1%}); source {p.scenario.src}, destinations "
        f"{', '.join(p.scenario.dsts)}; direct transfer would cost ${p.baselines['direct']:.2f}, "
        f"per-destination cheapest paths ${p.baselines['cheapest_path']:.2f}."
    )


def costliest_edges(outcomes: list[ScenarioOutcome], top: int = 8) -> str:
    rows = [(use.egress_cost, o.name, use) for o in outcomes for use in o.report.edges]
    rows.sort(key=lambda row: -row[0])
    lines = ["scenario | edge | $/GB | partitions crossing | egress $ | rate Gbps | edge time s"]
    for cost, name, use in rows[:top]:
        lines.append(
            f"{name} | {use.src} -> {use.dst} | {use.price_per_gb:g} | {use.partitions} | "
            f"{cost:.2f} | {use.rate_gbps:.2f} | {use.time_s:.1f}"
        )
    return "\n".join(lines)


def bottlenecks(outcomes: list[ScenarioOutcome]) -> str:
    lines = []
    for o in outcomes:
        slowest = max(o.report.edges, key=lambda use: use.time_s)
        deadline = o.report.deadline_s
        limit = f" (deadline {deadline:.0f} s)" if deadline is not None else ""
        lines.append(
            f"{o.name}: slowest edge {slowest.src} -> {slowest.dst} takes "
            f"{slowest.time_s:.1f} s{limit} at {slowest.rate_gbps:.2f} Gbps; "
            f"VMs {o.report.vms.get(slowest.src)} at the source end, "
            f"{o.report.vms.get(slowest.dst)} at the target end"
        )
    return "\n".join(lines)
