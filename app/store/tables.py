"""The schema: every revision of every value, stamped with the list versions it was current in.

Nothing is updated in place except closing a revision's version range (``version_to``) when a
newer revision replaces it, and a change set's status. "List at version N" is one indexed query;
history is the revisions of one code; the change feed is append-only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC (SQLite has no time zones), read back as aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

codelist = sa.Table(
    "codelist",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

list_version = sa.Table(
    "list_version",
    metadata,
    sa.Column("list_id", sa.Integer, sa.ForeignKey("codelist.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("attribute_schema", sa.JSON, nullable=False),
    sa.Column("changeset_id", sa.String(100), sa.ForeignKey("changeset.id"), nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("value_count", sa.Integer, nullable=False),
    sa.Column("added", sa.Integer, nullable=False),
    sa.Column("changed", sa.Integer, nullable=False),
    sa.Column("deactivated", sa.Integer, nullable=False),
    sa.Column("reactivated", sa.Integer, nullable=False),
)

value_revision = sa.Table(
    "value_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("list_id", sa.Integer, sa.ForeignKey("codelist.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("sort_order", sa.Integer),
    sa.Column("parent", sa.String(64)),
    sa.Column("replaced_by", sa.JSON, nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("version_from", sa.Integer, nullable=False),
    # NULL while this revision is current; set once, when a newer revision replaces it.
    sa.Column("version_to", sa.Integer),
    sa.UniqueConstraint("list_id", "code", "version_from"),
    sa.Index("ix_value_revision_current", "list_id", "version_to", "version_from"),
)

changeset = sa.Table(
    "changeset",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("release", sa.String(100)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("plan", sa.JSON, nullable=False),
    # The version of every list the document names, when planned: publishing checks them.
    sa.Column("base_versions", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("versions", sa.JSON),
    sa.Column("seq", sa.BigInteger),
    # Review and scheduling (api.md "Review, approval and scheduling").
    sa.Column("publish_at", UTCDateTime),
    sa.Column("approved_by", sa.String(200)),
    sa.Column("approved_at", UTCDateTime),
    sa.Column("failure", sa.Text),
    # The scheduler's question, "which scheduled change sets are due?", is one index range.
    sa.Index("ix_changeset_status_publish_at", "status", "publish_at"),
)

change = sa.Table(
    "change",
    metadata,
    # Assigned under the publish lock, inside the publishing transaction: numbers become
    # visible in commit order with no gaps, so a reader paging by seq never skips a row.
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("list_key", sa.String(64), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changeset_id", sa.String(100), nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("previous", sa.JSON),
    sa.Index("ix_change_list_key_seq", "list_key", "seq"),
)

# One row. Every publish updates it first: on PostgreSQL that is a row lock held to commit, on
# SQLite it takes the database's write lock; either way publishes serialise. ``generation``
# counts publishes so readers can tell cheaply whether anything changed.
publish_lock = sa.Table(
    "publish_lock",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
)

subscription = sa.Table(
    "subscription",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("lists", sa.JSON),  # null: every list
    # Encrypted, not hashed: deliveries must sign with it (app/store/secrets.py).
    sa.Column("secret_encrypted", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    # While set and in the future, one delivery worker is sending this subscription's next batch.
    sa.Column("lease_until", UTCDateTime),
)

# The outbox: written in the publishing transaction, one row per batch per subscription.
delivery = sa.Table(
    "delivery",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("subscription_id", sa.String(36), sa.ForeignKey("subscription.id"), nullable=False),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, delivered
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime),
    sa.Index("ix_delivery_pending", "subscription_id", "status", "first_seq"),
)

api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    # SHA-256 of the token: tokens are 256-bit random strings, so a fast hash is enough.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Written at most once a minute per token (app/api/auth.py), not on every request.
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
    sa.Index("ix_api_token_name", "name"),
)

# The audit log (api.md "Audit"): append-only. The migration adds triggers that refuse UPDATE
# and DELETE on both databases, so not even a bug in this code can rewrite history.
audit_log = sa.Table(
    "audit_log",
    metadata,
    # SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)

# The purge outbox (api.md "Shared caches and CDNs"): one row per publish that made new list
# versions, written in the publishing transaction, naming the surrogate keys to purge and the
# publish generation every service process must have reached before a cache is purged.
purge = sa.Table(
    "purge",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("keys", sa.JSON, nullable=False),  # ["list:a", "list:b", "index"]
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# How far each cache (by base URL) has been purged; a worker holds the lease while sending.
purge_cursor = sa.Table(
    "purge_cursor",
    metadata,
    sa.Column("url", sa.String(500), primary_key=True),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("last_error", sa.Text),
)

# Every running service process and the publish generation its answers are built from; a
# purge waits until every live process has reached the publish (app/workers/purge.py).
service_process = sa.Table(
    "service_process",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
)
