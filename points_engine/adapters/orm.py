"""Typed ORM models of the points ledger (tables `points_engine_*`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.clock import utcnow
from common.db import Base, BigId, intpk, json_value, name_str, utc_datetime


class Account(Base):
    __tablename__ = "points_engine_account"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int | None] = mapped_column(BigId, index=True)
    institution_code: Mapped[str | None] = mapped_column(String(32))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("points_engine_account.id")
    )
    created_at: Mapped[utc_datetime]


class Posting(Base):
    """One movement of `points` (> 0) from one account to another."""

    __tablename__ = "points_engine_posting"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
        Index("ix_points_engine_posting_from", "from_account_id", "id"),
        Index("ix_points_engine_posting_to", "to_account_id", "id"),
        # The clearing finds a day's postings by time; accrual postings, nearly all of
        # them, are cleared with their sale, so the index leaves them out.
        Index(
            "ix_points_engine_posting_cleared",
            "occurred_at",
            postgresql_where=text("type <> 'accrual'"),
            sqlite_where=text("type <> 'accrual'"),
        ),
    )

    id: Mapped[intpk]
    txn_id: Mapped[str] = mapped_column(String(40), index=True)
    type: Mapped[str] = mapped_column(String(24))
    from_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_account.id"))
    to_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_account.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    from_balance_after: Mapped[int | None] = mapped_column(BigInteger)
    to_balance_after: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(160))
    occurred_at: Mapped[utc_datetime]
    recorded_at: Mapped[utc_datetime]
    breakdown: Mapped[json_value | None]


class Lot(Base):
    __tablename__ = "points_engine_lot"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= initial", name="remaining_in_range"),
        CheckConstraint("expired >= 0 AND expired <= initial", name="expired_in_range"),
        Index("ix_points_engine_lot_account_status", "account_id", "status", "expires_on"),
        Index("ix_points_engine_lot_due", "status", "available_on"),
    )

    id: Mapped[intpk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_account.id"))
    accrual_id: Mapped[int | None] = mapped_column(BigId, index=True)
    initial: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    # What expired and is still in breakage: a later refund of the purchase takes it
    # back from there instead of from the member a second time.
    expired: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    earned_on: Mapped[date] = mapped_column(Date)
    available_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    institution_code: Mapped[str] = mapped_column(String(32))
    # The warehouse re-reads rows changed since its last sync.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )
    # Set from the object so a batch can add many accruals and lots and flush once.
    accrual: Mapped[Accrual | None] = relationship(
        primaryjoin="foreign(Lot.accrual_id) == Accrual.id", lazy="raise"
    )


class Accrual(Base):
    __tablename__ = "points_engine_accrual"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[intpk]
    accrual_no: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(120))
    member_id: Mapped[int] = mapped_column(BigId, index=True)
    institution_code: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[utc_datetime] = mapped_column(index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger)
    # Of `points`, those a campaign's budget paid (a club may not count them for tiers).
    campaign_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    available_on: Mapped[date] = mapped_column(Date)
    sources: Mapped[json_value]
    breakdown: Mapped[json_value]
    lines: Mapped[json_value]
    payment_method: Mapped[str | None] = mapped_column(String(32))
    # The warehouse re-reads rows changed since its last sync.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )


class Refund(Base):
    __tablename__ = "points_engine_refund"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[intpk]
    refund_no: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(120))
    accrual_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_accrual.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    # Indexed: the daily clearing finds a day's refunds by time.
    created_at: Mapped[utc_datetime] = mapped_column(index=True)


class EarningRule(Base):
    __tablename__ = "points_engine_earning_rule"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_type: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    per_fen: Mapped[int] = mapped_column(Integer)
    fixed_points: Mapped[int] = mapped_column(Integer, default=0)
    pending_days: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[name_str]
    description_en: Mapped[name_str]
    active: Mapped[bool] = mapped_column(default=True)


class EarningRuleVersion(Base):
    """A base earning rule as it reads from `effective_from` on (set through the API);
    the rules of `EarningRule` hold until a code's first version."""

    __tablename__ = "points_engine_earning_rule_version"
    __table_args__ = (UniqueConstraint("code", "effective_from"),)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)
    business_type: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    per_fen: Mapped[int] = mapped_column(Integer)
    fixed_points: Mapped[int] = mapped_column(Integer, default=0)
    pending_days: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[name_str]
    description_en: Mapped[name_str]
    # False withdraws the code from that day on.
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[utc_datetime]


