"""clearing entries without a foreign key to their day

`storefront_clearing_entry.cleared_on` no longer references `storefront_clearing_day`.
A run writes one entry per movement of its day, a million and more on a busy day, and
PostgreSQL checked the key with a trigger per row: about 9 µs each, a third of a run.
Only the run writes entries, always after creating its day's row, and day rows are never
deleted, so the key guarded nothing that can happen.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 22:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

KEY = "fk_storefront_clearing_entry_cleared_on_storefront_clearing_day"


def upgrade() -> None:
    with op.batch_alter_table("storefront_clearing_entry") as batch:
        batch.drop_constraint(KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("storefront_clearing_entry") as batch:
        batch.create_foreign_key(KEY, "storefront_clearing_day", ["cleared_on"], ["business_date"])
