"""The sandbox child's deny-by-default file view (docs/security.md, "File view").

A candidate that walks the whole tree finds, besides the operating system's folders
and the interpreter's own packages, only its work folder: no problem data, no run
database, no project tree, no home folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evolve.evaluation import _fileview
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits

REPO = Path(__file__).resolve().parents[1]
WALKER = REPO / "tests" / "hostile" / "walk_root.py"
SECRET_SUFFIXES = (".npz", ".npy", ".db", ".sqlite", ".json", ".yaml", ".csv")


def _walk(sandbox: Sandbox) -> tuple[dict, dict]:
    call = CandidateCall("walk", (_fileview.visible_dirs(),))
    result = sandbox.run(WALKER, [call], SandboxLimits(timeout_s=60, memory_mb=2048))
    assert result.ok and result.calls[0].ok, result.reason
    return result.calls[0].value, result.isolation


def _check_nothing_exposed(found: dict) -> None:
    work = found["cwd"]
    outside = [f for f in found["files"] if not f.startswith(work + "/")]
    assert outside == [], outside[:10]
    for path in [*found["dirs"], *found["files"]]:
        parts = Path(path).parts
        assert "problems" not in parts and "runs" not in parts, path
        assert not path.endswith(SECRET_SUFFIXES) or path.startswith(work + "/"), path
    assert not any(str(REPO / name) in found["dirs"] for name in ("problems", "runs", "tests"))
    # Only folders on the way to what is bound in are listed (e.g. /root -> the interpreter).
    shown = [*_fileview.visible_dirs(), *_fileview.OS_DIRS, *_fileview.interpreter_dirs(),
             work, "/proc"]
    for folder in found["dirs"]:
        assert folder.startswith(work + "/") or any(
            v == folder or v.startswith(folder + "/") for v in shown), folder


@pytest.mark.skipif(os.geteuid() != 0, reason="the root file view needs root")
def test_a_candidate_walking_the_root_finds_no_data_as_root(tmp_path: Path) -> None:
    with Sandbox(preload=("numpy",)) as box:
        found, isolation = _walk(box)
    assert isolation["file_view"] and isolation["setuid_nobody"]
    _check_nothing_exposed(found)
    assert "home" not in found["top"] and "opt" not in found["top"]


def _python_for_nobody() -> str | None:
    """An interpreter the nobody user can run (a venv under /root usually is not one)."""
    for candidate in (sys.executable, shutil.which("python3.11"), "/usr/bin/python3"):
        if not candidate or shutil.which("setpriv") is None:
            continue
        spawn = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import numpy'])"
        probe = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", candidate,
             "-c", spawn.replace("])", "], check=True)")],
            capture_output=True, env=_nobody_env(), check=False)
        if probe.returncode == 0:
            return candidate
    return None


def _nobody_env() -> dict[str, str]:
    packages = [p for p in sys.path if p.endswith("site-packages")]
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join([str(REPO), *packages])}


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to nobody needs root")
def test_a_candidate_walking_the_root_finds_no_data_in_a_user_namespace() -> None:
    python = _python_for_nobody()
    if python is None:
        pytest.skip("no interpreter the nobody user can run here")
    script = (
        "import json, sys\n"
        "from evolve.evaluation import _fileview\n"
        "from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits\n"
        "with Sandbox(preload=('numpy',)) as box:\n"
        f"    r = box.run(__import__('pathlib').Path({str(WALKER)!r}),\n"
        "        [CandidateCall('walk', (_fileview.visible_dirs(),))], SandboxLimits(timeout_s=60))\n"
        "print(json.dumps({'iso': r.isolation, 'found': r.calls[0].value if r.calls else None,"
        " 'probe': _fileview.probe(), 'reason': r.reason}))\n")
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           python, "-c", script], capture_output=True, text=True,
                          env=_nobody_env(), cwd="/", timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    if not report["probe"]:
        pytest.skip("unprivileged user namespaces are disabled here")
    assert report["iso"]["file_view"] and report["iso"]["user_namespace"], report
    assert report["iso"]["no_capabilities"]
    _check_nothing_exposed(report["found"])


def test_the_probe_agrees_with_what_a_sandbox_run_reports() -> None:
    with Sandbox(preload=("numpy",)) as box:
        result = box.run(WALKER, [CandidateCall("solve", ([2, 1],))], SandboxLimits())
    assert result.isolation.get("file_view", False) == _fileview.probe()


def test_runs_warn_when_the_machine_cannot_give_the_view(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from evolve import cli

    monkeypatch.setattr(_fileview, "probe", lambda: False)
    cli._isolation_warning()
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and err.count("\n") == 1 and "docs/security.md" in err
    monkeypatch.setattr(_fileview, "probe", lambda: True)
    cli._isolation_warning()
    assert capsys.readouterr().err == ""
