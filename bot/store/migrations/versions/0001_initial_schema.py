"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 22:36:34.336728
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_workspaces_platform")),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("obstacle", sa.Text(), nullable=True),
        sa.Column("within_gift", sa.Boolean(), nullable=True),
        sa.Column("suggester_id", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_changes_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_changes_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "thanks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("giver_day", sa.Date(), nullable=False),
        sa.Column("daily_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_thanks_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks")),
        sa.UniqueConstraint("workspace_id", "giver_id", "giver_day", "daily_seq", name=op.f("uq_thanks_workspace_id")),
    )
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thanks_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_thanks_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "backings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name=op.f("fk_backings_change_id_changes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_backings_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backings")),
        sa.UniqueConstraint("change_id", "user_id", name=op.f("uq_backings_change_id")),
    )
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old", sa.String(length=64), nullable=True),
        sa.Column("new", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name=op.f("fk_change_events_change_id_changes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_change_events_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_events_change_id"), ["change_id"], unique=False)

    op.create_table(
        "thanks_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("thanks_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["thanks_id"],
            ["thanks.id"],
            name=op.f("fk_thanks_recipients_thanks_id_thanks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_thanks_recipients_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks_recipients")),
        sa.UniqueConstraint("thanks_id", "recipient_id", name=op.f("uq_thanks_recipients_thanks_id")),
    )
    with op.batch_alter_table("thanks_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thanks_recipients_recipient_id"), ["recipient_id"], unique=False)

    op.create_table(
        "thanks_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("thanks_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["thanks_id"], ["thanks.id"], name=op.f("fk_thanks_values_thanks_id_thanks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_thanks_values_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks_values")),
        sa.UniqueConstraint("thanks_id", "value", name=op.f("uq_thanks_values_thanks_id")),
    )


def downgrade() -> None:
    op.drop_table("thanks_values")
    with op.batch_alter_table("thanks_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thanks_recipients_recipient_id"))

    op.drop_table("thanks_recipients")
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_events_change_id"))

    op.drop_table("change_events")
    op.drop_table("backings")
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thanks_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_thanks_created_at"))

    op.drop_table("thanks")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_workspace_id"))

    op.drop_table("changes")
    op.drop_table("workspaces")
