"""`evolve serve`: browse every run under a folder in a browser, live while runs progress.

A small stdlib HTTP server. The index is the leaderboard; each run's page is its HTML
report, rebuilt only when the run's counters or status changed, and reloading itself
while the run is still running. Only run folders found under the root are served, so
a URL cannot reach any other file, and each run's database must lie inside its folder
(or be named with ``--database``).

A served run folder may come from anyone, and the page is read by a browser that
holds other sites' sessions, so every response carries a strict policy (no remote
sources, no framing, no caching, no type sniffing), requests whose ``Host`` is not
this server's (DNS rebinding) are refused, reports are built one at a time and cached
within a byte budget, and ``--token`` makes every request prove it knows a secret.
Binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import socket
import sys
import threading
from collections import OrderedDict
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from evolve.errors import UserError
from evolve.report.html import build_report, content_security_policy
from evolve.report.leaderboard import LeaderboardRow, collect, sort_rows
from evolve.report.scores import fmt_date, fmt_duration, fmt_model_mix, fmt_score, fmt_usd
from evolve.report.source import find_run_dirs, load_run
from evolve.safe_text import line

LIVE_REFRESH_S = 15
MAX_PAGE_BYTES = 32 * 2**20  # a report over this is not sent (bounded fields keep them far smaller)
CACHE_BYTES = 128 * 2**20  # rendered reports kept for reuse; the least recently used go first
TOKEN_COOKIE = "evolve_token"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
# Pages other than reports: no scripts at all.
PLAIN_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class RunBrowser:
    """What the server shows; kept apart from HTTP so it is easy to test."""

    def __init__(self, root: Path, top_n: int = 10, database: str | None = None) -> None:
        self.root = root
        self.top_n = top_n
        self.database = database
        self._cache: OrderedDict[Path, tuple[tuple[object, ...], str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._build = threading.Lock()  # one page built at a time: memory stays bounded

    def run_dirs(self) -> dict[str, Path]:
        return {d.relative_to(self.root).as_posix(): d for d in find_run_dirs(self.root)}

    def index(self) -> str:
        warnings: list[str] = []
        with self._build:  # reads every run: one at a time, like report builds
            rows = sort_rows(collect(self.root, warnings=warnings, database=self.database))
        return _index_page(self.root, rows, warnings)

    def report(self, name: str) -> tuple[str, str] | None:
        """A run's report page and its Content-Security-Policy; None for no such run."""
        run_dir = self.run_dirs().get(name)
        if run_dir is None:
            return None
        with load_run(run_dir, self.database) as handle:
            counters = handle.store.counters(handle.run_id)
            key = (handle.record.status, handle.record.updated_at, *vars(counters).values())
            cached = self._cached(run_dir, key)
            if cached is not None:
                return cached
            with self._build:
                cached = self._cached(run_dir, key)  # built while this request waited
                if cached is not None:
                    return cached
                refresh = LIVE_REFRESH_S if handle.record.status == "running" else None
                page = build_report(handle, top_n=self.top_n, refresh_s=refresh)
                if len(page) > MAX_PAGE_BYTES:  # characters: a lower bound on its bytes
                    raise UserError(f"the report is too large to serve ({len(page) / 2**20:.0f} "
                                    "MB); write it to a file with: evolve report", str(run_dir))
                entry = (page, content_security_policy(page))
                self._store(run_dir, key, entry)
        return entry

    def _cached(self, run_dir: Path, key: tuple[object, ...]) -> tuple[str, str] | None:
        with self._lock:
            found = self._cache.get(run_dir)
            if found is None or found[0] != key:
                return None
            self._cache.move_to_end(run_dir)
            return found[1], found[2]

    def _store(self, run_dir: Path, key: tuple[object, ...], entry: tuple[str, str]) -> None:
        with self._lock:
            self._cache[run_dir] = (key, *entry)
            self._cache.move_to_end(run_dir)
            while (len(self._cache) > 1
                   and sum(len(v[1]) for v in self._cache.values()) > CACHE_BYTES):
                self._cache.popitem(last=False)


