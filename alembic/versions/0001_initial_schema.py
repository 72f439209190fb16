"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "change",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("list_key", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changeset_id", sa.String(length=100), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index("ix_change_list_key_seq", ["list_key", "seq"], unique=False)

    op.create_table(
        "changeset",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("release", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("base_versions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changeset")),
    )
    op.create_table(
        "codelist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codelist")),
        sa.UniqueConstraint("key", name=op.f("uq_codelist_key")),
    )
    op.create_table(
        "publish_lock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_lock")),
    )
    op.create_table(
        "list_version",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("attribute_schema", sa.JSON(), nullable=False),
        sa.Column("changeset_id", sa.String(length=100), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("deactivated", sa.Integer(), nullable=False),
        sa.Column("reactivated", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changeset_id"], ["changeset.id"], name=op.f("fk_list_version_changeset_id_changeset")
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["codelist.id"], name=op.f("fk_list_version_list_id_codelist")
        ),
        sa.PrimaryKeyConstraint("list_id", "version", name=op.f("pk_list_version")),
    )
    op.create_table(
        "value_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=True),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("replaced_by", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("version_from", sa.Integer(), nullable=False),
        sa.Column("version_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["codelist.id"], name=op.f("fk_value_revision_list_id_codelist")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_revision")),
        sa.UniqueConstraint(
            "list_id",
            "code",
            "version_from",
            name=op.f("uq_value_revision_list_id_code_version_from"),
        ),
    )
    with op.batch_alter_table("value_revision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_value_revision_current", ["list_id", "version_to", "version_from"], unique=False
        )

    # The one row every publish locks first (see app/store/tables.py).
    publish_lock = sa.table(
        "publish_lock", sa.column("id", sa.Integer), sa.column("generation", sa.BigInteger)
    )
    op.bulk_insert(publish_lock, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    with op.batch_alter_table("value_revision", schema=None) as batch_op:
        batch_op.drop_index("ix_value_revision_current")

    op.drop_table("value_revision")
    op.drop_table("list_version")
    op.drop_table("publish_lock")
    op.drop_table("codelist")
    op.drop_table("changeset")
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index("ix_change_list_key_seq")

    op.drop_table("change")
    op.drop_table("api_token")
