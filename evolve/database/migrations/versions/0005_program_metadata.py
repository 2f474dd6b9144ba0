"""Schema version 5: ``programs.metadata``, what produced a program beyond its lineage.

A JSON object per program; an autotuning trial keeps its study and parameter values
there (``{"tune": {...}}``, see evolve.tuning). Programs stored before have ``{}``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_META = sa.table("evolve_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("metadata", sa.JSON, nullable=False, server_default="{}"))
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="5"))


def downgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("metadata")
    op.execute(_META.update().where(_META.c.key == "schema_version").values(value="4"))
