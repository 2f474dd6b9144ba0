"""Bare repaired numbers instead of (original, repaired, confidence): ADRS then has no
confidence to score and gives calibration 1.0."""


def run_repair(telemetry, topology):
    return {
        name: {"rx_rate": f["rx_rate"], "tx_rate": f["tx_rate"], "interface_status": "up"}
        for name, f in telemetry.items()
    }