def _index_page(root: Path, rows: list[LeaderboardRow], warnings: list[str]) -> str:
    esc = html.escape
    body = []
    for r in rows:
        link = "/run/" + quote(Path(r.run_dir).relative_to(root).as_posix())
        body.append(
            f"<tr><td>{esc(r.problem)}</td><td><a href=\"{esc(link)}\">{esc(r.run)}</a></td>"
            f"<td>{esc(r.status)}</td><td class=n>{fmt_score(r.score)}</td>"
            f"<td class=n>{fmt_score(r.holdout)}</td>"
            f"<td>{esc(fmt_model_mix(r.models))}</td><td class=n>{r.llm_calls}</td>"
            f"<td class=n>{r.tokens:,}</td>"
            f"<td class=n>{fmt_usd(r.usd)}</td><td class=n>{r.evaluations}</td>"
            f"<td class=n>{fmt_duration(r.wall_s)}</td>"
            f"<td class=n>{r.seed}</td><td>{fmt_date(r.created_at)}</td></tr>")
    notes = "".join(f"<li>{esc(line(w, 1000))}</li>" for w in warnings)
    heads = ("problem", "run", "status", "train", "holdout", "models", "LLM calls", "tokens", "USD",
             "evals", "wall", "seed", "date")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<meta http-equiv=refresh content={LIVE_REFRESH_S}><title>evolve runs</title><style>"
        "body{font:14px/1.5 sans-serif;margin:24px}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}.n{text-align:right}"
        "th{background:#f6f8fa}</style></head><body>"
        f"<h1>evolve runs under {esc(line(root, 1000))}</h1>"
        f"<table id=leaderboard><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr>"
        f"{''.join(body)}</table>"
        + (f"<ul class=warnings>{notes}</ul>" if notes else "")
        + ("<p>No runs yet.</p>" if not rows else "") + "</body></html>"
    )


def allowed_hosts(host: str, bound: str) -> tuple[set[str], bool]:
    """Host names a request may carry, and whether any IP literal is fine too.

    A DNS-rebinding page reaches the server under a name its attacker controls; the
    server's own address, ``localhost`` and (bound to all interfaces) this machine's
    names and IP literals cannot be such a name.
    """
    names = {"localhost", host.lower().strip("[]"), bound.lower()}
    wildcard = bound in ("0.0.0.0", "::")
    if wildcard:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names, wildcard


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 8765, top_n: int = 10,
                token: str | None = None, database: str | None = None) -> ThreadingHTTPServer:
    base = Path(root)
    if not base.is_dir():
        raise UserError("no such folder", str(root))
    browser = RunBrowser(base, top_n, database)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if not self._host_ok():
                self._send(403, "this server answers only requests addressed to it "
                                "(its own address or localhost)")
                return
            parts = urlsplit(self.path)
            if not self._authorized(parts.query):
                self._send(401, "this server needs its token: open the address it printed at start")
                return
            try:
                self._route(parts.path)
            except UserError as exc:
                self._send(500, f"cannot read this run: {exc}")
            except Exception as exc:  # noqa: BLE001 - one bad run must not drop the connection
                print(f"evolve serve: {line(self.path, 200)}: {type(exc).__name__}: "
                      f"{line(exc, 300)}", file=sys.stderr)
                self._send(500, f"cannot show this page ({type(exc).__name__})")

        def _route(self, path: str) -> None:
            if path in ("/", "/index.html"):
                self._send(200, browser.index())
            elif path.startswith("/run/"):
                found = browser.report(unquote(path[len("/run/"):]))
                if found is None:
                    self._send(404, "no such run")
                else:
                    page, policy = found
                    self._send(200, page, policy=policy, raw=True)
            else:
                self._send(404, "not found")

        def _host_ok(self) -> bool:
            header = self.headers.get("Host")
            if not header:
                return False
            name = host_name(header)
            return name in hosts or (any_ip and _is_ip(name))

        def _authorized(self, query: str) -> bool:
            if token is None:
                return True
            offered = [*parse_qs(query).get("token", [])]
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                offered.append(auth[len("Bearer "):])
            try:
                cookie = SimpleCookie(self.headers.get("Cookie", ""))
            except CookieError:
                cookie = SimpleCookie()
            if TOKEN_COOKIE in cookie:
                offered.append(unquote(cookie[TOKEN_COOKIE].value))
            good = any(hmac.compare_digest(o.encode(), token.encode()) for o in offered)
            self._set_cookie = good and bool(parse_qs(query).get("token"))
            return good

        _set_cookie = False

        def _send(self, status: int, text: str, policy: str = PLAIN_POLICY,
                  raw: bool = False) -> None:
            body = text if raw or status == 200 else _message_page(status, text)
            data = body.encode("utf-8", "replace")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", f"{policy}; frame-ancestors 'none'")
            for name, value in SECURITY_HEADERS:
                self.send_header(name, value)
            if self._set_cookie and token is not None:
                self.send_header("Set-Cookie", f"{TOKEN_COOKIE}={quote(token)}; Path=/; HttpOnly; "
                                               "SameSite=Strict")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the terminal shows the URL, not one line per request

    try:
        server = _Server((host, port), Handler)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror})", "--port") from None
    hosts, any_ip = allowed_hosts(host, str(server.server_address[0]))
    return server


def _message_page(status: int, text: str) -> str:
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{status}</title></head>"
            f"<body><p>{html.escape(line(text, 2000))}</p></body></html>")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the stdlib default of 5 drops connections under a burst
    daemon_threads = True
