"""Temporary folders of evaluations, named after the process that owns them.

A process killed with SIGKILL cannot remove its folders; because each name carries the
owner's pid, the next executor or worker to start removes folders whose owner is gone.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile

JOB_PREFIX = "evolve-eval-"
SANDBOX_PREFIX = "evolve-sandbox-"  # made by the sandbox zygote: evolve-sandbox-<pid>-...


def make_job_dir() -> str:
    """A fresh folder for one evaluation job, owned by this process."""
    return tempfile.mkdtemp(prefix=f"{JOB_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(bases: tuple[str, ...] = ()) -> int:
    """Remove evaluation folders whose owning process no longer exists; returns how many."""
    removed = 0
    for base in dict.fromkeys(bases or (tempfile.gettempdir(), "/tmp")):
        for prefix in (JOB_PREFIX, SANDBOX_PREFIX):
            for path in glob.glob(os.path.join(glob.escape(base), prefix + "*")):
                owner = os.path.basename(path)[len(prefix):].split("-", 1)[0]
                if owner.isdigit() and not _alive(int(owner)):
                    shutil.rmtree(path, ignore_errors=True)
                    removed += 1
    return removed
