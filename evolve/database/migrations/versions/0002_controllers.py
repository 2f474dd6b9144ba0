"""Schema version 2: the ``controllers`` table (which controller owns which islands).

Several controllers can share one run on one database, each owning some islands; a row
per controller records its islands and a heartbeat so that a second controller cannot
claim islands a live one is working on.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_META = sa.table("evolve_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    op.create_table(
        "controllers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("islands", sa.JSON, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("heartbeat_at", sa.Double, nullable=False),
        sa.Column("released_at", sa.Double, nullable=True),
    )
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="2"))


def downgrade() -> None:
    op.drop_table("controllers")
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="1"))
