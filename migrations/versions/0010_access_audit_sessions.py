"""audit log, shared throttles, staff sessions, one-time codes, key rotation, owners

What the access policy and account security need:
- `common_audit_event`: append-only. Triggers refuse UPDATE and DELETE on both
  databases, so not even a bug in our own code can rewrite history (PostgreSQL's
  TRUNCATE, used by test fixtures and `memberhub restore --force`, does not fire them).
- `common_throttle`: one counter row per key (login per account and per address,
  pickup codes per outlet, one-time codes per phone), shared by every worker.
- `storefront_api_staff_session`: staff tokens and the dashboards' cookie name a
  session that is checked on every request, so logout, disabling an account or a
  password reset take effect at once.
- `crm_verification_code`: one-time codes sent to a phone (stored as an HMAC).
- `storefront_api_key.expires_at` / `replaced_by`: a rotated key keeps working for
  an overlap period.
- Owners the policy checks: the outlet that redeemed (`points_engine_redemption`) and
  the outlet that charged a prepaid card (`storefront_prepaid_entry`); earlier rows
  have none, and only the member or finance may act on them.
- `storefront_prepaid_card.pin_hash`: a channel charging a card must show its PIN.
- `storefront_pickup_failure` goes: wrong pickup codes are counted per outlet in
  `common_throttle` now.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "the audit log is append-only"


def upgrade() -> None:
    op.create_table(
        "common_audit_event",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target", sa.String(length=160), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_audit_event")),
    )
    op.create_index(
        "ix_common_audit_event_action_target",
        "common_audit_event",
        ["action", "target", "occurred_at"],
    )
    op.create_index(op.f("ix_common_audit_event_actor"), "common_audit_event", ["actor"])
    op.create_index(
        op.f("ix_common_audit_event_occurred_at"), "common_audit_event", ["occurred_at"]
    )
    _append_only_triggers()

    op.create_table(
        "common_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_common_throttle")),
    )
    op.create_table(
        "crm_verification_code",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_verification_code")),
    )
    op.create_index(op.f("ix_crm_verification_code_phone"), "crm_verification_code", ["phone"])
    op.create_table(
        "storefront_api_staff_session",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["storefront_api_staff_user.id"],
            name=op.f("fk_storefront_api_staff_session_staff_user_id_storefront_api_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_api_staff_session")),
        sa.UniqueConstraint(
            "session_sha256", name=op.f("uq_storefront_api_staff_session_session_sha256")
        ),
    )
    op.create_index(
        op.f("ix_storefront_api_staff_session_staff_user_id"),
        "storefront_api_staff_session",
        ["staff_user_id"],
    )

    with op.batch_alter_table("storefront_api_key") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("replaced_by", sa.String(length=24), nullable=True))
    with op.batch_alter_table("points_engine_redemption") as batch_op:
        batch_op.add_column(sa.Column("institution_code", sa.String(length=32), nullable=True))
    with op.batch_alter_table("storefront_prepaid_entry") as batch_op:
        batch_op.add_column(sa.Column("institution_code", sa.String(length=32), nullable=True))
    with op.batch_alter_table("storefront_prepaid_card") as batch_op:
        batch_op.add_column(sa.Column("pin_hash", sa.String(length=64), nullable=True))

    op.drop_index(op.f("ix_storefront_pickup_failure_caller"), "storefront_pickup_failure")
    op.drop_table("storefront_pickup_failure")


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER common_audit_event_no_{event.lower()} "
                f"BEFORE {event} ON common_audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION common_audit_event_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER common_audit_event_append_only "
        "BEFORE UPDATE OR DELETE ON common_audit_event "
        "FOR EACH ROW EXECUTE FUNCTION common_audit_event_append_only()"
    )


def downgrade() -> None:
    op.create_table(
        "storefront_pickup_failure",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("caller", sa.String(length=80), nullable=False),
        sa.Column("outlet_code", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_pickup_failure")),
    )
    op.create_index(
        op.f("ix_storefront_pickup_failure_caller"), "storefront_pickup_failure", ["caller"]
    )
    with op.batch_alter_table("storefront_prepaid_card") as batch_op:
        batch_op.drop_column("pin_hash")
    with op.batch_alter_table("storefront_prepaid_entry") as batch_op:
        batch_op.drop_column("institution_code")
    with op.batch_alter_table("points_engine_redemption") as batch_op:
        batch_op.drop_column("institution_code")
    with op.batch_alter_table("storefront_api_key") as batch_op:
        batch_op.drop_column("replaced_by")
        batch_op.drop_column("expires_at")
    op.drop_table("storefront_api_staff_session")
    op.drop_table("crm_verification_code")
    op.drop_table("common_throttle")
    op.drop_table("common_audit_event")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION common_audit_event_append_only()")
