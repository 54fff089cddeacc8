"""indexes for the nudge report: a person's thanks and ideas in a period

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 21:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Whether a nudge was answered by a thank-you or an idea from the same person within 48 h, and the counts per
    # person, are read from these without the tables' rows in the period.
    op.create_index("ix_thanks_workspace_id_giver_id_created_at", "thanks", ["workspace_id", "giver_id", "created_at"])
    op.create_index(
        "ix_changes_workspace_id_suggester_id_created_at", "changes", ["workspace_id", "suggester_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_changes_workspace_id_suggester_id_created_at", table_name="changes")
    op.drop_index("ix_thanks_workspace_id_giver_id_created_at", table_name="thanks")
