"""The team store: who (``user``) and which process (``host``, ``pid``) ran a session, and who a
cost is charged to (the day budget is per user across every window on the database).

Rows of earlier databases keep NULL there: they predate users and count as anyone's.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("user", AutoString(), nullable=True))
    op.add_column("sessions", sa.Column("host", AutoString(), nullable=True))
    op.add_column("sessions", sa.Column("pid", sa.Integer(), nullable=True))
    op.create_index("ix_sessions_user", "sessions", ["user"])
    op.add_column("costs", sa.Column("user", AutoString(), nullable=True))
    op.create_index("ix_costs_user", "costs", ["user"])
    op.create_index("ix_tasks_status", "tasks", ["status"])


def downgrade() -> None:
    op.drop_index("ix_tasks_status", "tasks")
    op.drop_index("ix_costs_user", "costs")
    op.drop_column("costs", "user")
    op.drop_index("ix_sessions_user", "sessions")
    for column in ("pid", "host", "user"):
        op.drop_column("sessions", column)
