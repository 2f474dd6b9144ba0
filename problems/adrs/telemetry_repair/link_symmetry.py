"""Network telemetry repair: make both ends of every link agree."""

# EVOLVE-BLOCK-START
AGREE = 0.02  # relative difference under which the two ends are taken as consistent
LOST = 0.05   # a side reporting under this fraction of the other is taken as dropped


def repair_network_telemetry(telemetry, topology):
    """What interface A sends on a link, its peer B receives: A.tx_rate and B.rx_rate
    measure the same traffic. Where they disagree, a side near zero is taken as dropped
    and replaced by the other; otherwise both get their mean. Confidence is high where
    the ends agree and lower where a value was changed.
    """
    repaired = {i: {"rx_rate": f["rx_rate"], "tx_rate": f["tx_rate"]} for i, f in telemetry.items()}
    changed = set()
    for sender, fields in telemetry.items():
        receiver = fields.get("connected_to")
        if receiver not in telemetry:
            continue
        sent, received = fields["tx_rate"], telemetry[receiver]["rx_rate"]
        high = max(sent, received)
        if high <= 0 or abs(sent - received) <= AGREE * high:
            continue
        low = min(sent, received)
        value = high if low < LOST * high else (sent + received) / 2
        repaired[sender]["tx_rate"] = value
        repaired[receiver]["rx_rate"] = value
        changed.update({(sender, "tx_rate"), (receiver, "rx_rate")})
    result = {}
    for interface_id, fields in telemetry.items():
        status = fields.get("interface_status", "unknown")
        entry = {"interface_status": (status, status, 0.9)}
        for field in ("rx_rate", "tx_rate"):
            confidence = 0.5 if (interface_id, field) in changed else 0.9
            entry[field] = (fields[field], repaired[interface_id][field], confidence)
        for key in ("connected_to", "local_router", "remote_router"):
            entry[key] = fields.get(key)
        result[interface_id] = entry
    return result


# EVOLVE-BLOCK-END


def run_repair(telemetry, topology):
    """Entry point called by the evaluator."""
    return repair_network_telemetry(telemetry, topology)
