"""Typed ORM models of prepaid cards and their fen ledger (tables `storefront_prepaid_*`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, utc_datetime


class Account(Base):
    """One side of every entry: a card's own account, or a `cash:` / `sales:` system account.

    Accounts hold no balance column: a card's balance is kept on its card row (locked
    while it changes) and a system account's is the sum of its entries, so the busy
    system accounts never become one row every card payment queues on.
    """

    __tablename__ = "storefront_prepaid_account"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[utc_datetime]


class Card(Base):
    __tablename__ = "storefront_prepaid_card"
    __table_args__ = (CheckConstraint("balance_fen >= 0", name="balance_not_negative"),)

    id: Mapped[intpk]
    card_no: Mapped[str] = mapped_column(String(19), unique=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("storefront_prepaid_account.id"), unique=True
    )
    member_id: Mapped[int | None] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(String(16))
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    institution_code: Mapped[str] = mapped_column(String(32))
    issued_channel: Mapped[str] = mapped_column(String(32))
    # HMAC of the card's PIN: a channel charging a card by its number must also show
    # the PIN the holder keeps. Cards issued before PINs existed have none.
    pin_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]


class Entry(Base):
    """`amount_fen` (> 0) moved from one account to another; one side is always the card's."""

    __tablename__ = "storefront_prepaid_entry"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_storefront_prepaid_entry_card", "card_id", "id"),
    )

    id: Mapped[intpk]
    entry_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    card_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_prepaid_card.id"))
    from_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_prepaid_account.id"))
    to_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_prepaid_account.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # The card's balance once this entry is applied.
    balance_after: Mapped[int] = mapped_column(BigInteger)
    # A refund names the charge it gives back (part of).
    refund_of_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("storefront_prepaid_entry.id"), index=True
    )
    reference: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    # The outlet or store of the key that wrote it: only that outlet refunds its charge.
    institution_code: Mapped[str | None] = mapped_column(String(32))
    # Set when a channel wrote the entry over HTTP; None when another flow (an order) did.
    external_id: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[utc_datetime]
