def solve(xs):
    return sorted(xs)


def read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror}"
