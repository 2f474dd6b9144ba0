"""Hole 2: an empty answer (ADRS: status and calibration default to 1.0, score 0.25)."""


def run_repair(telemetry, topology):
    return {}
