"""Walks every folder it can see, except the ones it is told are the OS and interpreter,
and reports what a data thief would look for."""

import os

PSEUDO = ("/proc", "/sys", "/dev")


def solve(xs):
    return sorted(xs)


def walk(pruned):
    pruned = tuple(p.rstrip("/") for p in pruned)
    found = {"top": sorted(os.listdir("/")), "cwd": os.getcwd(), "dirs": [], "files": []}
    for root, dirs, files in os.walk("/", onerror=lambda exc: None):
        if root.startswith(PSEUDO) or root in pruned or root.startswith(
                tuple(p + "/" for p in pruned)):
            dirs[:] = []
            continue
        found["dirs"].extend(os.path.join(root, d) for d in dirs)
        found["files"].extend(os.path.join(root, f) for f in files)
    return found
