"""thanks: how it was given, relayed source, event and message; people: App Home opened

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("thanks") as batch:
        batch.add_column(sa.Column("via", sa.String(length=16), nullable=False, server_default="command"))
        batch.add_column(sa.Column("source", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("event_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("message_ref", sa.String(length=200), nullable=True))
        batch.create_unique_constraint(op.f("uq_thanks_event_id"), ["event_id", "workspace_id"])
        batch.create_index("ix_thanks_workspace_id_created_at", ["workspace_id", "created_at"])
    with op.batch_alter_table("thanks") as batch:
        batch.alter_column("via", server_default=None)
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("home_opened_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("home_opened_at")
    with op.batch_alter_table("thanks") as batch:
        batch.drop_index("ix_thanks_workspace_id_created_at")
        batch.drop_constraint(op.f("uq_thanks_event_id"), type_="unique")
        for column in ("message_ref", "event_id", "source", "via"):
            batch.drop_column(column)
