"""Non-finite repaired rates (ADRS: nan propagates into its averages)."""


def run_repair(telemetry, topology):
    return {
        name: {
            "rx_rate": (f["rx_rate"], float("nan"), 1.0),
            "tx_rate": (f["tx_rate"], f["tx_rate"], 1.0),
            "interface_status": ("up", "up", 1.0),
        }
        for name, f in telemetry.items()
    }
