"""where the bot reaches people and conversations in Teams, and which tenants installed it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("service_url", sa.String(length=300), nullable=False),
        sa.Column("teams_id", sa.String(length=300), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("chat_id", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_teams_addresses_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_addresses")),
        sa.UniqueConstraint("workspace_id", "kind", "key", name=op.f("uq_teams_addresses_workspace_id")),
    )
    op.create_index("ix_teams_addresses_teams_id", "teams_addresses", ["workspace_id", "teams_id"])


def downgrade() -> None:
    op.drop_index("ix_teams_addresses_teams_id", table_name="teams_addresses")
    op.drop_table("teams_addresses")
