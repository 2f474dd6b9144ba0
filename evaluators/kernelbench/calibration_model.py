"""Calibration model: does no work and returns outputs of the reference's shapes.

Timed through the same harness path as the candidate and the reference (fresh inputs,
forward, sync, keyed sums of the outputs, the sandbox round trip), it measures what a
timed call costs besides the forward itself; the evaluator subtracts that.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, *specs: Any) -> None:
        super().__init__()
        self.specs = [(tuple(shape), getattr(torch, dtype.removeprefix("torch.")))
                      for shape, dtype in specs]
        self.outputs: list[torch.Tensor] = []

    def forward(self, *args: Any) -> Any:
        if not self.outputs:
            device = next((a.device for a in args if isinstance(a, torch.Tensor)), None)
            self.outputs = [torch.zeros(shape, dtype=dtype, device=device)
                            for shape, dtype in self.specs]
        return self.outputs[0] if len(self.outputs) == 1 else tuple(self.outputs)
