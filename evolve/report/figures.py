"""Plotly figures of a run, built from the bounded aggregates in ``collect.RunData``.

Plotly reads its own markup (``<a href>``, ``<span style>``, ``<br>``) in every label,
tick and hover text, so each stored string goes in through ``safe_text.chart``.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

from evolve.database.records import ProgramRecord
from evolve.report.collect import Grid, RunData
from evolve.report.scores import short_label
from evolve.safe_text import chart

COLORS = {"best": "#1f6feb", "holdout": "#d97706", "points": "rgba(110,118,129,0.35)",
          "valid": "#2da44e", "invalid": "#cf222e", "bar": "#8250df"}


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        template="plotly_white", title={"text": title, "x": 0.01}, height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50}, xaxis_title=x, yaxis_title=y,
        legend={"orientation": "h", "y": -0.2}, hovermode="closest",
    )
    return fig


def integer_ticks(top: float, target: int = 8) -> dict[str, Any]:
    """Axis settings for counts and steps: ticks on whole numbers only (1, 2 or 5 x 10^k apart)."""
    raw = max(1.0, float(top) / target)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return {"tick0": 0, "dtick": step, "tickformat": ",d"}


def best_over(data: RunData, axis: str) -> go.Figure:
    """Best train score so far (and the holdout of that program) against evaluations or USD."""
    use_usd = axis == "usd"
    curve = data.best_curve
    xs = [p.usd if use_usd else p.evaluation for p in curve]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[pt[1] if use_usd else pt[0] for pt in data.scatter], y=[pt[2] for pt in data.scatter],
        mode="markers", name="valid program", marker={"size": 4, "color": COLORS["points"]},
    ))
    fig.add_trace(go.Scatter(
        x=xs, y=[p.score for p in curve], mode="lines+markers", name="best (train)",
        line={"shape": "hv", "color": COLORS["best"], "width": 2}, marker={"size": 5},
        text=[chart(p.program_id[:12]) for p in curve], hovertemplate="%{y:.6g}<br>%{text}",
    ))
    if any(p.holdout is not None for p in curve):
        fig.add_trace(go.Scatter(
            x=xs, y=[p.holdout for p in curve], mode="lines", name="holdout of best",
            line={"shape": "hv", "color": COLORS["holdout"], "dash": "dash"},
        ))
    title = "Best score over LLM spend" if use_usd else "Best score over evaluations"
    return _layout(fig, title, "cumulative USD" if use_usd else "evaluation", "score")


def validity(data: RunData) -> go.Figure:
    labels = [(a + b) / 2 for a, b, _, _ in data.validity]  # window centres on a numeric axis
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=[v for _, _, v, _ in data.validity], name="valid",
                         marker_color=COLORS["valid"]))
    fig.add_trace(go.Bar(x=labels, y=[i for _, _, _, i in data.validity], name="invalid",
                         marker_color=COLORS["invalid"]))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(rangemode="tozero",
                     **integer_ticks(max((v + i for _, _, v, i in data.validity), default=1)))
    return _layout(fig, "Valid / invalid per window", "evaluations", "programs")


def islands(data: RunData) -> go.Figure:
    names = [f"island {s.island}" for s in data.islands]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[s.valid for s in data.islands], name="valid",
                         marker_color=COLORS["valid"],
                         text=[f"best {s.best:.6g}" if s.best is not None else "no valid program"
                               for s in data.islands], textposition="inside"))
    fig.add_trace(go.Bar(x=names, y=[s.programs - s.valid for s in data.islands], name="invalid",
                         marker_color=COLORS["invalid"]))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(rangemode="tozero",
                     **integer_ticks(max((s.programs for s in data.islands), default=1)))
    return _layout(fig, "Island occupancy", "", "programs")


def occupancy(grid: Grid) -> go.Figure:
    text = [[f"{n} programs" if n else "empty" for n in row] for row in grid.count]
    x_name, y_name = chart(grid.x_name, 60), chart(grid.y_name or "", 60)
    where = f"{x_name} bin %{{x}}" + (f", {y_name} bin %{{y}}" if grid.y_name else "")
    fig = go.Figure(go.Heatmap(
        z=grid.best, text=text, colorscale="Viridis", colorbar={"title": "best score"},
        x=[str(i) for i in range(grid.bins)],
        y=[str(j) for j in range(len(grid.best))] if grid.y_name else ["all"],
        hovertemplate=where + "<br>best %{z:.6g}<br>%{text}<extra></extra>", hoverongaps=False,
        xgap=1, ygap=1,
    ))
    # Square cells: one category on y is as long as one on x; the plot shrinks to fit.
    fig.update_xaxes(constrain="domain", showgrid=False)
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain", showgrid=False)
    fig.update_layout(plot_bgcolor="#eef1f4")  # empty cells (no program) show as grey
    filled = sum(1 for row in grid.count for n in row if n)
    cells = sum(len(row) for row in grid.count)
    return _layout(fig, f"MAP-Elites occupancy ({filled}/{cells} cells)", f"{x_name} bin",
                   f"{y_name} bin" if grid.y_name else "", height=420)


def lineage(chain: list[ProgramRecord]) -> go.Figure:
    fig = go.Figure(go.Scatter(
        x=list(range(len(chain))), y=[p.score for p in chain], mode="lines+markers",
        text=[chart(f"{p.id[:12]} ({p.origin}, generation {p.generation})") for p in chain],
        hovertemplate="%{y:.6g}<br>%{text}",
        line={"color": COLORS["best"]}, name="score",
    ))
    fig.update_xaxes(**integer_ticks(len(chain) - 1))
    return _layout(fig, "Lineage of the best program", "step from the root", "score")


def holdout_vs_train(data: RunData) -> go.Figure:
    pairs = data.holdout_pairs
    fig = go.Figure(go.Scatter(
        x=[p[0] for p in pairs], y=[p[1] for p in pairs], mode="markers", name="program",
        text=[chart(p[2][:12]) for p in pairs],
        hovertemplate="train %{x:.6g}<br>holdout %{y:.6g}<br>%{text}",
        marker={"size": 5, "color": COLORS["holdout"], "opacity": 0.6},
    ))
    if pairs:
        low = min(min(p[0], p[1]) for p in pairs)
        high = max(max(p[0], p[1]) for p in pairs)
        fig.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="holdout = train",
                                 line={"color": "#999", "dash": "dot"}))
    return _layout(fig, "Holdout vs train score", "train score", "holdout score")


def cost_per_model(data: RunData) -> go.Figure:
    names = [chart(m.name) for m in data.models]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[m.usd for m in data.models], name="USD",
                         marker_color=COLORS["bar"],
                         text=[f"{m.calls} calls" for m in data.models], textposition="auto"))
    fig.add_trace(go.Scatter(x=names, y=[m.new_best for m in data.models],
                             name="new best programs", yaxis="y2", mode="markers",
                             marker={"size": 12, "color": COLORS["best"]}))
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "title": "new bests",
                              "showgrid": False, "rangemode": "tozero",
                              **integer_ticks(max((m.new_best for m in data.models), default=1))})
    fig.update_yaxes(rangemode="tozero")
    # Long names (provider/model-date) would tilt and crowd the axis: short tick labels,
    # the full name stays the category (hover) and in the tables.
    fig.update_xaxes(tickvals=names, ticktext=[chart(short_label(m.name)) for m in data.models])
    return _layout(fig, "Cost per model", "", "USD")


def all_figures(data: RunData) -> dict[str, go.Figure]:
    """The report's figures by element id; sections without data are left out."""
    figures: dict[str, go.Figure] = {}
    if data.best_curve:
        figures["fig-best-evaluations"] = best_over(data, "evaluations")
        if data.total_usd > 0:
            figures["fig-best-usd"] = best_over(data, "usd")
    if data.validity:
        figures["fig-validity"] = validity(data)
    if data.islands:
        figures["fig-islands"] = islands(data)
    if data.grid is not None:
        figures["fig-occupancy"] = occupancy(data.grid)
    if len(data.lineage) > 1:
        figures["fig-lineage"] = lineage(data.lineage)
    if data.holdout_pairs:
        figures["fig-holdout"] = holdout_vs_train(data)
    if data.models:
        figures["fig-models"] = cost_per_model(data)
    return figures
