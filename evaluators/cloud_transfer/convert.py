"""Turns a candidate's routing object into plain data (runs inside the sandbox child).

Trusted code, but it runs next to the candidate, so it only copies region names and
partition keys out (builtin ``str``) and drops the edge data entirely: the evaluator
prices hops from its own network, never from what a candidate attaches to them.
"""

from __future__ import annotations

from typing import Any


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a region name (str), got {type(value).__name__}")
    return str.__str__(value)


def _partition_key(key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"partition keys must be str or int, got {type(key).__name__}")
    return str.__str__(key) if isinstance(key, str) else str(int.__int__(key))


def _hops(hops: Any) -> Any:
    if hops is None:
        return None
    if not isinstance(hops, (list, tuple)):
        raise TypeError(f"a partition's path must be a list of hops, got {type(hops).__name__}")
    plain = []
    for hop in hops:
        if not isinstance(hop, (list, tuple)) or len(hop) < 2:
            raise TypeError(f"a hop must be [u, v, edge_data], got {type(hop).__name__}")
        plain.append([_name(hop[0], "hop source"), _name(hop[1], "hop target")])
    return plain


def _paths(paths: Any) -> dict[str, Any]:
    if not isinstance(paths, dict):
        raise TypeError(
            f"paths must be a dict destination -> partition -> hops, got {type(paths).__name__}"
        )
    plain: dict[str, Any] = {}
    for dst, per_partition in paths.items():
        name = _name(dst, "destination")
        if not isinstance(per_partition, dict):
            raise TypeError(
                f"paths[{name!r}] must be a dict partition -> hops, "
                f"got {type(per_partition).__name__}"
            )
        plain[name] = {_partition_key(k): _hops(v) for k, v in per_partition.items()}
    return plain


def _num_vms(raw: Any) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TypeError(f"num_vms must be a dict region -> VM count, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    for region, count in raw.items():
        out[_name(region, "num_vms key")] = (
            int.__int__(count)
            if isinstance(count, int) and not isinstance(count, bool)
            else repr(count)[:40]
        )
    return out


def paths_to_plain(value: Any) -> dict[str, Any]:
    """``{"paths": {dst: {"0": [[u, v], ...]}}, "num_vms": {region: int} | None}``.

    Accepts an object with ``.paths`` (ADRS ``BroadCastTopology``; optional ``.num_vms``),
    a dict ``{"paths": ..., "num_vms": ...}``, or the plain ``paths`` dict itself.
    """
    if isinstance(value, dict):
        if isinstance(value.get("paths"), dict):
            return {"paths": _paths(value["paths"]), "num_vms": _num_vms(value.get("num_vms"))}
        return {"paths": _paths(value), "num_vms": None}
    paths = getattr(value, "paths", None)
    if paths is None:
        raise TypeError(
            "search_algorithm must return an object with .paths or a dict, "
            f"got {type(value).__name__}"
        )
    return {"paths": _paths(paths), "num_vms": _num_vms(getattr(value, "num_vms", None))}
