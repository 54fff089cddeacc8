"""ideas raised with leaders, and their answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leader_raises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("needs", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taker_id", sa.String(length=64), nullable=True),
        sa.Column("said", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name=op.f("fk_leader_raises_change_id_changes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_leader_raises_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leader_raises")),
    )
    op.create_index(op.f("ix_leader_raises_change_id"), "leader_raises", ["change_id"])
    op.create_index("ix_leader_raises_workspace_id_answer", "leader_raises", ["workspace_id", "answer"])
    op.create_index(
        "uq_leader_raises_waiting",
        "leader_raises",
        ["change_id"],
        unique=True,
        postgresql_where=sa.text("answer IS NULL"),
        sqlite_where=sa.text("answer IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_leader_raises_waiting", table_name="leader_raises")
    op.drop_index("ix_leader_raises_workspace_id_answer", table_name="leader_raises")
    op.drop_index(op.f("ix_leader_raises_change_id"), table_name="leader_raises")
    op.drop_table("leader_raises")
