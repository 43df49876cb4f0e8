"""Base earning rules changed through dated versions: scheduled, listed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import utcnow
from common.codes import BUSINESS_TYPES, CHANNELS
from common.errors import Conflict, Invalid, UnknownReference, combined
from common.organisation import Category, codes
from common.reference_cache import reference_cache
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.commands import RuleVersionCommand, RuleVersionView
from points_engine.domain.errors import DayAlreadyBegun
from points_engine.services.accrual import RULE_BOOK


def schedule_rule_version(
    uow: UnitOfWork, command: RuleVersionCommand, today: date, actor: str
) -> RuleVersionView:
    """Record a new version of a base rule from a future day (tomorrow at the earliest, so
    no purchase already made, or being made today, changes what it earns). Raises Invalid,
    UnknownReference, Conflict (a version of that code from that day exists)."""
    session = uow.session
    errors: list[Invalid] = []
    if command.effective_from <= today:
        errors.append(
            DayAlreadyBegun.field("effective_from", "must be after today (Asia/Shanghai)")
        )
    if command.business_type not in BUSINESS_TYPES:
        errors.append(Invalid.field("business_type", f"must be one of {', '.join(BUSINESS_TYPES)}"))
    if command.channel is not None and command.channel not in CHANNELS:
        errors.append(UnknownReference.field("channel", "unknown channel"))
    if command.category is not None and command.category not in codes(session, Category):
        errors.append(UnknownReference.field("category", "unknown category"))
    if errors:
        raise combined(errors)
    taken = session.scalar(
        select(orm.EarningRuleVersion.id).where(
            orm.EarningRuleVersion.code == command.code,
            orm.EarningRuleVersion.effective_from == command.effective_from,
        )
    )
    if taken is not None:
        raise Conflict(
            f"rule {command.code!r} already has a version from {command.effective_from.isoformat()}"
        )
    row = orm.EarningRuleVersion(**command.__dict__, created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    # This process sees the new version at once; other workers within the cache's TTL,
    # which is well before the day it takes effect.
    engine = session.get_bind()
    uow.after_commit(lambda: reference_cache.forget(engine, RULE_BOOK))
    return _view(row)


def list_rule_versions(session: Session) -> list[RuleVersionView]:
    """The rules as loaded at setup, then every scheduled or past version, by code and day."""
    base = [
        RuleVersionView(
            code=r.code,
            effective_from=None,
            business_type=r.business_type,
            channel=r.channel,
            category=r.category,
            points=r.points,
            per_fen=r.per_fen,
            fixed_points=r.fixed_points,
            pending_days=r.pending_days,
            description=r.description,
            description_en=r.description_en,
            active=r.active,
        )
        for r in session.scalars(select(orm.EarningRule).order_by(orm.EarningRule.code))
    ]
    versions = [
        _view(v)
        for v in session.scalars(
            select(orm.EarningRuleVersion).order_by(
                orm.EarningRuleVersion.code, orm.EarningRuleVersion.effective_from
            )
        )
    ]
    return base + versions


def _view(row: orm.EarningRuleVersion) -> RuleVersionView:
    return RuleVersionView(
        code=row.code,
        effective_from=row.effective_from,
        business_type=row.business_type,
        channel=row.channel,
        category=row.category,
        points=row.points,
        per_fen=row.per_fen,
        fixed_points=row.fixed_points,
        pending_days=row.pending_days,
        description=row.description,
        description_en=row.description_en,
        active=row.active,
        created_by=row.created_by,
    )
