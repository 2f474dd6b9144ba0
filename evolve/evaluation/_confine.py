"""Confinement steps applied inside a sandbox child before candidate code runs.

Every step is best-effort and reports whether it took effect; docs/security.md says
what each one guarantees. Linux-only measures (namespaces, mounts, seccomp, setuid)
are skipped elsewhere.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
import resource
import struct
import sys
from collections.abc import Mapping

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 32, 4096, 16384, 1 << 18,
)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 38, 22
NOBODY_UID = 65534

_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT",
                     re.IGNORECASE)
_KEEP_PREFIXES = (
    "PATH", "LANG", "LC_", "TZ", "TERM", "CUDA_", "NVIDIA_", "LD_LIBRARY_PATH", "TRITON_",
    "PYTHONHASHSEED", "PYTHONPATH", "VIRTUAL_ENV", "TORCH_", "CUBLAS_",
)
_SECRET_PREFIXES = (
    "OPENAI", "ANTHROPIC", "AWS", "AZURE", "GOOGLE", "GCP", "GEMINI", "HF_", "HUGGING",
    "COHERE", "MISTRAL", "GROQ", "DEEPSEEK", "TOGETHER", "OPENROUTER", "GITHUB", "GH_",
    "GITLAB", "SSH_", "GPG", "LITELLM", "WANDB", "DATABASE", "PG", "MYSQL", "REDIS",
)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def looks_secret(name: str) -> bool:
    upper = name.upper()
    return bool(_SECRET.search(upper)) or upper.startswith(_SECRET_PREFIXES)


def scrub_environment(
    env: Mapping[str, str], extra: Mapping[str, str] | None, home: str, threads: int
) -> dict[str, str]:
    """Allow-list the parent's variables, drop anything secret-looking, pin threads."""
    clean = {
        k: v for k, v in env.items() if k.startswith(_KEEP_PREFIXES) and not looks_secret(k)
    }
    clean.update({k: v for k, v in (extra or {}).items() if not looks_secret(k)})
    clean.update({"HOME": home, "TMPDIR": home, "PYTHONDONTWRITEBYTECODE": "1"})
    clean.update({name: str(threads) for name in THREAD_VARS})
    return clean


def _call(name: str, *args: object) -> bool:
    if _libc is None:
        return False
    return int(getattr(_libc, name)(*args)) == 0


def unshare(flags: int) -> bool:
    return _call("unshare", ctypes.c_int(flags))


def setns(fd: int, flags: int) -> bool:
    return _call("setns", ctypes.c_int(fd), ctypes.c_int(flags))


def set_parent_death_signal(sig: int) -> bool:
    return _call("prctl", PR_SET_PDEATHSIG, ctypes.c_ulong(sig), 0, 0, 0)


def _mount(source: str, target: str, fstype: str, flags: int, data: str = "") -> bool:
    return _call(
        "mount", source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags),
        data.encode() if data else None,
    )


def _mount_points() -> list[tuple[str, str]]:
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            points.append((fields[4].replace("\\040", " "), fstype))
    return points


def make_filesystem_readonly(writable_dir: str, pid_namespace: bool) -> bool:
    """In a private mount namespace: every mount read-only except ``writable_dir``.

    Device, proc and sys mounts keep their flags (device nodes such as /dev/null and
    GPUs stay usable; /proc is replaced by one for the new PID namespace).
    """
    if not _mount("none", "/", "", MS_REC | MS_PRIVATE):
        return False
    if not _mount(writable_dir, writable_dir, "", MS_BIND | MS_REC):
        return False
    keep = {"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "mqueue"}
    ok = True
    for target, fstype in _mount_points():
        if fstype in keep or target == writable_dir or not os.path.isdir(target):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        if not _mount("none", target, "", flags):
            ok = False
    if pid_namespace:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)
    return ok


def others_can_enter(path: str) -> bool:
    """Whether a user with no special rights can traverse every component of ``path``."""
    current = "/"
    for part in [p for p in os.path.realpath(path).split("/") if p]:
        current = os.path.join(current, part)
        try:
            mode = os.stat(current).st_mode
        except OSError:
            return False
        if os.path.isdir(current) and not mode & 0o001:
            return False
    return True


def _first_closed_ancestor(path: str) -> str:
    current = "/"
    for part in [p for p in path.split("/") if p]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return current


def expose_paths(paths: list[str], stage_dir: str) -> bool:
    """In a private mount namespace: make ``paths`` reachable for ``nobody``.

    A Python installed under a closed home (``/root/.pyenv``) would be unreadable after
    the uid drop. Each closed ancestor is replaced by an empty tmpfs into which only
    the needed directories are bind-mounted back, which also hides the rest of that
    home (dotfiles, credentials) from the candidate.
    """
    wanted = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)})
    blocked = [p for p in wanted if not others_can_enter(p)]
    # Keep only outermost directories: binding a parent brings its children along.
    blocked = [p for p in blocked if not any(p != q and p.startswith(q + "/") for q in blocked)]
    by_ancestor: dict[str, list[str]] = {}
    for path in blocked:
        by_ancestor.setdefault(_first_closed_ancestor(path), []).append(path)
    os.makedirs(stage_dir, mode=0o700, exist_ok=True)
    for index, (ancestor, dirs) in enumerate(sorted(by_ancestor.items())):
        staged = []
        for number, path in enumerate(dirs):
            stage = os.path.join(stage_dir, f"{index}-{number}")
            os.mkdir(stage, 0o700)
            if not _mount(path, stage, "", MS_BIND | MS_REC):
                return False
            staged.append((path, stage))
        if not _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m"):
            return False
        for path, stage in staged:
            os.makedirs(path, exist_ok=True)
            for parent in _parents_between(ancestor, path):
                os.chmod(parent, 0o755)
            if not _mount(stage, path, "", MS_BIND | MS_REC):
                return False
    return all(others_can_enter(p) for p in wanted)


