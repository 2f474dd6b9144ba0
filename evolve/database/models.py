"""Table definitions (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Layout:
- ``evolve_meta``: key/value rows; ``format = "evolve-db"`` marks a file as ours and
  ``schema_version`` says which layout it has.
- ``runs``, ``run_counters`` (one row per run, incremented in the same transaction
  as the rows it counts).
- ``programs``: code and lineage; ``valid``/``score`` are repeated from the evaluation
  so "best program" and leaderboards are one indexed query.
- ``evaluations``: one row per program with the evaluator's full output.
- ``llm_calls``, ``events``.
- ``controllers``: which controller owns which islands when several share a run (v2).
- ``file_blobs`` and ``program_files``: folder programs' files, each distinct text once
  (content-addressed); ``programs.file_count`` > 0 marks a folder program (v4).
- ``programs.metadata``: a JSON object, e.g. an autotuning trial's parameters (v5).
- ``llm_transcripts``: the prompt and answer of an LLM call, zlib-compressed JSON, one
  row per call that kept them (v3); ``llm_calls.outcome`` says what the answer led to.

``seq`` columns are autoincrement integers that give insertion order for paging.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

FORMAT_MARKER = "evolve-db"
SCHEMA_VERSION = 5  # keep in step with the newest migration in database/migrations/versions

metadata = MetaData()

meta_table = Table(
    "evolve_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

runs_table = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("problem", Text, nullable=False),
    Column("config", JSON, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
)

run_counters_table = Table(
    "run_counters",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("iterations", Integer, nullable=False, default=0),
    Column("evaluations", Integer, nullable=False, default=0),
    Column("valid", Integer, nullable=False, default=0),
    Column("invalid", Integer, nullable=False, default=0),
    Column("llm_calls", Integer, nullable=False, default=0),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("usd", Double, nullable=False, default=0.0),
)

programs_table = Table(
    "programs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("parent_id", String(32), nullable=True),
    Column("island", Integer, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("iteration", Integer, nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("score", Double, nullable=True),
    Column("code", Text, nullable=False),
    Column("features", JSON, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("model", Text, nullable=False),
    Column("changed_lines", Integer, nullable=False),
    Column("created_at", Double, nullable=False),
    # Folder programs: how many files (rows in program_files); 0 = single file in ``code``.
    Column("file_count", Integer, nullable=False, server_default="0"),
    # What produced the program beyond its lineage, e.g. a tuning trial's parameters (v5).
    Column("metadata", JSON, nullable=False, server_default="{}"),
    Index("ix_programs_run_seq", "run_id", "seq"),
    Index("ix_programs_run_island", "run_id", "island"),
    Index("ix_programs_run_score", "run_id", "valid", "score"),
    Index("ix_programs_parent", "parent_id"),
)

evaluations_table = Table(
    "evaluations",
    metadata,
    Column("program_id", String(32), ForeignKey("programs.id"), primary_key=True),
    Column("valid", Boolean, nullable=False),
    Column("score", Double, nullable=True),
    Column("metrics", JSON, nullable=False),
    Column("instances", JSON, nullable=False),
    Column("holdout", JSON, nullable=False),
    Column("artifacts", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("eval_s", Double, nullable=False),
)

llm_calls_table = Table(
    "llm_calls",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("program_id", String(32), nullable=True, index=True),
    Column("iteration", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost_usd", Double, nullable=False),
    Column("latency_s", Double, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("outcome", String(64), nullable=False, server_default=""),
    Column("finish_reason", String(32), nullable=False, server_default=""),
)

llm_transcripts_table = Table(
    "llm_transcripts",
    metadata,
    Column("call_seq", Integer, ForeignKey("llm_calls.seq"), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("data", LargeBinary, nullable=False),
    Column("chars", Integer, nullable=False),  # characters kept, before compression
)

events_table = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", Double, nullable=False),
)

controllers_table = Table(
    "controllers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("islands", JSON, nullable=False),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Double, nullable=False),
    Column("heartbeat_at", Double, nullable=False),
    Column("released_at", Double, nullable=True),
)

# Folder programs' files, content-addressed: a file's text is stored once however many
# programs (of any run) hold it; program_files says which program has which file where.
file_blobs_table = Table(
    "file_blobs",
    metadata,
    Column("hash", String(64), primary_key=True),  # sha256 of the UTF-8 text, hex
    Column("size", Integer, nullable=False),
    Column("content", Text, nullable=False),
)

program_files_table = Table(
    "program_files",
    metadata,
    Column("program_id", String(32), ForeignKey("programs.id"), primary_key=True),
    Column("path", String(512), primary_key=True),
    Column("hash", String(64), ForeignKey("file_blobs.hash"), nullable=False, index=True),
)
