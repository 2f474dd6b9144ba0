"""Synthetic MoE routing workloads: expert popularity that is skewed, grouped and drifting.

Model (per layer, independent across layers):
- log-popularity ``x = expert_sigma * z_expert + group_sigma * z_group``, with standard
  normal ``z_expert`` per expert and ``z_group`` per contiguous group of experts, so
  ``softmax(x)`` is lognormal, Zipf-like (a few hot experts, a long cold tail) and
  correlated within groups, which is what makes group-to-node packing matter;
- drift: ``x`` follows an AR(1) process across windows,
  ``x' = rho * x + sqrt(1 - rho^2) * (fresh draw of the same form)``, which keeps the
  skew stationary while the hot set moves;
- routing: each window routes ``steps * tokens * top_k`` token-slots as one multinomial
  draw over ``softmax(x)`` (the sum of the per-step multinomials in distribution; top-k
  without replacement is approximated by sampling with replacement).
Windows are int32 [windows, layers, experts], the layout of the shipped fixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class WorkloadModel:
    num_windows: int = 10
    num_layers: int = 58
    num_experts: int = 256
    num_groups: int = 8
    expert_sigma: float = 1.0  # skew: larger means hotter hot experts
    group_sigma: float = 0.3  # how much experts of one group share popularity
    drift_rho: float = 0.9  # AR(1) correlation of log-popularity between windows
    steps_per_window: int = 100
    tokens_per_step: int = 4096
    top_k: int = 8


def _log_popularity(rng: np.random.Generator, model: WorkloadModel) -> np.ndarray:
    expert = rng.standard_normal((model.num_layers, model.num_experts))
    group = rng.standard_normal((model.num_layers, model.num_groups))
    group_per_expert = np.repeat(group, model.num_experts // model.num_groups, axis=1)
    return model.expert_sigma * expert + model.group_sigma * group_per_expert


def generate_windows(model: WorkloadModel, seed: int) -> np.ndarray:
    """Deterministic for a given (model, seed) and numpy's PCG64 stream."""
    if model.num_experts % model.num_groups:
        raise ValueError("num_experts must be a multiple of num_groups")
    rng = np.random.default_rng(seed)
    x = _log_popularity(rng, model)
    innovation = np.sqrt(1.0 - model.drift_rho**2)
    routed = model.steps_per_window * model.tokens_per_step * model.top_k
    windows = np.empty((model.num_windows, model.num_layers, model.num_experts), dtype=np.int32)
    for w in range(model.num_windows):
        if w:
            x = model.drift_rho * x + innovation * _log_popularity(rng, model)
        shifted = np.exp(x - x.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        windows[w] = rng.multinomial(routed, probs)
    return windows


def load_windows(path: Path) -> np.ndarray:
    """Read ``windows`` [windows, layers, experts] from an .npz file; ValueError if malformed."""
    with np.load(path, allow_pickle=False) as data:
        if "windows" not in data.files:
            raise ValueError(f"no array named 'windows' (found: {', '.join(data.files) or 'none'})")
        windows = np.asarray(data["windows"])
    if windows.ndim != 3:
        raise ValueError(
            f"'windows' must be [windows, layers, experts], got shape {list(windows.shape)}"
        )
    if windows.shape[0] < 2:
        raise ValueError("'windows' needs at least 2 windows (plan on one, score on the next)")
    if windows.dtype.kind not in "iuf" or not np.isfinite(windows).all() or (windows < 0).any():
        raise ValueError("'windows' must hold finite, non-negative loads")
    return windows
