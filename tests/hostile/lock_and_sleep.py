import fcntl
import time


def solve(xs):
    handle = open("lockfile", "w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    time.sleep(3600)