def _parents_between(ancestor: str, path: str) -> list[str]:
    parents, current = [], path
    while current != ancestor and current != "/":
        parents.append(current)
        current = os.path.dirname(current)
    return parents


def set_limits(memory_mb: int, cpu_s: float | None, file_size_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb > 0:
        size = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if cpu_s is not None and cpu_s > 0:
        seconds = max(1, int(cpu_s + 0.999))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    size = max(1, file_size_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def count_tasks_of_uid(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def limit_processes(max_processes: int, uid: int, existing_tasks: int) -> bool:
    """RLIMIT_NPROC counts every task of the uid system-wide (threads too, and other
    sandboxes of the same uid); root ignores it. ``existing_tasks`` includes this one."""
    if max_processes <= 0 or uid == 0:
        return False
    allowed = existing_tasks + max_processes
    resource.setrlimit(resource.RLIMIT_NPROC, (allowed, allowed))
    return True


_CAP_VERSION_3, _CAP_LAST = 0x20080522, 63
PR_CAPBSET_DROP = 24


def drop_capabilities() -> bool:
    """Give up every capability (and the bounding set), e.g. those a fresh user
    namespace grants, so the candidate cannot remount or unmount its file view."""
    if _libc is None:
        return False
    for cap in range(_CAP_LAST + 1):
        _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0)
    header = struct.pack("Ii", _CAP_VERSION_3, 0)
    data = bytes(24)  # two (effective, permitted, inheritable) triples, all empty
    hbuf, dbuf = ctypes.create_string_buffer(header), ctypes.create_string_buffer(data)
    return int(_libc.capset(hbuf, dbuf)) == 0


def drop_privileges(uid: int = NOBODY_UID) -> bool:
    """As root: become ``nobody`` so 0600 files and other users' processes are off-limits."""
    if os.getuid() != 0:
        return False
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    return os.getuid() == uid


# --- seccomp: forbid creating processes (threads stay allowed) -----------------------
_ARCH = {"x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435,
                                 "prctl": 157}),
         "aarch64": (0xC00000B7, {"clone": 220, "clone3": 435, "prctl": 167})}
_CLONE_THREAD = 0x00010000
_RET_ALLOW, _RET_ERRNO, _RET_KILL = 0x7FFF0000, 0x00050000, 0x80000000
_EPERM, _ENOSYS = 1, 38


def _stmt(code: int, k: int) -> bytes:
    return struct.pack("HBBI", code, 0, 0, k & 0xFFFFFFFF)


def _jump(code: int, k: int, jt: int, jf: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _no_fork_filter(audit_arch: int, nr: dict[str, int]) -> list[bytes]:
    ld_w_abs, jeq_k, jset_k, ret_k = 0x20, 0x15, 0x45, 0x06
    prog = [_stmt(ld_w_abs, 4), _jump(jeq_k, audit_arch, 1, 0), _stmt(ret_k, _RET_KILL),
            _stmt(ld_w_abs, 0)]
    if audit_arch == 0xC000003E:  # x32 syscalls would bypass the numbers below
        prog += [_jump(jset_k, 0x40000000, 0, 1), _stmt(ret_k, _RET_ERRNO | _EPERM)]
    for name in ("fork", "vfork"):
        if name in nr:
            prog += [_jump(jeq_k, nr[name], 0, 1), _stmt(ret_k, _RET_ERRNO | _EPERM)]
    # clone3 passes flags in memory BPF cannot read: ENOSYS makes libc fall back to clone.
    prog += [_jump(jeq_k, nr["clone3"], 0, 1), _stmt(ret_k, _RET_ERRNO | _ENOSYS)]
    # prctl(PR_SET_PDEATHSIG): the candidate must not detach from its supervisor.
    # Each block loads an argument into the accumulator, so it ends in its own ALLOW.
    prog += [_jump(jeq_k, nr["prctl"], 0, 4), _stmt(ld_w_abs, 16),
             _jump(jeq_k, PR_SET_PDEATHSIG, 0, 1), _stmt(ret_k, _RET_ERRNO | _EPERM),
             _stmt(ret_k, _RET_ALLOW)]
    prog += [_jump(jeq_k, nr["clone"], 0, 4), _stmt(ld_w_abs, 16),
             _jump(jset_k, _CLONE_THREAD, 1, 0), _stmt(ret_k, _RET_ERRNO | _EPERM),
             _stmt(ret_k, _RET_ALLOW)]
    prog += [_stmt(ret_k, _RET_ALLOW)]
    return prog


def forbid_new_processes() -> bool:
    """Install a seccomp filter: fork/vfork/non-thread clone fail with EPERM."""
    arch = _ARCH.get(platform.machine())
    if _libc is None or arch is None:
        return False
    prog = b"".join(_no_fork_filter(*arch))
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HxxxxxxQ", len(prog) // 8, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    if not _call("prctl", PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), 0, 0, 0):
        return False
    seccomp_mode_filter = 2
    return _call("prctl", PR_SET_SECCOMP, ctypes.c_ulong(seccomp_mode_filter),
                 ctypes.c_void_p(ctypes.addressof(fbuf)), 0, 0)
