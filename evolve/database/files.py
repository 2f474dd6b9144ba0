"""Folder programs' files in the store, content-addressed.

A file's text is stored once in ``file_blobs`` under the sha256 of its UTF-8 bytes;
``program_files`` links a program to its files by path. Unchanged files of a child (and
of every program of every run that holds the same text) share one blob row.
Single-file programs have no rows here (``programs.file_count`` is 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from evolve.codebase import combined_text
from evolve.database.lenient import text, whole
from evolve.database.models import file_blobs_table, program_files_table
from evolve.database.records import ProgramRecord

_links, _blobs = program_files_table.c, file_blobs_table.c
_LINKS = select(_links.program_id, _links.path, _links.hash, _blobs.content).select_from(
    program_files_table.join(file_blobs_table, _links.hash == _blobs.hash)
)
_CHUNK = 400  # ids per IN (...) query


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


def _insert_blobs(conn: Connection) -> Insert | None:
    """An insert that skips blobs already stored (None: check first, then insert)."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(file_blobs_table).on_conflict_do_nothing(index_elements=["hash"])
    if name == "postgresql":
        return postgresql.insert(file_blobs_table).on_conflict_do_nothing(index_elements=["hash"])
    return None


def write_files(conn: Connection, programs: Iterable[ProgramRecord]) -> None:
    """Store the files of the folder programs among ``programs`` (inside the caller's
    transaction, after their program rows)."""
    blobs: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    for program in programs:
        for path, content in sorted(program.files.items()):
            digest = content_hash(content)
            blobs[digest] = {"hash": digest, "size": len(content), "content": content}
            links.append({"program_id": program.id, "path": path, "hash": digest})
    if not links:
        return
    statement = _insert_blobs(conn)
    if statement is None:  # another backend: insert only what is not there yet
        known = set(conn.execute(
            select(file_blobs_table.c.hash).where(file_blobs_table.c.hash.in_(list(blobs)))
        ).scalars())
        rows = [row for digest, row in blobs.items() if digest not in known]
        if rows:
            conn.execute(insert(file_blobs_table), rows)
    else:
        conn.execute(statement, list(blobs.values()))
    conn.execute(insert(program_files_table), links)


def attach_files(conn: Connection, records: list[ProgramRecord]) -> None:
    """Fill ``files`` (and ``code``, their combined text) of folder programs read without."""
    by_id = {record.id: record for record in records}
    ids = list(by_id)
    shared: dict[str, str] = {}  # one string per distinct text, however many programs hold it
    for start in range(0, len(ids), _CHUNK):
        query = _LINKS.where(program_files_table.c.program_id.in_(ids[start:start + _CHUNK]))
        for row in conn.execute(query):
            record = by_id.get(text(row.program_id))
            if record is not None:
                content = shared.setdefault(text(row.hash), text(row.content))
                record.files[text(row.path)] = content
    for record in records:
        if record.files:
            record.files = dict(sorted(record.files.items()))
            record.code = combined_text(record.files)


def folder_rows(rows: Sequence[Any]) -> list[int]:
    """Indexes of the rows that are folder programs (``file_count`` > 0)."""
    return [i for i, row in enumerate(rows) if whole(getattr(row, "file_count", 0)) > 0]


def count_blobs(conn: Connection) -> int:
    """Distinct file texts stored (in every run of the database)."""
    return int(conn.execute(select(func.count()).select_from(file_blobs_table)).scalar_one())
