"""Checks a candidate's repaired telemetry and scores it against the truth.

A repair maps every interface id to ``{"rx_rate": (original, repaired, confidence),
"tx_rate": (...), "interface_status": (original, repaired, confidence)}``. Every
interface must be present (ADRS skipped missing ones, so leaving out the hard cases
raised the score), repaired rates finite, confidences in [0, 1].

Per row, as ADRS scores it (``evaluator.py``: counter, status and calibration terms):

- counter accuracy ``1 - mean(min(|rep - true| / true, 1))`` over counters with true > 0;
- status accuracy: fraction of repaired statuses equal to the true one ('up');
- calibration: per counter, with ``acc = 1 - |true - rep| / max(|true|, |rep|, 1)``:
  1.0 if acc > 0.8 and confidence > 0.7; ``0.5 + 1.25 (confidence - 0.3)`` if acc > 0.8
  otherwise; 0.8 if acc <= 0.8 and confidence < 0.3; else ``max(0, 0.8 - 2 conf (1 - acc))``;
  clipped to [0, 1] and averaged;
- ``0.75 counter + 0.05 status + 0.2 calibration``.

evolve's own score uses the same terms, except that the counter term also covers the
counters whose true value is (near) zero: ``min(|rep - true| / max(true, 1 Mbps), 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.telemetry_repair.data import Network

FIELDS = ("rx_rate", "tx_rate", "interface_status")
WEIGHTS = (0.75, 0.05, 0.2)  # counter, status, calibration
FLOOR_MBPS = 1.0


class InvalidRepair(ValueError):
    """A repair that leaves out an interface or is not of the documented shape."""


@dataclass(frozen=True)
class Repair:
    rates: np.ndarray  # [interfaces, 2] repaired (rx, tx)
    confidence: np.ndarray  # [interfaces, 2]
    status_ok: np.ndarray  # [interfaces] repaired status == 'up'


def _number(value: Any) -> float | None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _triple(value: Any, where: str) -> tuple[Any, Any, Any]:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        shape = type(value).__name__
        if isinstance(value, (tuple, list)):
            shape += f" of length {len(value)}"
        raise InvalidRepair(f"{where} must be (original, repaired, confidence), got {shape}")
    return value[0], value[1], value[2]


def check_repair(value: Any, network: Network) -> Repair:
    if not isinstance(value, dict):
        raise InvalidRepair(
            "run_repair must return a dict interface_id -> repaired fields, "
            f"got {type(value).__name__}"
        )
    known = set(network.interfaces)
    for key in value:
        if key not in known:
            raise InvalidRepair(f"unexpected interface {str(key)[:60]!r} in the output")
    count = len(network.interfaces)
    rates, confidence = np.zeros((count, 2)), np.zeros((count, 2))
    status_ok = np.zeros(count, dtype=bool)
    for i, name in enumerate(network.interfaces):
        fields = value.get(name)
        if fields is None:
            raise InvalidRepair(
                f"interface {name} is missing from the output (all {count} must be repaired)"
            )
        if not isinstance(fields, dict):
            raise InvalidRepair(f"{name}: expected a dict of repaired fields")
        for f, field in enumerate(("rx_rate", "tx_rate")):
            _, repaired, conf = _triple(fields.get(field), f"{name}.{field}")
            rate, trust = _number(repaired), _number(conf)
            if rate is None:
                raise InvalidRepair(f"{name}.{field}: the repaired value is not a finite number")
            if trust is None or not 0.0 <= trust <= 1.0:
                raise InvalidRepair(f"{name}.{field}: the confidence must be a number in [0, 1]")
            rates[i, f], confidence[i, f] = rate, trust
        _, status, _ = _triple(fields.get("interface_status"), f"{name}.interface_status")
        if not isinstance(status, str):
            raise InvalidRepair(f"{name}.interface_status: the repaired status must be a string")
        status_ok[i] = status == "up"
    return Repair(rates, confidence, status_ok)


def _calibration(truth: float, repaired: float, conf: float) -> float:
    accuracy = 1.0 - abs(truth - repaired) / max(abs(truth), abs(repaired), 1.0)
    if accuracy > 0.8:
        score = 1.0 if conf > 0.7 else 0.5 + (conf - 0.3) * 1.25
    else:
        score = 0.8 if conf < 0.3 else max(0.0, 0.8 - conf * (1.0 - accuracy) * 2.0)
    return max(0.0, min(1.0, score))


def row_terms(truth: np.ndarray, repair: Repair, all_counters: bool) -> tuple[float, float, float]:
    """(counter, status, calibration) of one row. Summed counter by counter in the ADRS
    order (interface, then rx before tx) so that the ADRS figures come out bit for bit."""
    error, counted, calibration = 0.0, 0, 0.0
    for i in range(truth.shape[0]):
        for f in (0, 1):
            true, rep = float(truth[i, f]), float(repair.rates[i, f])
            if true > 0 or all_counters:
                base = max(true, FLOOR_MBPS) if all_counters else true
                error += min(abs(rep - true) / base, 1.0)
                counted += 1
            calibration += _calibration(true, rep, float(repair.confidence[i, f]))
    counter = max(0.0, 1.0 - error / counted) if counted else 0.0
    status = float(np.count_nonzero(repair.status_ok)) / truth.shape[0]
    return counter, status, calibration / (2 * truth.shape[0])


def combined(terms: tuple[float, float, float]) -> float:
    counter, status, calibration = terms
    return counter * WEIGHTS[0] + status * WEIGHTS[1] + calibration * WEIGHTS[2]
