"""A task's git commit: ``tasks.commit_id``, the commit `gdm.task.commit` made of its accepted
changes (issue 32). Tasks of earlier databases keep NULL there: not committed by gdm.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("commit_id", AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:  # SQLite drops a column through a table copy
        batch.drop_column("commit_id")
