"""Campaigns: validated, created with a budget account of their own, described."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import utcnow
from common.codes import BUSINESS_TYPES
from common.errors import (
    Conflict,
    InconsistentFields,
    Invalid,
    UnknownReference,
)
from common.organisation import Category, Institution, codes
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    LedgerBook,
    new_txn_id,
)
from points_engine.commands import CampaignCommand, CampaignView
from points_engine.domain import earning
from points_engine.domain.accounts import (
    AccountKind,
    PostingType,
    campaign_account_code,
    issuance_account_code,
)

# -- campaigns ----------------------------------------------------------------------


def validate_campaign(session: Session, command: CampaignCommand) -> None:
    """Check a campaign's dates, effect, budget, cap, holdout and targets. Raises Invalid."""
    if command.ends_on < command.starts_on:
        raise InconsistentFields.field("ends_on", "must not be before starts_on")
    if command.budget_points <= 0:
        raise Invalid.field("budget_points", "must be greater than 0")
    if (command.multiplier_bp > earning.BP) == (command.bonus_points > 0):
        raise InconsistentFields.field(
            "multiplier_bp", "give either a multiplier above 10000 or bonus_points, not both"
        )
    if command.multiplier_bp < earning.BP:
        raise Invalid.field("multiplier_bp", "must be at least 10000 (1.0x)")
    if command.per_member_cap is not None and command.per_member_cap <= 0:
        raise Invalid.field("per_member_cap", "must be greater than 0")
    if not 0 <= command.holdout_pct <= 50:
        raise Invalid.field("holdout_pct", "must be between 0 and 50")
    for name, values, known in (
        ("business_types", command.business_types, set(BUSINESS_TYPES)),
        ("categories", command.categories, codes(session, Category)),
    ):
        unknown = sorted(set(values) - known)
        if unknown:
            raise UnknownReference.field(name, f"unknown codes: {', '.join(unknown)}")


def create_campaign(uow: UnitOfWork, command: CampaignCommand) -> CampaignView:
    """Create a campaign and fund its budget account from the funding institution's issuance.

    Raises Invalid (dates, effect, budget, targets), Conflict (code taken).
    """
    session = uow.session
    validate_campaign(session, command)
    funder = session.get(Institution, command.funded_by)
    if funder is None:
        raise UnknownReference.field("funded_by", "unknown institution")
    if session.scalar(select(orm.Campaign.id).where(orm.Campaign.code == command.code)):
        raise Conflict(f"campaign {command.code!r} already exists")
    book = LedgerBook(session)
    budget = book.system_account(campaign_account_code(command.code), AccountKind.CAMPAIGN_BUDGET)
    issuance = book.system_account(
        issuance_account_code(funder.code), AccountKind.ISSUANCE, funder.code
    )
    row = orm.Campaign(
        code=command.code,
        name=command.name,
        name_en=command.name_en,
        starts_on=command.starts_on,
        ends_on=command.ends_on,
        target={
            "business_types": list(command.business_types),
            "channels": list(command.channels),
            "categories": list(command.categories),
            "skus": list(command.skus),
            "tiers": list(command.tiers),
        },
        multiplier_bp=command.multiplier_bp,
        bonus_points=command.bonus_points,
        per_member_cap=command.per_member_cap,
        budget_points=command.budget_points,
        holdout_pct=command.holdout_pct,
        account_id=budget.id,
        created_at=utcnow(),
    )
    session.add(row)
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.BUDGET,
        source=issuance,
        target=budget,
        points=command.budget_points,
        reference=f"campaign:{command.code}",
        occurred_at=utcnow(),
    )
    session.flush()
    return campaign_view(row, budget.balance)


def campaign_view(row: orm.Campaign, budget_remaining: int) -> CampaignView:
    return CampaignView(
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        target=row.target or {},
        multiplier_bp=row.multiplier_bp,
        bonus_points=row.bonus_points,
        per_member_cap=row.per_member_cap,
        budget_points=row.budget_points,
        budget_remaining=budget_remaining,
        holdout_pct=row.holdout_pct,
    )
