"""LLM faults injected through the fake OpenAI server into the real loop.

Transport faults (timeouts, 429, 5xx, resets, empty answers, a server that trickles
bytes forever) are retried by the one retry layer, at most ``1 + llm.retries``
requests per call; answer faults (malformed, truncated, outside the EVOLVE-BLOCK,
endless) are not retried as transport faults but shown to the model in the next prompt
of the island. Either way everything is recorded and the run spends its whole budget.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support_fake_openai import FakeOpenAIServer, Reply, _Handler, _Server, completion_body

from evolve.controller import CUT_OFF_NOTE, Controller
from evolve.errors import UserError
from evolve.problem import load_problem
from evolve.runs import OpenRun, create_run

REPO = Path(__file__).resolve().parent.parent
CODE_BLOCK = re.compile(r"```(?:python)?\n(.*?)```", re.DOTALL)
RETRIES = 2

Step = Reply | Callable[[dict[str, Any]], Reply]


def parent_code(body: dict[str, Any]) -> str:
    section = body["messages"][-1]["content"].split("# Current program", 1)[1]
    match = CODE_BLOCK.search(section)
    assert match, "the prompt shows the parent program in a code block"
    return match.group(1)


def good_edit(body: dict[str, Any]) -> Reply:
    """A SEARCH/REPLACE that applies: nudges the inner ring radius of the parent."""
    line = re.search(r"^ *inner_radius = .*$", parent_code(body), re.MULTILINE)
    assert line
    value = 0.25 + (int(body.get("seed", 0)) % 97) / 1000
    return Reply.ok(f"<<<<<<< SEARCH\n{line.group(0)}\n=======\n    inner_radius = {value:.4f}\n"
                    ">>>>>>> REPLACE\n")


class ScriptedServer(FakeOpenAIServer):
    """The fake server, answering request k with step k of a script (then good edits),
    recording when each request arrived, and able to trickle an answer byte by byte."""

    def __init__(self, script: list[Step]) -> None:
        super().__init__()
        self.script = list(script)
        self.arrivals: list[float] = []
        self.set_responder("m", self._respond)

    def _respond(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.arrivals.append(time.monotonic())
            step = self.script.pop(0) if self.script else good_edit
        return step if isinstance(step, Reply) else step(body)

    def start(self) -> ScriptedServer:
        self._server = _Server(("127.0.0.1", 0), _TrickleHandler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def prompts(self) -> list[str]:
        return [r["body"]["messages"][-1]["content"] for r in self.requests]

    def requests_per_call(self) -> Counter[int]:
        # Retries resend the same request; each iteration's call has its own seed.
        return Counter(int(r["body"]["seed"]) for r in self.requests)


def trickle(seconds: float) -> Reply:
    """A 200 answer whose body arrives one byte every 0.1 s for ``seconds``."""
    return Reply("trickle", text="late", delay_s=seconds)


class _TrickleHandler(_Handler):
    def do_POST(self) -> None:
        fake = self.server.fake
        if not isinstance(fake, ScriptedServer) or not fake.script or fake.script[0] != TRICKLE:
            super().do_POST()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        fake._record(self.path, dict(self.headers), body)
        reply = fake._respond(body)
        data = json.dumps(completion_body("m", "late", "stop", True, 10)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for index in range(int(reply.delay_s / 0.1)):
                self.wfile.write(data[index:index + 1])
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return  # the client gave up, as it should


TRICKLE = trickle(60.0)


def run_loop(tmp_path: Path, server: FakeOpenAIServer, iterations: int,
             *extra: str) -> tuple[OpenRun, Any]:
    overrides = [
        f"llm.models=[{{name: m, base_url: '{server.base_url}'}}]",
        f"llm.retries={RETRIES}", "llm.backoff_s=0.01", "llm.timeout_s=1.0", "llm.concurrency=1",
        f"budget.iterations={iterations}", "evaluation.workers=1", "database.num_islands=1", *extra,
    ]
    problem = load_problem(REPO / "problems" / "circle_packing", overrides=overrides)
    run = create_run(problem, tmp_path / "runs", "faults")
    summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    return run, summary


def test_transport_faults_are_retried_a_bounded_number_of_times(tmp_path: Path) -> None:
    script: list[Step] = [
        good_edit,                                               # iteration 1
        Reply.error(500), good_edit,                             # 2: 5xx, then fine
        Reply.error(429, "slow down", retry_after="1"), good_edit,  # 3: Retry-After honoured
        Reply.reset(), good_edit,                                # 4: connection reset
        Reply.slow(3.0), good_edit,                              # 5: past llm.timeout_s
        Reply.empty(), good_edit,                                # 6: no content
        TRICKLE, good_edit,                                      # 7: bytes trickle forever
        Reply.error(503), Reply.error(502), Reply.error(500),    # 8: gives up after 1 + retries
    ]
    with ScriptedServer(script) as server:
        run, summary = run_loop(tmp_path, server, iterations=10)
        per_call = server.requests_per_call()
        arrivals = server.arrivals
    # Never more than 1 + retries requests for one call, whatever failed.
    assert max(per_call.values()) == 1 + RETRIES
    assert sorted(per_call.values()) == [1, 1, 1, 2, 2, 2, 2, 2, 2, 3]
    # The 429's Retry-After (1 s) was waited for, not the 0.01 s backoff.
    assert arrivals[4] - arrivals[3] >= 1.0
    calls = run.store.llm_calls(run.run_id)
    assert len(calls) == 10
    failed = [c for c in calls if not c.ok]
    assert len(failed) == 1 and failed[0].model == "m"
    assert failed[0].error.startswith("server: model m: HTTP 500") and "after 3 attempts" in failed[0].error
    events = run.store.events(run.run_id, "llm_failed")
    assert [e.data["kind"] for e in events] == ["server"]
    counters = run.store.counters(run.run_id)
    assert counters.iterations == 10 and counters.llm_calls == 10
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    assert len(children) == 9 and all(p.valid for p in children)
    assert run.store.get_run(run.run_id).status == "finished"
    assert "budget reached" in summary.stop_reason


def test_unusable_answers_reach_the_next_prompt(tmp_path: Path) -> None:
    outside = Reply.ok("<<<<<<< SEARCH\nimport numpy as np\n=======\nimport numpy\n>>>>>>> REPLACE\n")
    cut = Reply.truncated("<<<<<<< SEARCH\n    inner_radius = 0.3\n=======\n    inner_radius = 0.2")
    endless = Reply.truncated("Let me think. " * 200_000)  # ~2.8 MB, stopped at max_tokens
    malformed = Reply.ok("<<<<<<< SEARCH\n    n = 26\n>>>>>>> REPLACE\n")
    script: list[Step] = [good_edit, Reply.ok("I like this program."), good_edit, outside,
                          good_edit, cut, good_edit, endless, good_edit, malformed]
    expected = {  # request index of the bad answer -> what the model is told
        1: "no SEARCH/REPLACE block found in the response",
        3: "SEARCH block 1 touches lines outside the EVOLVE-BLOCK (line 3)",
        5: "SEARCH block 1 is not closed with >>>>>>> REPLACE" + CUT_OFF_NOTE,
        7: "no SEARCH/REPLACE block found in the response" + CUT_OFF_NOTE,
        9: "SEARCH block 1 has no ======= divider",
    }
    with ScriptedServer(script) as server:
        run, _ = run_loop(tmp_path, server, 14, "llm.continue_cut_answers=false")
        prompts = server.prompts()
        per_call = server.requests_per_call()
    # Answers that arrive are not resent: a bad edit costs exactly one request.
    assert set(per_call.values()) == {1} and len(prompts) == 14
    for index, error in expected.items():
        later = [p for p in prompts[index + 1:] if "# Your previous answer could not be used" in p]
        assert any(error in p for p in later), f"request {index}: {error!r} not in a later prompt"
    # The fix prompt shows the one-line reason, never the answer itself.
    assert max(len(p) for p in prompts) < 20_000
    errors = [e.data["error"] for e in run.store.events(run.run_id, "edit_failed")]
    assert errors == list(expected.values())
    calls = run.store.llm_calls(run.run_id)
    assert len(calls) == 14 and all(c.ok for c in calls)
    assert [c.program_id is None for c in calls].count(True) == 5
    counters = run.store.counters(run.run_id)
    assert counters.iterations == 14 and counters.evaluations == 1 + 9
    assert run.store.get_run(run.run_id).status == "finished"
    # A later good edit clears the error: the last prompts are ordinary ones again.
    assert "# Your previous answer could not be used" not in prompts[-1]


def test_refused_requests_stop_the_run_with_one_clear_error(tmp_path: Path) -> None:
    """Auth/bad-request errors are not retried (another attempt cannot fix them)."""
    with ScriptedServer([good_edit, Reply.error(401, "invalid api key")]) as server:
        with pytest.raises(UserError) as info:
            run_loop(tmp_path, server, iterations=5)
        # One request per call (an iteration already in flight may have sent its own).
        assert set(server.requests_per_call().values()) == {1}
    assert info.value.where == "llm.models" and "auth" in info.value.message
