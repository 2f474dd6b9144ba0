"""Hole 1: ADRS hands correlated-fault interfaces over with their true rates under
_ground_truth_rx / _ground_truth_tx (0.922). Uses them when present, otherwise
reports the counter as observed (as unchanged.py does)."""


def run_repair(telemetry, topology):
    out = {}
    for name, f in telemetry.items():
        rx = f.get("_ground_truth_rx", f["rx_rate"])
        tx = f.get("_ground_truth_tx", f["tx_rate"])
        out[name] = {
            "rx_rate": (f["rx_rate"], rx, 0.9),
            "tx_rate": (f["tx_rate"], tx, 0.9),
            "interface_status": (f["interface_status"], f["interface_status"], 0.9),
        }
    return out
