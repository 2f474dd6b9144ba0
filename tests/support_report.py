"""Builds run folders for report tests by writing records straight through ``Store``.

The runs look like what the controller writes: baselines, LLM children with their
calls, invalid programs with reasons, migration copies, several islands and models.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from support_database import ledger_entry

from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import LLMCallRecord, ProgramRecord, new_id
from evolve.database.store import Store

BASE_CODE = '''import numpy as np

# EVOLVE-BLOCK-START
def pack(n):
    """Place n circles; returns centres and radii."""
    xs = np.linspace(0.1, 0.9, n)
    return xs, xs, np.full(n, {radius})
# EVOLVE-BLOCK-END
'''

MODELS = (("gpt-4o-mini", 0.00015, 0.0006), ("o3", 0.002, 0.008))


def program_code(radius: float, extra_lines: int = 0) -> str:
    body = BASE_CODE.format(radius=f"{radius:.5f}")
    lines = "".join(f"    # step {i}\n" for i in range(extra_lines))
    return body.replace("# EVOLVE-BLOCK-END", lines + "# EVOLVE-BLOCK-END")


def make_run(root: Path, name: str = "demo", problem: str = "circle_packing", programs: int = 40,
             seed: int = 0, islands: int = 3, holdout: bool = True, calls: bool = True,
             status: str = "finished", llm_models: list[dict[str, object]] | None = None) -> Path:
    """A run folder under ``root`` with ``programs`` stored programs; returns the folder.
    ``llm_models``: the run's stored ``llm.models`` (``[]``: an offline-engine run)."""
    rng = random.Random(seed)
    run_dir = root / name
    run_dir.mkdir(parents=True)
    url = f"sqlite:///{(run_dir / 'evolve.db').resolve()}"
    config = {"database": {"num_islands": islands, "feature_dimensions": ["complexity", "diversity"],
                           "feature_bins": 6}}
    if llm_models is not None:
        config["llm"] = {"models": llm_models}
    t0 = time.time()
    with Store(url) as store:
        run_id = store.create_run(name, problem, config, seed)
        (run_dir / "run.json").write_text(json.dumps(
            {"run_id": run_id, "database_url": url, "problem_dir": f"problems/{problem}"}))
        stored: list[ProgramRecord] = []
        recent: dict[int, list[ProgramRecord]] = {}  # a few valid programs per island (parents)
        clock = t0
        for index in range(programs):
            clock += 1.0
            island = index % islands
            if index < islands:
                parent, origin, model, generation = None, "initial", "", 0
            else:
                same_island = recent.get(island) or stored[:1]
                parent = max(same_island, key=lambda p: (p.score or 0) + rng.random() * 0.3)
                origin, generation = "llm", parent.generation + 1
                model = MODELS[rng.random() < 0.3][0]
            migration = origin == "llm" and index % 17 == 0 and parent is not None
            if migration:
                assert parent is not None
                origin, model = "migration", ""
            valid = origin != "llm" or rng.random() > 0.25
            base = parent.score if parent is not None and parent.score is not None else 1.0
            score = base + rng.gauss(0.02, 0.05) if valid else None
            if migration:
                assert parent is not None
                score, valid = parent.score, parent.valid
            features = {"complexity": 200.0 + rng.random() * 400, "diversity": rng.random()}
            program = ProgramRecord(
                id=new_id(), run_id=run_id,
                code=parent.code if migration and parent else program_code(score or 0.0, index % 7),
                parent_id=parent.id if parent else None, island=(island + 1) % islands if migration else island,
                generation=generation, iteration=0 if origin == "initial" else index, valid=valid,
                score=score,
                metrics={"sum_radii": score or 0.0, "eval_s": 0.2} if valid else {},
                instances={"n26": score or 0.0, "n32": (score or 0.0) * 0.9} if valid else {},
                holdout={"score": (score or 0.0) * 0.95 - 0.01 * generation} if valid and holdout else {},
                artifacts={"feedback": "overlap between circles 3 and 4 <b>x</b>"} if not valid else
                          {"stdout": "ok <script>alert(1)</script>"},
                reason="" if valid else rng.choice(["timeout after 30s", "circles overlap", "SyntaxError"]),
                features=features, origin=origin, model=model, changed_lines=rng.randint(1, 20),
                eval_s=0.2, created_at=clock,
            )
            llm_calls = []
            if calls and origin == "llm":
                name_, price_in, price_out = MODELS[model == "o3"]
                p_tok, c_tok = rng.randint(800, 1500), rng.randint(100, 400)
                llm_calls.append(LLMCallRecord(
                    run_id=run_id, iteration=index, model=name_, prompt_tokens=p_tok, completion_tokens=c_tok,
                    cost_usd=p_tok / 1000 * price_in + c_tok / 1000 * price_out, latency_s=rng.random() * 3,
                    created_at=clock - 0.5))
            store.commit(ledger_entry(program, llm_calls))
            stored.append(program)
            if program.valid:
                pool = recent.setdefault(program.island, [])
                pool.append(program)
                pool.sort(key=lambda p: -(p.score or 0.0))
                del pool[8:]
        if calls:
            failed = LLMCallRecord(run_id=run_id, iteration=programs, model="o3", ok=False,
                                   error="timeout: read timed out", created_at=clock + 0.5)
            store.commit(Attempt(run_id, programs, Outcome.LLM_FAILED, calls=[failed]))
        store.add_event(run_id, "migration", {"copies": 1})
        store.set_run_status(run_id, status)
    return run_dir


