"""Hole 4: ADRS never scores the counter term of counters whose true value is 0. Reports
counters as observed, except that it puts 1e6 on every counter it sees as 0."""


def run_repair(telemetry, topology):
    def fix(value):
        return (value, 1e6 if value == 0 else value, 0.9)

    return {
        name: {
            "rx_rate": fix(f["rx_rate"]),
            "tx_rate": fix(f["tx_rate"]),
            "interface_status": (f["interface_status"], f["interface_status"], 0.9),
        }
        for name, f in telemetry.items()
    }
