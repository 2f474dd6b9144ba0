"""Behaves as the ADRS initial program does: its loop variable `interface_id` is
reused by an inner loop over the router's interfaces, so each answer is stored under
the router's LAST interface and 18 of the 30 interfaces are missing from the output.
Every rate is reported as 0 with confidence 1.0."""


def run_repair(telemetry, topology):
    result = {}
    for interface_id, fields in telemetry.items():
        for interface_id in topology.get(fields.get("local_router"), []):
            pass
        status = fields.get("interface_status", "unknown")
        result[interface_id] = {
            "rx_rate": (0, 0, 1.0),
            "tx_rate": (0, 0, 1.0),
            "interface_status": (status, status, 1.0),
        }
    return result
