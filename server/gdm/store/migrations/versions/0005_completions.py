"""Inline completions (issue 29): one row per completion call (``completions``: what was asked and
answered, and whether the user took it), and a ``kind`` on cost rows so that completions are their own
line on the cost meter (NULL: a task's call, as every row of an earlier database).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("costs", sa.Column("kind", AutoString(), nullable=True))
    op.create_index("ix_costs_kind", "costs", ["kind"])
    op.create_table(
        "completions",
        sa.Column("id", AutoString(), primary_key=True, nullable=False),
        sa.Column("session_id", AutoString(), nullable=False),
        sa.Column("user", AutoString(), nullable=True),
        sa.Column("day", AutoString(), nullable=False),
        sa.Column("model", AutoString(), nullable=False),
        sa.Column("mode", AutoString(), nullable=False),
        sa.Column("path", AutoString(), nullable=True),
        sa.Column("request_json", AutoString(), nullable=False),
        sa.Column("response_json", AutoString(), nullable=False),
        sa.Column("text", AutoString(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("accepted_chars", sa.Integer(), nullable=False),
        sa.Column("accepted_lines", sa.Integer(), nullable=False),
        sa.Column("created_at", AutoString(), nullable=False),
        sa.Column("updated_at", AutoString(), nullable=False),
    )
    for column in ("session_id", "user", "day"):
        op.create_index(f"ix_completions_{column}", "completions", [column])


def downgrade() -> None:
    for column in ("day", "user", "session_id"):
        op.drop_index(f"ix_completions_{column}", "completions")
    op.drop_table("completions")
    op.drop_index("ix_costs_kind", "costs")
    op.drop_column("costs", "kind")
