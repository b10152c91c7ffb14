"""catalog cache

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_models",
        sa.Column("registry", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "catalog_versions",
        sa.Column("registry", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(512), primary_key=True),
        sa.Column("version", sa.String(128), primary_key=True),
        sa.Column("ordinal", sa.BigInteger, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "catalog_lineage_refs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("registry", sa.String(64), nullable=False),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("relation", sa.String(64), nullable=False),
    )
    op.create_index("ix_catalog_lineage_refs_target", "catalog_lineage_refs", ["target"])
    op.create_index("ix_catalog_lineage_refs_source", "catalog_lineage_refs", ["registry", "model", "version"])
    op.create_table(
        "catalog_sources",
        sa.Column("registry", sa.String(64), primary_key=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True)),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("catalog_sources")
    op.drop_index("ix_catalog_lineage_refs_source", "catalog_lineage_refs")
    op.drop_index("ix_catalog_lineage_refs_target", "catalog_lineage_refs")
    op.drop_table("catalog_lineage_refs")
    op.drop_table("catalog_versions")
    op.drop_table("catalog_models")
