"""Hole 2: answers only for interfaces whose link ends agree and leaves the rest out
(ADRS skips missing interfaces: 0.993)."""


def run_repair(telemetry, topology):
    out = {}
    for name, f in telemetry.items():
        peer = telemetry.get(f["connected_to"])
        if peer is None:
            continue
        a, b = f["tx_rate"], peer["rx_rate"]
        c, d = f["rx_rate"], peer["tx_rate"]
        if abs(a - b) > 0.05 * max(a, b, 1e-9) or abs(c - d) > 0.05 * max(c, d, 1e-9):
            continue
        out[name] = {
            "rx_rate": (c, c, 0.9),
            "tx_rate": (a, a, 0.9),
            "interface_status": ("up", "up", 0.9),
        }
    return out
