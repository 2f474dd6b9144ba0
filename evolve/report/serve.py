"""`evolve serve`: browse every run under a folder in a browser, live while runs progress.

A small stdlib HTTP server. The index is the leaderboard; each run's page is its HTML
report, rebuilt only when the run's counters or status changed, and reloading itself
while the run is still running. Only run folders found under the root are served, so
a URL cannot reach any other file. Binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from evolve.errors import UserError
from evolve.report.html import build_report
from evolve.report.leaderboard import LeaderboardRow, collect, sort_rows
from evolve.report.scores import fmt_date, fmt_duration, fmt_model_mix, fmt_score, fmt_usd
from evolve.report.source import find_run_dirs, load_run

LIVE_REFRESH_S = 15


class RunBrowser:
    """What the server shows; kept apart from HTTP so it is easy to test."""

    def __init__(self, root: Path, top_n: int = 10) -> None:
        self.root = root
        self.top_n = top_n
        self._cache: dict[Path, tuple[tuple[object, ...], str]] = {}
        self._lock = threading.Lock()

    def run_dirs(self) -> dict[str, Path]:
        return {d.relative_to(self.root).as_posix(): d for d in find_run_dirs(self.root)}

    def index(self) -> str:
        warnings: list[str] = []
        rows = sort_rows(collect(self.root, warnings=warnings))
        return _index_page(self.root, rows, warnings)

    def report(self, name: str) -> str | None:
        run_dir = self.run_dirs().get(name)
        if run_dir is None:
            return None
        with load_run(run_dir) as handle:
            counters = handle.store.counters(handle.run_id)
            key = (handle.record.status, handle.record.updated_at, *vars(counters).values())
            with self._lock:
                cached = self._cache.get(run_dir)
            if cached is not None and cached[0] == key:
                return cached[1]
            refresh = LIVE_REFRESH_S if handle.record.status == "running" else None
            page = build_report(handle, top_n=self.top_n, refresh_s=refresh)
        with self._lock:
            self._cache[run_dir] = (key, page)
        return page


def _index_page(root: Path, rows: list[LeaderboardRow], warnings: list[str]) -> str:
    esc = html.escape
    body = []
    for r in rows:
        link = "/run/" + quote(Path(r.run_dir).relative_to(root).as_posix())
        body.append(
            f"<tr><td>{esc(r.problem)}</td><td><a href=\"{esc(link)}\">{esc(r.run)}</a></td>"
            f"<td>{esc(r.status)}</td><td class=n>{fmt_score(r.score)}</td><td class=n>{fmt_score(r.holdout)}</td>"
            f"<td>{esc(fmt_model_mix(r.models))}</td><td class=n>{r.llm_calls}</td><td class=n>{r.tokens:,}</td>"
            f"<td class=n>{fmt_usd(r.usd)}</td><td class=n>{r.evaluations}</td><td class=n>{fmt_duration(r.wall_s)}</td>"
            f"<td class=n>{r.seed}</td><td>{fmt_date(r.created_at)}</td></tr>")
    notes = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    heads = ("problem", "run", "status", "train", "holdout", "models", "LLM calls", "tokens", "USD",
             "evals", "wall", "seed", "date")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<meta http-equiv=refresh content={LIVE_REFRESH_S}><title>evolve runs</title><style>"
        "body{font:14px/1.5 sans-serif;margin:24px}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}.n{text-align:right}"
        "th{background:#f6f8fa}</style></head><body>"
        f"<h1>evolve runs under {esc(str(root))}</h1>"
        f"<table id=leaderboard><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr>{''.join(body)}</table>"
        + (f"<ul class=warnings>{notes}</ul>" if notes else "")
        + ("<p>No runs yet.</p>" if not rows else "") + "</body></html>"
    )


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 8765,
                top_n: int = 10) -> ThreadingHTTPServer:
    base = Path(root)
    if not base.is_dir():
        raise UserError("no such folder", str(root))
    browser = RunBrowser(base, top_n)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path in ("/", "/index.html"):
                    self._send(200, browser.index())
                elif path.startswith("/run/"):
                    page = browser.report(unquote(path[len("/run/"):]))
                    if page is None:
                        self._send(404, "no such run")
                    else:
                        self._send(200, page)
                else:
                    self._send(404, "not found")
            except UserError as exc:
                self._send(500, f"cannot read this run: {html.escape(str(exc))}")

        def _send(self, status: int, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the terminal shows the URL, not one line per request

    try:
        return _Server((host, port), Handler)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror})", "--port") from None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the stdlib default of 5 drops connections under a burst
    daemon_threads = True