# ---------------------------------------------------------------- headless Chromium

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--virtual-time-budget=15000"]


def chromium() -> str | None:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(binary: str, page: Path, work: Path, *action: str) -> str:
    """Run headless Chromium on a local file with a private profile; returns stdout."""
    import os
    import subprocess

    home = work / "home"
    for sub in ("config", "cache", "data", "profile"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data")}
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={home / 'profile'}", *action, page.resolve().as_uri()]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_pixels(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into an array, with zlib only."""
    import struct
    import zlib

    import numpy as np

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, color = header[:4]
    assert depth == 8 and color in (2, 6), f"unsupported PNG (depth {depth}, color type {color})"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        line_start = y * (stride + 1)
        kind = raw[line_start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=line_start + 1).astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + prev) & 0xFF
        else:  # Sub, Average, Paeth depend on the pixel to the left: decode per byte
            row = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                left = row[x - channels] if x >= channels else 0
                up = prev[x]
                upleft = prev[x - channels] if x >= channels else 0
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) // 2
                else:
                    p = left + up - upleft
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else upleft
                row[x] = (line[x] + pred) & 0xFF
        out[y] = row
        prev = row
    return out.reshape(height, width, channels)[:, :, :3].astype(np.uint8)


# A script appended to a copy of a report: it opens every <details>, then records which
# table containers scroll (a table wider than the room it has), which tables sit outside
# a container, and whether the page itself is wider than the window.
_LAYOUT_PROBE = """<script>
(function () {
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  var wraps = document.querySelectorAll('.table-wrap'), clipped = [], loose = 0;
  wraps.forEach(function (el, i) {
    if (el.scrollWidth !== el.clientWidth) {
      var t = el.querySelector('table');
      clipped.push(((t && t.id) || ('table ' + i)) + ': ' + el.scrollWidth + ' > ' + el.clientWidth);
    }
  });
  document.querySelectorAll('table').forEach(function (t) { if (!t.closest('.table-wrap')) { loose += 1; } });
  var root = document.documentElement, out = document.createElement('pre');
  out.id = 'layout-probe';
  out.textContent = JSON.stringify({containers: wraps.length, clipped: clipped, loose: loose,
                                    page: [root.scrollWidth, root.clientWidth]});
  document.body.appendChild(out);
})();
</script>"""


def layout_probe(binary: str, report: Path, work: Path, width: int) -> dict[str, object]:
    """Table containers and page width of ``report`` laid out in a ``width``-pixel window.

    The probe runs from a copy of the report without its Content-Security-Policy (which
    admits only the report's own scripts); the layout is the same.
    """
    import json
    import re

    html = report.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html, count=1)
    at = html.rfind("</body>")
    probe = work / f"probe-{width}.html"
    probe.write_text(html[:at] + _LAYOUT_PROBE + html[at:], encoding="utf-8")
    dom = run_chromium(binary, probe, work / f"profile-{width}", f"--window-size={width},1200",
                       "--dump-dom")
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom, re.DOTALL)
    assert found is not None, "the layout probe did not run"
    result: dict[str, object] = json.loads(found.group(1).replace("&gt;", ">"))
    return result
