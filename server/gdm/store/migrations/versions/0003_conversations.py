"""Conversations: a task's place in a chain of follow-ups (``conversation_tasks``, issue 17).

Tasks of earlier databases have no row there: each is a conversation of its own, as before.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_tasks",
        sa.Column("task_id", AutoString(), primary_key=True, nullable=False),
        sa.Column("conversation_id", AutoString(), nullable=False),
        sa.Column("workspace", AutoString(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", AutoString(), nullable=False),
    )
    op.create_index("ix_conversation_tasks_conversation_id", "conversation_tasks", ["conversation_id"])
    op.create_index("ix_conversation_tasks_workspace", "conversation_tasks", ["workspace"])


def downgrade() -> None:
    op.drop_index("ix_conversation_tasks_workspace", "conversation_tasks")
    op.drop_index("ix_conversation_tasks_conversation_id", "conversation_tasks")
    op.drop_table("conversation_tasks")
