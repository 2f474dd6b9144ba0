"""Run folders with planted payloads, written straight into SQLite and run.json.

A run folder can come from anyone. These helpers plant what an attacker would: markup
that Plotly draws as links and styles, HTML and script, terminal escape sequences
(window title, OSC 52 clipboard write, OSC 8 link, clear screen), NUL bytes, Rich markup,
huge strings, and damaged rows (unknown origin, invalid UTF-8, text that is not JSON).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from support_report import make_run

LINK = '<a href="https://evil.example/phish">click me</a>'
STYLE = '<span style="font-size:120px;color:red">HUGE</span>'
SCRIPT = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
TERMINAL = ("\x1b]0;pwned-title\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[H"
            "\x1b]8;;https://evil.example\x07osc8\x1b]8;;\x07\x00\x9b31m\x07")
MARKUP = "[reverse blink]blink[/] [/]"
PAYLOAD = f"{LINK}{STYLE}{SCRIPT}{TERMINAL}{MARKUP}"
# Bytes no output of ours may carry: ESC, BEL, NUL, and the 8-bit CSI in UTF-8.
CONTROL_BYTES = (b"\x1b", b"\x07", b"\x00", b"\xc2\x9b")


def plant_payloads(root: Path, name: str = "hostile", huge: int = 0) -> Path:
    """A real run whose stored text fields all carry ``PAYLOAD`` (``huge``: plus strings
    of that many characters as a model name, a metric key, a feature name and a reason)."""
    run_dir = make_run(root, name, programs=30, seed=11)
    big = "Z" * huge
    db = sqlite3.connect(run_dir / "evolve.db")
    try:
        feature = f"feat{PAYLOAD}{big}"
        config = {"database": {"num_islands": 3, "feature_dimensions": [feature, "diversity"],
                               "feature_bins": 6}}
        db.execute("UPDATE runs SET name = ?, problem = ?, status = ?, config = ?",
                   (f"run{PAYLOAD}", f"problem{PAYLOAD}", f"done{TERMINAL}{MARKUP}",
                    json.dumps(config)))
        db.execute("UPDATE programs SET model = ? WHERE origin = 'llm'", (f"model{PAYLOAD}{big}",))
        db.execute("UPDATE llm_calls SET model = ?", (f"model{PAYLOAD}{big}",))
        rows = db.execute("SELECT p.id, e.metrics, e.artifacts, p.features, e.holdout FROM programs p "
                          "JOIN evaluations e ON e.program_id = p.id").fetchall()
        for pid, metrics, artifacts, features, holdout in rows:
            metrics = json.loads(metrics)
            metrics[f"key{PAYLOAD}{big}"] = 1.5
            metrics["text"] = PAYLOAD
            art = json.loads(artifacts)
            art[f"art{PAYLOAD}"] = f"body{PAYLOAD}"
            feats = json.loads(features)
            feats[feature] = feats.pop("complexity", 1.0)
            hold = json.loads(holdout)
            if hold:
                hold[f"hold{PAYLOAD}"] = 0.5
            db.execute("UPDATE evaluations SET metrics = ?, artifacts = ?, instances = ?, "
                       "holdout = ?, reason = ? WHERE program_id = ?",
                       (json.dumps(metrics), json.dumps(art), json.dumps({f"inst{PAYLOAD}": 1.0}),
                        json.dumps(hold), f"reason{PAYLOAD}{big}" if reason_for(pid) else "", pid))
            db.execute("UPDATE programs SET features = ?, code = code || ? WHERE id = ?",
                       (json.dumps(feats), f"\n# {PAYLOAD}\n", pid))
        db.commit()
    finally:
        db.close()
    return run_dir


def reason_for(pid: str) -> bool:
    return pid[-1] in "01234567"  # about half the programs


def damage(run_dir: Path) -> dict[str, str]:
    """Damage single rows and fields the way a hand edit or a foreign tool would.

    Returns the ids of the damaged programs by kind (unknown origin, invalid UTF-8,
    metrics that are not JSON)."""
    db = sqlite3.connect(run_dir / "evolve.db")
    try:
        ids = [row[0] for row in db.execute(
            "SELECT id FROM programs WHERE origin = 'llm' AND valid = 1 ORDER BY seq")]
        alien, utf8, badjson = ids[0], ids[1], ids[2]
        db.execute("UPDATE programs SET origin = 'alien', score = score + 50 WHERE id = ?", (alien,))
        db.execute("UPDATE evaluations SET score = score + 50 WHERE program_id = ?", (alien,))
        db.execute("UPDATE programs SET code = CAST(X'7072696E7428FF80FE2922' AS TEXT), "
                   "model = CAST(X'6DFF' AS TEXT) WHERE id = ?", (utf8,))
        db.execute("UPDATE runs SET name = CAST(X'72756E20FF' AS TEXT)")
        db.execute("UPDATE evaluations SET metrics = '{not json', score = score + 100 "
                   "WHERE program_id = ?", (badjson,))
        db.execute("UPDATE programs SET score = score + 100 WHERE id = ?", (badjson,))
        db.commit()
    finally:
        db.close()
    return {"alien": alien, "utf8": utf8, "badjson": badjson}


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def set_database(run_dir: Path, url: str) -> None:
    """Point run.json at ``url`` (the way an older evolve wrote it: ``database_url``)."""
    meta = json.loads((run_dir / "run.json").read_text())
    meta.pop("database", None)
    meta["database_url"] = url
    (run_dir / "run.json").write_text(json.dumps(meta))


def assert_no_control_bytes(data: bytes, what: str) -> None:
    found = [b for b in CONTROL_BYTES if b in data]
    assert not found, f"{what} carries control bytes {found}: {data[:300]!r}"


def chromium_dom_of_url(binary: str, url: str, work: Path) -> str:
    """``--dump-dom`` of a URL (a page served on 127.0.0.1) with a private profile."""
    import os
    import subprocess

    from support_report import CHROMIUM_FLAGS

    home = work / "home"
    for sub in ("config", "cache", "data", "profile"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data")}
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={home / 'profile'}", "--dump-dom", url]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
