"""time freed by adopted changes: one row per answer, the latest standing

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_freed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("benefit", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name=op.f("fk_time_freed_change_id_changes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_time_freed_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_freed")),
    )
    op.create_index(op.f("ix_time_freed_change_id"), "time_freed", ["change_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_time_freed_change_id"), table_name="time_freed")
    op.drop_table("time_freed")
