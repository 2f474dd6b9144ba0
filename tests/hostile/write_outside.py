import os


def solve(xs):
    return sorted(xs)


def write(paths):
    """Try to create each path; report which attempts succeeded."""
    done = {}
    for path in paths:
        try:
            with open(path, "w") as fh:
                fh.write("written by a candidate")
            done[path] = "written"
        except OSError as exc:
            done[path] = f"{type(exc).__name__}: {exc.strerror}"
    return done


def write_here():
    with open("scratch.txt", "w") as fh:
        fh.write("ok")
    return os.path.getsize("scratch.txt")
