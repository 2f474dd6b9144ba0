"""A local OpenAI-compatible endpoint for benchmarks (stdlib HTTP on 127.0.0.1).

Two answerers, both reading the parent program out of the prompt text so that any
framework can be served the same way:
- ``instant``: answers at once with a SEARCH/REPLACE edit that changes one constant
  (framework-overhead benchmarks);
- ``offline``: :class:`evolve.llm.offline.OfflineMutationEngine` behind HTTP (search
  efficiency: the same "model" for every framework).

The parent is the first fenced code block after the heading "# Current program (...)" (evolve's
prompt) or "# Current Program" (OpenEvolve's, not its "Current Program Information"); other
fenced blocks holding EVOLVE-BLOCK markers are passed to the engine as inspirations.
An optional ``delay_s`` makes every answer take that long (pipeline benchmark).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from evolve.llm.base import GenerationParams, LLMError
from evolve.llm.offline import OfflineMutationEngine
from evolve.prompts import ProgramView, PromptContext

FENCE_RE = re.compile(r"```[a-zA-Z0-9_+-]*\n(.*?)\n```", re.DOTALL)
HEADING_RE = re.compile(r"^#+ *current program(?: *\(.*\))? *$", re.IGNORECASE | re.MULTILINE)  # not "... Information"
CONSTANT_RE = re.compile(r"^(\s*VALUE\s*=\s*)([0-9.]+)", re.MULTILINE)

Answerer = Callable[[list[dict[str, str]]], str]


def prompt_programs(messages: list[dict[str, str]]) -> tuple[str, list[str]]:
    """(parent code, other programs) found in the chat messages."""
    text = "\n".join(str(m.get("content", "")) for m in messages)
    heading = HEADING_RE.search(text)
    if heading is None:
        raise ValueError("no 'Current program' heading in the prompt")
    blocks = [(m.start(), m.group(1)) for m in FENCE_RE.finditer(text)]
    parent = next(code for start, code in blocks if start > heading.end())
    others = [code for _, code in blocks if code != parent and "EVOLVE-BLOCK" in code]
    return parent, others


def instant_answer(messages: list[dict[str, str]]) -> str:
    """Change ``VALUE = x`` in the parent to a new number (a one-line SEARCH/REPLACE)."""
    parent, _ = prompt_programs(messages)
    match = CONSTANT_RE.search(parent)
    if match is None:
        raise ValueError("the parent has no 'VALUE = <number>' line")
    old = match.group(0)
    new = f"{match.group(1)}{random.random():.6f}"
    return f"<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"


class OfflineAnswerer:
    """The offline mutation engine, seeded, fed the parent parsed out of the prompt."""

    def __init__(self, seed: int) -> None:
        self.engine = OfflineMutationEngine(seed)
        self.lock = threading.Lock()  # one draw at a time keeps a seed's stream reproducible

    def __call__(self, messages: list[dict[str, str]]) -> str:
        parent, others = prompt_programs(messages)
        view = ProgramView(id="parent", code=parent, score=None, metrics={}, artifacts={})
        ctx = PromptContext(
            description="", parent=view,
            inspirations=[ProgramView(id=f"i{i}", code=c, score=None, metrics={}, artifacts={})
                          for i, c in enumerate(others)],
            failures=[], hints=[], mode="diff")
        with self.lock:
            completion = asyncio.run(self.engine.complete(messages, GenerationParams(context=ctx)))
        return completion.text


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True
    block_on_close = False
    answer: Answerer
    delay_s: float
    calls: int
    failures: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        started = time.monotonic()
        messages = body.get("messages", [])
        try:
            text = self.server.answer(messages)
        except (ValueError, StopIteration, LLMError) as exc:
            self.server.failures += 1
            text = f"(no edit: {exc})"
        self.server.calls += 1
        wait = self.server.delay_s - (time.monotonic() - started)
        if wait > 0:
            time.sleep(wait)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
        payload = {
            "id": f"bench-{time.monotonic_ns()}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "bench"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(text) // 4,
                      "total_tokens": prompt_chars // 4 + len(text) // 4},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Endpoint:
    """``with Endpoint(instant_answer) as ep: ... ep.base_url``"""

    def __init__(self, answer: Answerer, delay_s: float = 0.0) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.answer = answer
        self.server.delay_s = delay_s
        self.server.calls = 0
        self.server.failures = 0
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class OfflineEndpointProcess:
    """``OfflineAnswerer(seed)`` behind an endpoint in a child process.

    Keeps the engine's ``ast`` work out of the benchmarking process: CPython 3.11 can
    fail with "AST constructor recursion depth mismatch" when two threads of one process
    parse at the same time (here: the endpoint thread and evolve's static check).
    """

    def __init__(self, seed: int) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._proc = context.Process(target=_serve_offline, args=(seed, send), daemon=True)
        self.base_url = ""

    def __enter__(self) -> Self:
        self._proc.start()
        self.base_url = self._receive.recv()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._proc.terminate()
        self._proc.join()


def _serve_offline(seed: int, send: Any) -> None:
    with Endpoint(OfflineAnswerer(seed)) as endpoint:
        send.send(endpoint.base_url)
        threading.Event().wait()
