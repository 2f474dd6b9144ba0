"""Seeds only the trusted side knows: for evaluation inputs a candidate must not predict.

A workload that is regenerated from public code and a seed printed in the docs is not
hidden from a candidate, whatever the file permissions. Evaluators derive such seeds
from this installation's secret instead: 32 random bytes made once with ``secrets``
and kept in a file only its owner may read (``$EVOLVE_SECRET_FILE``, by default
``$XDG_DATA_HOME/evolve/evaluation-secret``, i.e. ``~/.local/share/evolve/...``).
Sandbox children never see it (docs/security.md, "File view"); the same installation
always derives the same seeds, so the same program scores the same across runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from evolve.errors import UserError

ENV_VAR = "EVOLVE_SECRET_FILE"
SECRET_BYTES = 32


def secret_path() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data_home) / "evolve" / "evaluation-secret"


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first; read theirs
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(SECRET_BYTES))


def installation_secret() -> bytes:
    """The secret, created on first use. UserError (naming the file) if unusable."""
    path = secret_path()
    try:
        if not path.exists():
            _create(path)
        data = path.read_bytes()
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        raise UserError(f"cannot create or read the evaluation secret ({exc.strerror}); "
                        f"set {ENV_VAR} to a file path you own", str(path)) from None
    if len(data) < SECRET_BYTES:
        raise UserError(f"the evaluation secret is truncated ({len(data)} bytes); delete it "
                        "to make a new one (scores of hidden workloads will change)", str(path))
    return data


def trusted_seed(label: str, bits: int = 63) -> int:
    """A seed of ``bits`` bits for ``label`` (e.g. ``"eplb/train"``), fixed per
    installation (32 bits suit generators such as numpy's RandomState)."""
    digest = hmac.new(installation_secret(), label.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "little") >> (64 - bits)


SECRET = "secret"


def seed_from(value: object, label: str, where: str) -> int:
    """An evaluator argument that is either a whole number (a public seed, e.g. to
    reproduce a published set-up) or ``"secret"`` (a 32-bit ``trusted_seed(label)``)."""
    if value == SECRET:
        return trusted_seed(label, bits=32)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise UserError(f"expected a whole number >= 0 or '{SECRET}', got {value!r}", where)
