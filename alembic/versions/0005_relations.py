"""relations between lists: versions, row revisions, and their change-feed entries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation")),
        sa.UniqueConstraint("key", name=op.f("uq_relation_key")),
    )
    op.create_table(
        "relation_version",
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_list", sa.String(length=64), nullable=False),
        sa.Column("target_list", sa.String(length=64), nullable=False),
        sa.Column("qualifier_list", sa.String(length=64), nullable=True),
        sa.Column("changeset_id", sa.String(length=100), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changeset_id"],
            ["changeset.id"],
            name=op.f("fk_relation_version_changeset_id_changeset"),
        ),
        sa.ForeignKeyConstraint(
            ["relation_id"], ["relation.id"], name=op.f("fk_relation_version_relation_id_relation")
        ),
        sa.PrimaryKeyConstraint("relation_id", "version", name=op.f("pk_relation_version")),
    )
    op.create_table(
        "relation_row",
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("version_from", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("qualifiers", sa.JSON(), nullable=False),
        sa.Column("version_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["relation_id"], ["relation.id"], name=op.f("fk_relation_row_relation_id_relation")
        ),
        sa.PrimaryKeyConstraint(
            "relation_id", "source", "target", "version_from", name=op.f("pk_relation_row")
        ),
    )
    with op.batch_alter_table("relation_row", schema=None) as batch_op:
        batch_op.create_index(
            "ix_relation_row_current", ["relation_id", "version_to", "version_from"], unique=False
        )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relation", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("target", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_column("target")
        batch_op.drop_column("relation")
    with op.batch_alter_table("relation_row", schema=None) as batch_op:
        batch_op.drop_index("ix_relation_row_current")
    op.drop_table("relation_row")
    op.drop_table("relation_version")
    op.drop_table("relation")
