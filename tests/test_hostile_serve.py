"""`evolve serve` on a folder of runs an attacker prepared, over real HTTP on 127.0.0.1.

Headers on every response, the Host check against DNS rebinding, the optional token,
damaged and locked runs in the index, run.json pointing elsewhere, and report builds
that stay one at a time however many requests arrive.
"""

from __future__ import annotations

import http.client
import re
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support_hostile import chromium_dom_of_url, plant_payloads, set_database
from support_report import chromium, make_run

from evolve.report import serve
from evolve.report.serve import make_server

REQUIRED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("served")
    plant_payloads(base, "hostile")
    make_run(base, "plain", programs=10)
    broken = make_run(base, "broken", programs=5)
    db = sqlite3.connect(broken / "evolve.db")
    db.execute("DROP TABLE run_counters")
    db.commit()
    db.close()
    elsewhere = make_run(base, "elsewhere", programs=5)
    set_database(elsewhere, "sqlite:////etc/passwd")
    return base


class Served:
    def __init__(self, root: Path, **kwargs: Any) -> None:
        self.server = make_server(root, port=0, **kwargs)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def get(self, path: str, host: str | None = None, headers: dict[str, str] | None = None,
            ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest("GET", path, skip_host=True)
            conn.putheader("Host", host if host is not None else f"127.0.0.1:{self.port}")
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            conn.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(root: Path) -> Iterator[Served]:
    server = Served(root)
    yield server
    server.close()


def test_every_response_carries_the_security_headers(served: Served) -> None:
    for path, status in (("/", 200), ("/run/hostile", 200), ("/run/nope", 404), ("/run/broken", 500)):
        code, headers, _ = served.get(path)
        assert code == status, path
        for name, value in REQUIRED_HEADERS.items():
            assert headers.get(name) == value, (path, name)
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "http" not in policy  # no remote source of any kind


def test_index_survives_damaged_and_foreign_runs(served: Served) -> None:
    code, _, page = served.get("/")
    assert code == 200
    assert 'href="/run/hostile"' in page and 'href="/run/plain"' in page
    warnings = re.findall(r"<li>(.*?)</li>", page)
    assert len(warnings) == 2
    assert any("broken" in w and "no such table: run_counters" in w for w in warnings)
    assert any("elsewhere" in w and "outside the run folder" in w for w in warnings)
    assert "<a href=\"https://evil.example" not in page and "&lt;a href=" in page


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}", ""])
def test_requests_for_other_hosts_are_refused(served: Served, host: str) -> None:
    code, headers, body = served.get("/", host=host.format(port=served.port))
    assert code == 403 and "evolve runs" not in body
    assert headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "localhost", "LOCALHOST:{port}"])
def test_requests_for_this_server_are_answered(served: Served, host: str) -> None:
    code, _, _ = served.get("/", host=host.format(port=served.port))
    assert code == 200


def test_token_is_required_when_set(root: Path) -> None:
    server = Served(root, token="s3cret-token")
    try:
        code, _, body = server.get("/")
        assert code == 401 and "evolve runs" not in body
        assert server.get("/run/plain")[0] == 401
        assert server.get("/?token=wrong")[0] == 401
        code, headers, _ = server.get("/?token=s3cret-token")
        assert code == 200
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert server.get("/run/plain", headers={"Cookie": cookie.split(";")[0]})[0] == 200
        assert server.get("/", headers={"Authorization": "Bearer s3cret-token"})[0] == 200
    finally:
        server.close()


def test_a_locked_run_answers_quickly_and_the_index_still_lists_the_rest(root: Path, served: Served) -> None:
    holder = sqlite3.connect(root / "plain" / "evolve.db", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE runs SET seed = seed")
    try:
        # a 60 s wait would time the client out (30 s)
        code, _, body = served.get("/run/plain")
        assert code == 500 and "database is locked by another process" in body
        code, _, page = served.get("/")
        assert code == 200 and 'href="/run/hostile"' in page and "locked" in page
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert served.get("/run/plain")[0] == 200


def test_report_builds_run_one_at_a_time(root: Path, served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    active, peak, builds = 0, 0, 0
    lock = threading.Lock()
    real = serve.build_report

    def counting(*args: Any, **kwargs: Any) -> str:
        nonlocal active, peak, builds
        with lock:
            active += 1
            builds += 1
            peak = max(peak, active)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(serve, "build_report", counting)
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: served.get("/run/hostile"), range(24)))
    assert {code for code, _, _ in results} == {200}
    assert len({body for _, _, body in results}) == 1
    assert peak == 1 and builds == 1  # one build, shared by every request


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="chromium is not installed")
def test_served_report_renders_under_its_policy(served: Served, tmp_path: Path) -> None:
    binary = chromium()
    assert binary is not None
    dom = chromium_dom_of_url(binary, f"http://127.0.0.1:{served.port}/run/hostile", tmp_path)
    assert '<div class="plot-container' in dom  # plotly ran under the served policy
    assert not re.search(r"<a\b[^>]*evil\.example", dom)
