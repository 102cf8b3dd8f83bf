"""Baseline: the tables of the gdm before migrations (store/tables.py as it was then).

A database made by that gdm already has them: it is stamped with this revision, never created.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", AutoString(), primary_key=True, nullable=False),
        sa.Column("started_at", AutoString(), nullable=False),
        sa.Column("workspace", AutoString(), nullable=False),
        sa.Column("model", AutoString(), nullable=True),
        sa.Column("status", AutoString(), nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", AutoString(), primary_key=True, nullable=False),
        sa.Column("session_id", AutoString(), nullable=False),
        sa.Column("prompt", AutoString(), nullable=False),
        sa.Column("uri", AutoString(), nullable=True),
        sa.Column("range_json", AutoString(), nullable=True),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("error", AutoString(), nullable=True),
        sa.Column("created_at", AutoString(), nullable=False),
        sa.Column("finished_at", AutoString(), nullable=True),
    )
    _index("tasks", "session_id")
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("task_id", AutoString(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("model", AutoString(), nullable=False),
        sa.Column("request_json", AutoString(), nullable=False),
        sa.Column("response_json", AutoString(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("created_at", AutoString(), nullable=False),
    )
    _index("turns", "task_id")
    op.create_table(
        "tool_calls",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("task_id", AutoString(), nullable=False),
        sa.Column("turn_index", sa.Integer(), nullable=False),
        sa.Column("call_id", AutoString(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("arguments", AutoString(), nullable=False),
        sa.Column("result", AutoString(), nullable=False),
        sa.Column("is_error", sa.Boolean(), nullable=False),
        sa.Column("created_at", AutoString(), nullable=False),
    )
    _index("tool_calls", "task_id")
    op.create_table(
        "patches",
        sa.Column("id", AutoString(), primary_key=True, nullable=False),
        sa.Column("task_id", AutoString(), nullable=False),
        sa.Column("session_id", AutoString(), nullable=False),
        sa.Column("path", AutoString(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("risk_tier", AutoString(), nullable=True),
        sa.Column("data_json", AutoString(), nullable=False),
        sa.Column("created_at", AutoString(), nullable=False),
        sa.Column("updated_at", AutoString(), nullable=False),
    )
    _index("patches", "task_id", "session_id")
    op.create_table(
        "costs",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("session_id", AutoString(), nullable=False),
        sa.Column("task_id", AutoString(), nullable=True),
        sa.Column("model", AutoString(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("usd", sa.Float(), nullable=True),
        sa.Column("day", AutoString(), nullable=False),
        sa.Column("created_at", AutoString(), nullable=False),
    )
    _index("costs", "session_id", "task_id", "day")
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("session_id", AutoString(), nullable=False),
        sa.Column("task_id", AutoString(), nullable=True),
        sa.Column("kind", AutoString(), nullable=False),
        sa.Column("detail_json", AutoString(), nullable=False),
        sa.Column("created_at", AutoString(), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit", "costs", "patches", "tool_calls", "turns", "tasks", "sessions"):
        op.drop_table(table)
