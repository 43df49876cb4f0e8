"""Campaigns: validated, created with a budget account of their own, changed before they
start, paused, resumed or stopped while they run, described."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

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
from points_engine.commands import CampaignChanges, CampaignCommand, CampaignView
from points_engine.domain import earning
from points_engine.domain.accounts import (
    AccountKind,
    PostingType,
    campaign_account_code,
    issuance_account_code,
)
from points_engine.domain.earning import CampaignStatus
from points_engine.domain.errors import DayAlreadyBegun, UnknownCampaign

# -- campaigns ----------------------------------------------------------------------

TARGETS = ("business_types", "channels", "categories", "skus", "tiers")


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
        status=CampaignStatus.ACTIVE.value,
        funded_by=funder.code,
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
    return campaign_view(row, budget.balance, overlapping(session, row))


def update_campaign(
    uow: UnitOfWork, code: str, changes: CampaignChanges, today: date
) -> CampaignView:
    """Change a campaign that has not started yet (window, target, effect, cap, budget,
    holdout). A bigger budget is drawn from the funder's issuance account, a smaller one
    goes back to it. Raises UnknownCampaign, Conflict (started, stopped), Invalid."""
    session = uow.session
    row = _campaign(session, code)
    book = LedgerBook(session)
    # Under the budget's lock the row is read again: a concurrent change committed while
    # we waited is what this one changes, so the budget posted is the difference to it.
    budget = book.lock(row.account_id)
    session.refresh(row)
    if row.status == CampaignStatus.STOPPED or row.starts_on <= today:
        raise Conflict(
            f"campaign {code!r} has started or was stopped: only pause, resume and stop apply"
        )
    command = _changed(row, changes)
    if command.starts_on < today:
        raise DayAlreadyBegun.field("starts_on", "must not be in the past")
    validate_campaign(session, command)
    difference = command.budget_points - row.budget_points
    if difference:
        issuance = book.system_account(
            issuance_account_code(row.funded_by), AccountKind.ISSUANCE, row.funded_by
        )
        source, target = (issuance, budget) if difference > 0 else (budget, issuance)
        book.post(
            txn_id=new_txn_id(),
            type=PostingType.BUDGET,
            source=source,
            target=target,
            points=abs(difference),
            reference=f"campaign:{code}",
            occurred_at=utcnow(),
        )
    for name, value in dataclasses.asdict(command).items():
        if name in TARGETS or name in {"code", "funded_by"}:
            continue
        setattr(row, name, value)
    row.target = {name: list(getattr(command, name)) for name in TARGETS}
    row.updated_at = utcnow()
    session.flush()
    return campaign_view(row, budget.balance, overlapping(session, row))


def pause_campaign(uow: UnitOfWork, code: str, today: date) -> CampaignView:
    """Stop awarding until resumed; the budget stays. Raises Conflict unless active and
    not yet over."""
    return _set_status(uow, code, today, CampaignStatus.ACTIVE, CampaignStatus.PAUSED)


def resume_campaign(uow: UnitOfWork, code: str, today: date) -> CampaignView:
    """Award again after a pause. Raises Conflict unless paused and not yet over."""
    return _set_status(uow, code, today, CampaignStatus.PAUSED, CampaignStatus.ACTIVE)


def stop_campaign(uow: UnitOfWork, code: str) -> tuple[CampaignView, int]:
    """End a campaign for good and return its unspent budget to the funder's issuance
    account; answers the campaign and the points returned. Raises Conflict if stopped."""
    session = uow.session
    row = _campaign(session, code)
    book = LedgerBook(session)
    # Accruals lock the budget before drawing on it: after this lock none is drawing.
    budget = book.lock(row.account_id)
    session.refresh(row)
    if row.status == CampaignStatus.STOPPED:
        raise Conflict(f"campaign {code!r} is already stopped")
    returned = max(budget.balance, 0)
    if returned:
        issuance = book.system_account(
            issuance_account_code(row.funded_by), AccountKind.ISSUANCE, row.funded_by
        )
        book.post(
            txn_id=new_txn_id(),
            type=PostingType.BUDGET,
            source=budget,
            target=issuance,
            points=returned,
            reference=f"campaign:{code}:stop",
            occurred_at=utcnow(),
        )
    row.status = CampaignStatus.STOPPED.value
    row.updated_at = utcnow()
    session.flush()
    return campaign_view(row, budget.balance), returned


def _set_status(
    uow: UnitOfWork, code: str, today: date, current: CampaignStatus, new: CampaignStatus
) -> CampaignView:
    session = uow.session
    row = _campaign(session, code)
    # The budget's lock orders this change after any accrual drawing on it right now.
    budget = LedgerBook(session).lock(row.account_id)
    session.refresh(row)
    if row.status != current or row.ends_on < today:
        raise Conflict(
            f"campaign {code!r} is {row.status}"
            + (f" and ended on {row.ends_on.isoformat()}" if row.ends_on < today else "")
            + f": it cannot be made {new.value}"
        )
    row.status = new.value
    row.updated_at = utcnow()
    session.flush()
    return campaign_view(row, budget.balance)


def _campaign(session: Session, code: str) -> orm.Campaign:
    row = session.scalars(select(orm.Campaign).where(orm.Campaign.code == code)).one_or_none()
    if row is None:
        raise UnknownCampaign(f"no campaign {code!r}")
    return row


def _changed(row: orm.Campaign, changes: CampaignChanges) -> CampaignCommand:
    target = row.target or {}
    current: dict[str, Any] = {
        "code": row.code,
        "name": row.name,
        "name_en": row.name_en,
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "budget_points": row.budget_points,
        "multiplier_bp": row.multiplier_bp,
        "bonus_points": row.bonus_points,
        "per_member_cap": row.per_member_cap,
        "holdout_pct": row.holdout_pct,
        "funded_by": row.funded_by,
        **{name: tuple(target.get(name, [])) for name in TARGETS},
    }
    given = {
        name: value
        for name, value in dataclasses.asdict(changes).items()
        if value is not None and name != "remove_cap"
    }
    for name in TARGETS:
        if name in given:
            given[name] = tuple(given[name])
    if changes.remove_cap:
        given["per_member_cap"] = None
    return CampaignCommand(**{**current, **given})


def overlapping(session: Session, row: orm.Campaign) -> tuple[str, ...]:
    """Warnings naming the other live campaigns whose window and target overlap this one's:
    a purchase both reach earns from both, which a marketer should mean to do."""
    others = session.scalars(
        select(orm.Campaign).where(
            orm.Campaign.code != row.code,
            orm.Campaign.status != CampaignStatus.STOPPED.value,
            orm.Campaign.starts_on <= row.ends_on,
            orm.Campaign.ends_on >= row.starts_on,
        )
    ).all()
    mine = row.target or {}
    warnings = []
    for other in sorted(others, key=lambda o: o.code):
        theirs = other.target or {}
        # An empty target list means "all"; two lists that share nothing cannot meet.
        if all(
            not mine.get(name) or not theirs.get(name) or set(mine[name]) & set(theirs[name])
            for name in TARGETS
        ):
            start = max(row.starts_on, other.starts_on).isoformat()
            end = min(row.ends_on, other.ends_on).isoformat()
            warnings.append(
                f"overlaps campaign {other.code!r} from {start} to {end} on the same target"
            )
    return tuple(warnings)


def campaign_view(
    row: orm.Campaign, budget_remaining: int, warnings: tuple[str, ...] = ()
) -> CampaignView:
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
        status=row.status,
        warnings=warnings,
    )
