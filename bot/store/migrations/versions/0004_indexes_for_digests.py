"""indexes for the digests: a period's thanks, recipients, backings, change history and nudge answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 02:00:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The thanks index gains the id, so a digest reads a period's thanks from the index alone (PostgreSQL).
    op.drop_index("ix_thanks_workspace_id_created_at", table_name="thanks")
    op.create_index(
        "ix_thanks_workspace_id_created_at", "thanks", ["workspace_id", "created_at"], postgresql_include=["id"]
    )
    op.create_index(
        "ix_thanks_recipients_workspace_id_thanks_id",
        "thanks_recipients",
        ["workspace_id", "thanks_id"],
        postgresql_include=["recipient_id"],
    )
    op.create_index("ix_backings_workspace_id_created_at", "backings", ["workspace_id", "created_at"])
    op.create_index("ix_change_events_workspace_id_at", "change_events", ["workspace_id", "at"])
    op.create_index("ix_nudge_responses_workspace_id_at", "nudge_responses", ["workspace_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_nudge_responses_workspace_id_at", table_name="nudge_responses")
    op.drop_index("ix_change_events_workspace_id_at", table_name="change_events")
    op.drop_index("ix_backings_workspace_id_created_at", table_name="backings")
    op.drop_index("ix_thanks_recipients_workspace_id_thanks_id", table_name="thanks_recipients")
    op.drop_index("ix_thanks_workspace_id_created_at", table_name="thanks")
    op.create_index("ix_thanks_workspace_id_created_at", "thanks", ["workspace_id", "created_at"])
