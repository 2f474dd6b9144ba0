"""Network telemetry repair: the ADRS starting point, which reports every rate as 0."""

# EVOLVE-BLOCK-START
def repair_network_telemetry(telemetry, topology):
    """Detect and repair inconsistent interface counters.

    ``telemetry[interface_id]`` holds ``interface_status`` ('up'/'down'), ``rx_rate`` and
    ``tx_rate`` (Mbps), ``connected_to`` (the peer interface on the other end of the
    link), ``local_router`` and ``remote_router``; ``topology[router]`` lists the
    router's interface ids. Returns, for every interface, ``rx_rate``, ``tx_rate`` and
    ``interface_status`` as ``(original, repaired, confidence)`` tuples.

    No repair yet: every rate is reported as 0.
    """
    repaired = {}
    for interface_id, fields in telemetry.items():
        status = fields.get("interface_status", "unknown")
        repaired[interface_id] = {
            "rx_rate": (0, 0, 1.0),
            "tx_rate": (0, 0, 1.0),
            "interface_status": (status, status, 1.0),
            "connected_to": fields.get("connected_to"),
            "local_router": fields.get("local_router"),
            "remote_router": fields.get("remote_router"),
        }
    return repaired


# EVOLVE-BLOCK-END


def run_repair(telemetry, topology):
    """Entry point called by the evaluator."""
    return repair_network_telemetry(telemetry, topology)
