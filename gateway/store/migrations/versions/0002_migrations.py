"""migration journal

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "migration_jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("report", sa.JSON),
    )
    op.create_table(
        "migration_items",
        sa.Column("job_id", sa.String(64), sa.ForeignKey("migration_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("source_model", sa.Text, nullable=False),
        sa.Column("source_version", sa.String(128), nullable=False),
        sa.Column("ordinal", sa.BigInteger, nullable=False),
        sa.Column("target_model", sa.Text, nullable=False),
        sa.Column("target_version", sa.String(128)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("source_digest", sa.String(80)),
        sa.Column("bytes_copied", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_migration_items_state", "migration_items", ["job_id", "state"])


def downgrade() -> None:
    op.drop_table("migration_items")
    op.drop_table("migration_jobs")
