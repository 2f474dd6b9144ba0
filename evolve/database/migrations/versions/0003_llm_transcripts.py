"""Schema version 3: what each LLM answer led to, and the prompt and answer of each call.

``llm_calls`` gains ``outcome`` ("candidate", "edit_failed:no_match", "llm_failed:server",
...) and ``finish_reason`` ("stop", "length", ...); calls stored before have "" in both.
``llm_transcripts`` holds one zlib-compressed JSON document (prompt messages, answer,
reasoning) per call that kept one.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_META = sa.table("evolve_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("llm_calls") as batch:
        batch.add_column(sa.Column("outcome", sa.String(64), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("finish_reason", sa.String(32), nullable=False, server_default="")
        )
    op.create_table(
        "llm_transcripts",
        sa.Column("call_seq", sa.Integer, sa.ForeignKey("llm_calls.seq"), primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("chars", sa.Integer, nullable=False),
    )
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="3"))


def downgrade() -> None:
    op.drop_table("llm_transcripts")
    with op.batch_alter_table("llm_calls") as batch:
        batch.drop_column("finish_reason")
        batch.drop_column("outcome")
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="2"))