class TierMultiplier(Base):
    __tablename__ = "points_engine_tier_multiplier"

    tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    multiplier_bp: Mapped[int] = mapped_column(Integer)


class Campaign(Base):
    __tablename__ = "points_engine_campaign"
    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    target: Mapped[json_value]
    multiplier_bp: Mapped[int] = mapped_column(Integer, default=10_000)
    bonus_points: Mapped[int] = mapped_column(Integer, default=0)
    per_member_cap: Mapped[int | None] = mapped_column(Integer)
    budget_points: Mapped[int] = mapped_column(BigInteger)
    holdout_pct: Mapped[int] = mapped_column(Integer, default=0)
    # The budget still to give is the balance of this account, locked while drawn on.
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_account.id"))
    # active, paused (awards nothing until resumed) or stopped (for good).
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # Whose issuance account paid the budget, and gets back what a stop leaves unspent.
    funded_by: Mapped[str] = mapped_column(String(32), default="SH", server_default="SH")
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignAward(Base):
    """A member's running total from one campaign (the per-member cap is checked against it)."""

    __tablename__ = "points_engine_campaign_award"
    __table_args__ = (UniqueConstraint("campaign_id", "member_id"),)

    id: Mapped[intpk]
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_campaign.id"))
    member_id: Mapped[int] = mapped_column(BigId)
    points: Mapped[int] = mapped_column(BigInteger, default=0)


class Reward(Base):
    __tablename__ = "points_engine_reward"
    __table_args__ = (CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    kind: Mapped[str] = mapped_column(String(24))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    cash_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    stock: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    # What a voucher or bill-credit reward is worth to the member, the least spend it
    # needs, for how many days it is valid, and on which business type (None: any).
    value_fen: Mapped[int | None] = mapped_column(BigInteger)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    valid_days: Mapped[int | None] = mapped_column(Integer)
    applies_to: Mapped[str | None] = mapped_column(String(32))
    biller_kind: Mapped[str | None] = mapped_column(String(16))  # a bill credit's bills


class Redemption(Base):
    __tablename__ = "points_engine_redemption"

    id: Mapped[intpk]
    redemption_no: Mapped[str] = mapped_column(String(40), unique=True)
    member_id: Mapped[int] = mapped_column(BigId, index=True)
    reward_code: Mapped[str] = mapped_column(String(64), ForeignKey("points_engine_reward.code"))
    quantity: Mapped[int] = mapped_column(Integer)
    points_spent: Mapped[int] = mapped_column(BigInteger)
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    # The outlet or store of the key that redeemed: only that outlet may cancel it.
    institution_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[utc_datetime]
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The warehouse re-reads rows changed since its last sync.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )


class LotConsumption(Base):
    """Which lots a redemption drew from, so a cancel can put points back where they were."""

    __tablename__ = "points_engine_lot_consumption"

    id: Mapped[intpk]
    redemption_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("points_engine_redemption.id"), index=True
    )
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_lot.id"))
    points: Mapped[int] = mapped_column(BigInteger)


class AccountMerge(Base):
    """One merge of a member's points into another's: what undoing it gives back."""

    __tablename__ = "points_engine_account_merge"

    txn_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    absorbed_member_id: Mapped[int] = mapped_column(BigId)
    survivor_member_id: Mapped[int] = mapped_column(BigId)
    # The absorbed member's debt, which the survivor's points paid at the merge.
    debt_covered: Mapped[int] = mapped_column(BigInteger)
    # Campaign id (as text) -> the absorbed member's awarded points, moved to the survivor.
    awards: Mapped[json_value]
    undone_txn_id: Mapped[str | None] = mapped_column(String(40))


class MergedLot(Base):
    """A lot a merge moved to the survivor, as it stood then. What the survivor used of
    it afterwards is the fall of `remaining` that expiry and refunds of its own
    purchase do not explain."""

    __tablename__ = "points_engine_merged_lot"

    id: Mapped[intpk]
    merge_txn_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("points_engine_account_merge.txn_id"), index=True
    )
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_engine_lot.id"))
    remaining_at_merge: Mapped[int] = mapped_column(BigInteger)
    expired_at_merge: Mapped[int] = mapped_column(BigInteger)
    reversed_at_merge: Mapped[int] = mapped_column(BigInteger)


__all__ = [
    "Account",
    "AccountMerge",
    "Accrual",
    "Campaign",
    "CampaignAward",
    "EarningRule",
    "Lot",
    "LotConsumption",
    "MergedLot",
    "Posting",
    "Redemption",
    "Refund",
    "Reward",
    "TierMultiplier",
]
