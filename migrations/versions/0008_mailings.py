"""mail items and their tracking events

A counter accepts an item under its UPU S10 number (unique, stored upper case);
each scan after that is one immutable event, numbered per item. The sender is
kept as the member id and number given at the counter, without a foreign key
into the member hub (packages reference each other by id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "storefront_mailing",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tracking_no", sa.String(length=13), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("member_id", BIG_ID, nullable=True),
        sa.Column("member_no", sa.String(length=16), nullable=True),
        sa.Column("accrual_no", sa.String(length=40), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fee_fen > 0", name=op.f("ck_storefront_mailing_fee_positive")),
        sa.ForeignKeyConstraint(
            ["institution_code"],
            ["common_institution.code"],
            name=op.f("fk_storefront_mailing_institution_code_common_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_mailing")),
        sa.UniqueConstraint("tracking_no", name=op.f("uq_storefront_mailing_tracking_no")),
    )
    op.create_index(
        op.f("ix_storefront_mailing_member_id"), "storefront_mailing", ["member_id"], unique=False
    )
    op.create_table(
        "storefront_mail_event",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("mailing_id", BIG_ID, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=True),
        sa.Column("external_id", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["storefront_mailing.id"],
            name=op.f("fk_storefront_mail_event_mailing_id_storefront_mailing"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_mail_event")),
        sa.UniqueConstraint(
            "mailing_id", "sequence", name=op.f("uq_storefront_mail_event_mailing_id_sequence")
        ),
    )


def downgrade() -> None:
    op.drop_table("storefront_mail_event")
    op.drop_index(op.f("ix_storefront_mailing_member_id"), table_name="storefront_mailing")
    op.drop_table("storefront_mailing")
