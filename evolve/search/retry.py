"""The ``retry_failed_edit`` search hook: an answer that does not apply is asked for again
at once, with the fix prompt saying why (``search.retry_failed_edit``)."""

from __future__ import annotations

from evolve.search.hooks import Candidate, HookServices, SearchHook, Verdict


class RetryFailedEdit(SearchHook):
    extra_answers = 1

    def __init__(self, services: HookServices) -> None:
        self.services = services

    async def screen(self, candidate: Candidate) -> Verdict | None:
        if not candidate.edit.ok and candidate.answer == 0:
            return Verdict("retry", candidate.edit.error)
        return None
