"""Confidence outside [0, 1] (ADRS caps each calibration score, never the confidence)."""


def run_repair(telemetry, topology):
    return {
        name: {
            "rx_rate": (f["rx_rate"], f["rx_rate"], 5.0),
            "tx_rate": (f["tx_rate"], f["tx_rate"], 5.0),
            "interface_status": ("up", "up", 5.0),
        }
        for name, f in telemetry.items()
    }
