"""Schema version 1: runs, counters, programs, evaluations, LLM calls, events.

A frozen copy of the first layout (not imported from ``models``), so that upgrading an
old database always starts from what that database really has.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "evolve_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
    )
    op.create_table(
        "run_counters",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
        *[sa.Column(name, sa.Integer, nullable=False, default=0)
          for name in ("iterations", "evaluations", "valid", "invalid", "llm_calls",
                       "prompt_tokens", "completion_tokens")],
        sa.Column("usd", sa.Double, nullable=False, default=0.0),
    )
    op.create_table(
        "programs",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(32), nullable=False, unique=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("island", sa.Integer, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("score", sa.Double, nullable=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("changed_lines", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_index("ix_programs_run_seq", "programs", ["run_id", "seq"])
    op.create_index("ix_programs_run_island", "programs", ["run_id", "island"])
    op.create_index("ix_programs_run_score", "programs", ["run_id", "valid", "score"])
    op.create_index("ix_programs_parent", "programs", ["parent_id"])
    op.create_table(
        "evaluations",
        sa.Column("program_id", sa.String(32), sa.ForeignKey("programs.id"), primary_key=True),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("score", sa.Double, nullable=True),
        *[sa.Column(name, sa.JSON, nullable=False)
          for name in ("metrics", "instances", "holdout", "artifacts")],
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("eval_s", sa.Double, nullable=False),
    )
    op.create_table(
        "llm_calls",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("program_id", sa.String(32), nullable=True, index=True),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Double, nullable=False),
        sa.Column("latency_s", sa.Double, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "format", "value": "evolve-db"},
                          {"key": "schema_version", "value": "1"}])


def downgrade() -> None:
    for table in ("events", "llm_calls", "evaluations", "programs", "run_counters", "runs",
                  "evolve_meta"):
        op.drop_table(table)
