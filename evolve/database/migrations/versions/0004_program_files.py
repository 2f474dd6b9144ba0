"""Schema version 4: folder programs' files, stored once per distinct text.

``file_blobs`` holds each distinct file text once (keyed by its sha256), ``program_files``
says which program holds which file at which path, and ``programs.file_count`` (0 for
every program stored before: single files in ``programs.code``) marks folder programs.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_META = sa.table("evolve_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("file_count", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "file_blobs",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "program_files",
        sa.Column("program_id", sa.String(32), sa.ForeignKey("programs.id"), primary_key=True),
        sa.Column("path", sa.String(512), primary_key=True),
        sa.Column("hash", sa.String(64), sa.ForeignKey("file_blobs.hash"), nullable=False,
                  index=True),
    )
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="4"))


def downgrade() -> None:
    op.drop_table("program_files")
    op.drop_table("file_blobs")
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("file_count")
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="3"))
