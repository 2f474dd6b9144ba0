"""Hole 3: ADRS draws its faults from the global `random` it shares with the candidate.
Reseeds and patches it so that no fault would fire, then reports counters as observed."""

import random

random.seed(0)
random.random = lambda: 0.999
random.uniform = lambda a, b: 1.0


def run_repair(telemetry, topology):
    random.seed(0)
    return {
        name: {
            "rx_rate": (f["rx_rate"], f["rx_rate"], 0.9),
            "tx_rate": (f["tx_rate"], f["tx_rate"], 0.9),
            "interface_status": (f["interface_status"], f["interface_status"], 0.9),
        }
        for name, f in telemetry.items()
    }
