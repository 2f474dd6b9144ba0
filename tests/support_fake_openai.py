"""A fake OpenAI-compatible chat-completions server for tests (stdlib only).

Serves ``POST /v1/chat/completions`` and ``POST /chat/completions`` on 127.0.0.1 at a
random port. Behaviour is scripted: a FIFO queue of :class:`Reply` objects used first,
then per-model responders, then a default answer. Every request is recorded.

It also speaks enough of Anthropic's Messages API (``POST .../v1/messages``: a system
field, content blocks, ``stop_reason``, ``input_tokens``/``output_tokens``, thinking
blocks, error objects) for LiteLLM's ``anthropic/...`` provider to run its real code
path against it with ``api_base`` pointing here. Replies can carry a separate reasoning
text (``reasoning_content``; a thinking block for Anthropic) and error pages in HTML.

    with FakeOpenAIServer() as server:
        server.enqueue(Reply.status(429, retry_after="3"), Reply.ok("hello"))
        ...  # point a client at server.base_url
        assert server.models_used() == ["m", "m"]
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    kind: str = "ok"  # "ok" | "status" | "html" | "slow" | "reset" | "empty" | "truncated"
    text: str = "ok"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    usage: bool = True
    reasoning: str = ""  # returned as reasoning_content (a thinking block for Anthropic)

    @classmethod
    def ok(cls, text: str, usage: bool = True, reasoning: str = "") -> Reply:
        return cls("ok", text=text, usage=usage, reasoning=reasoning)

    @classmethod
    def html(cls, status: int, page: str) -> Reply:
        """An error page as a proxy in front of a server sends it (text/html)."""
        return cls("html", text=page, status=status)

    @classmethod
    def error(
        cls, status: int, message: str = "fake error", retry_after: str | None = None
    ) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls("status", text=message, status=status, headers=headers)

    @classmethod
    def slow(cls, delay_s: float, text: str = "late") -> Reply:
        return cls("slow", text=text, delay_s=delay_s)

    @classmethod
    def reset(cls) -> Reply:
        return cls("reset")

    @classmethod
    def empty(cls) -> Reply:
        return cls("empty", text="")

    @classmethod
    def truncated(cls, text: str) -> Reply:
        return cls("truncated", text=text)


Responder = Callable[[dict[str, Any]], Reply]


def completion_body(
    model: str, text: str | None, finish_reason: str, usage: bool, prompt_chars: int,
    reasoning: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
    }
    if reasoning:
        body["choices"][0]["message"]["reasoning_content"] = reasoning
    if usage:
        completion_tokens = max(1, len(text or "") // 4)
        prompt_tokens = max(1, prompt_chars // 4)
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return body


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    block_on_close = False
    fake: FakeOpenAIServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {}
        if self.path.rstrip("/") in ("/v1/embeddings", "/embeddings"):
            self._embeddings(body)
            return
        if self.path.rstrip("/").endswith("/messages"):
            self._anthropic(body)
            return
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_json(
                404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}
            )
            return
        fake = self.server.fake
        fake._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        reply = fake._next_reply(body)
        model = str(body.get("model", ""))
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        try:
            if reply.kind == "reset":
                # SO_LINGER 0 turns close() into a TCP reset: the client sees a dropped connection.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
                return
            if reply.kind == "status":
                error = {"error": {"message": reply.text, "type": "fake", "code": reply.status}}
                self._send_json(reply.status, error, reply.headers)
                return
            if reply.kind == "html":
                self._send_html(reply.status, reply.text)
                return
            if reply.kind == "slow":
                time.sleep(reply.delay_s)
            text: str | None = reply.text
            finish = "stop"
            if reply.kind == "empty":
                text = None
            elif reply.kind == "truncated":
                finish = "length"
            body = completion_body(model, text, finish, reply.usage, prompt_chars, reply.reasoning)
            self._send_json(200, body, reply.headers)
        except (BrokenPipeError, ConnectionResetError, OSError):
            return  # the client gave up (timeout) before we answered


    def _send_html(self, status: int, page: str) -> None:
        data = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _anthropic(self, body: dict[str, Any]) -> None:
        """Anthropic's Messages API: the reply script answers it like a chat request."""
        fake = self.server.fake
        fake._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        reply = fake._next_reply(body)
        if reply.kind in ("status", "html"):
            if reply.kind == "html":
                self._send_html(reply.status, reply.text)
                return
            kind = "invalid_request_error" if reply.status == 400 else "api_error"
            error = {"type": "error", "error": {"type": kind, "message": reply.text}}
            self._send_json(reply.status, error, reply.headers)
            return
        content: list[dict[str, Any]] = []
        if reply.reasoning:
            content.append({"type": "thinking", "thinking": reply.reasoning, "signature": "fake"})
        content.append({"type": "text", "text": reply.text})
        system = body.get("system", "")
        system_chars = len(system) if isinstance(system, str) else len(json.dumps(system))
        prompt_chars = system_chars + len(json.dumps(body.get("messages", [])))
        self._send_json(200, {
            "id": f"msg_fake_{time.monotonic_ns()}", "type": "message", "role": "assistant",
            "model": str(body.get("model", "")), "content": content,
            "stop_reason": "max_tokens" if reply.kind == "truncated" else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": max(1, prompt_chars // 4),
                      "output_tokens": max(1, len(reply.text) // 4)},
        }, reply.headers)


def bag_of_words_embedding(text: str, dims: int = 64) -> list[float]:
    """A deterministic embedding: word counts hashed into ``dims`` buckets (similar text, similar vector)."""
    vector = [0.0] * dims
    for word in text.split():
        vector[sum(word.encode()) % dims] += 1.0
    return vector


def _embeddings_route(handler: _Handler, body: dict[str, Any]) -> None:
    fake = handler.server.fake
    fake._record(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
    inputs = body.get("input", [])
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    data = [{"object": "embedding", "index": i, "embedding": fake.embedder(str(text))}
            for i, text in enumerate(inputs)]
    tokens = sum(len(str(t)) // 4 for t in inputs)
    handler._send_json(200, {"object": "list", "data": data, "model": body.get("model", ""),
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


_Handler._embeddings = _embeddings_route  # type: ignore[attr-defined]


class FakeOpenAIServer:
    """Context manager; ``base_url`` ends in ``/v1`` like OpenAI's."""

    def __init__(self, default_text: str = "fake answer") -> None:
        self.default_text = default_text
        self.requests: list[dict[str, Any]] = []
        self.responders: dict[str, Responder] = {}
        self.embedder: Callable[[str], list[float]] = bag_of_words_embedding  # POST /v1/embeddings
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- scripting
    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def set_responder(self, model: str, responder: Responder) -> None:
        self.responders[model] = responder

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
        responder = self.responders.get(str(body.get("model", "")))
        if responder is not None:
            return responder(body)
        return Reply.ok(self.default_text)

    def _record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body})

    # -- inspection
    def models_used(self) -> list[str]:
        with self._lock:
            return [str(r["body"].get("model", "")) for r in self.requests]

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    # -- lifecycle
    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAIServer:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
