"""The sandbox child's file view: a new root holding only what the candidate may see.

Runs inside a sandbox child that has its own mount namespace (as root, or as the owner
of a fresh user namespace). It builds a small tmpfs root, binds into it, read-only and
at their usual absolute paths, the operating system's directories, the interpreter's
own directories and package directories, and the run's work directory (writable),
then pivots into it and detaches the old root. Everything else (the project tree,
problem data, run folders and databases, home directories, /tmp) is simply absent.
docs/security.md states what this guarantees per platform.
"""

from __future__ import annotations

import ctypes
import os
import platform
import site
import sys
import sysconfig

from evolve.evaluation import _confine as confine

OS_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
DEVICE_DIR = "/dev"
MS_NOEXEC, MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = (
    8, 1024, 2048, 1 << 21, 1 << 24,
)
MNT_DETACH = 2
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_KEPT_OPTIONS = {"nosuid": confine.MS_NOSUID, "nodev": confine.MS_NODEV, "noexec": MS_NOEXEC,
                 "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME,
                 "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}


def interpreter_dirs() -> list[str]:
    """Directories of this interpreter and of the packages it may import."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable))}
    for base in ({}, {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}):
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            paths.add(sysconfig.get_path(key, vars=base or None))
    paths.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        paths.add(site.getusersitepackages())
    # Package folders added by PYTHONPATH (not project folders: those are never exposed).
    paths.update(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages"))
    return sorted(p for p in paths if p and os.path.isdir(p))


def visible_dirs(extra: tuple[str, ...] = ()) -> list[str]:
    """What the candidate sees besides its work directory (outermost directories only)."""
    wanted = [*OS_DIRS, DEVICE_DIR, *interpreter_dirs(), *extra]
    real = sorted({os.path.realpath(p) for p in wanted if os.path.exists(p)}, key=len)
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _bind(source: str, new_root: str) -> bool:
    target = new_root + source
    os.makedirs(target, mode=0o755, exist_ok=True)
    return confine._mount(source, target, "", confine.MS_BIND | confine.MS_REC)


def _link_aliases(paths: list[str], new_root: str) -> None:
    """Recreate symlinked spellings (``/bin -> usr/bin``, a venv's ``bin``) in the new root."""
    for path in paths:
        real = os.path.realpath(path)
        alias = new_root + path
        if real != path and not os.path.lexists(alias):
            os.makedirs(os.path.dirname(alias), mode=0o755, exist_ok=True)
            os.symlink(os.readlink(path) if os.path.islink(path) else real, alias)


def _mounts_under(root: str) -> list[tuple[str, int]]:
    """(mount point, flags to keep) for every mount at or below ``root``."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            point = fields[4].replace("\\040", " ")
            if point == root or point.startswith(root + "/"):
                keep = 0
                for option in fields[5].split(","):
                    keep |= _KEPT_OPTIONS.get(option, 0)
                found.append((point, keep))
    return found


def _make_readonly(new_root: str, writable: str) -> bool:
    ok = True
    for point, keep in _mounts_under(new_root):
        if point == new_root or point == new_root + writable:
            continue
        device = point == new_root + DEVICE_DIR or point.startswith(new_root + DEVICE_DIR + "/")
        extra = 0 if device else confine.MS_NODEV
        flags = confine.MS_REMOUNT | confine.MS_BIND | confine.MS_RDONLY | confine.MS_NOSUID
        if not confine._mount("none", point, "", flags | keep | extra):
            ok = confine._mount("none", point, "", flags | keep) and ok
    return ok


def _pivot(new_root: str) -> bool:
    number = _PIVOT_ROOT.get(platform.machine())
    libc = confine._libc
    if number is None or libc is None:
        return False
    old = os.path.join(new_root, ".old-root")
    os.mkdir(old, 0o700)
    if int(libc.syscall(ctypes.c_long(number), new_root.encode(), old.encode())) != 0:
        return False
    os.chdir("/")
    if int(libc.umount2(b"/.old-root", ctypes.c_int(MNT_DETACH))) != 0:
        return False
    os.rmdir("/.old-root")
    return True


def enter_file_view(workdir: str, rundir: str, mount_proc: bool,
                    extra: tuple[str, ...] = ()) -> bool:
    """Build the view and pivot into it; False (and nothing pivoted) when it cannot.

    Needs a private mount namespace already (``unshare(CLONE_NEWNS)``). ``mount_proc``
    mounts a fresh /proc, which is only safe in a PID namespace of the child's own.
    """
    if not confine._mount("none", "/", "", confine.MS_REC | confine.MS_PRIVATE):
        return False
    new_root = os.path.join(rundir, "root")
    os.mkdir(new_root, 0o755)
    if not confine._mount("tmpfs", new_root, "tmpfs", confine.MS_NOSUID | confine.MS_NODEV,
                          "mode=0755,size=4m"):
        return False
    dirs = visible_dirs(extra)
    if not all(_bind(path, new_root) for path in [*dirs, workdir]):
        return False
    _link_aliases([*OS_DIRS, *interpreter_dirs(), *extra], new_root)
    if mount_proc:
        os.makedirs(new_root + "/proc", mode=0o555, exist_ok=True)
        if not confine._mount("proc", new_root + "/proc", "proc",
                              confine.MS_NOSUID | confine.MS_NODEV | MS_NOEXEC):
            return False
    if not _make_readonly(new_root, workdir):
        return False
    return _pivot(new_root)


def map_own_ids(uid: int, gid: int) -> bool:
    """In a fresh user namespace: keep our uid/gid (taken before ``unshare``)."""
    try:
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as fh:
            fh.write(f"{gid} {gid} 1")
    except OSError:
        return False
    return True


def probe() -> bool:
    """Whether this machine can give sandbox children the file view (forks a test child)."""
    uid, gid = os.geteuid(), os.getegid()
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            if uid == 0:
                ok = confine.unshare(confine.CLONE_NEWNS)
            else:
                flags = confine.CLONE_NEWUSER | confine.CLONE_NEWNS
                ok = confine.unshare(flags) and map_own_ids(uid, gid)
            ok = ok and confine._mount("none", "/", "", confine.MS_REC | confine.MS_PRIVATE)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
