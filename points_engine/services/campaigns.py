"""Campaigns: validated, created with a budget account of their own, changed before they
start, paused, resumed or stopped while they run, described."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
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
from points_engine.commands import (
    CampaignChanges,
    CampaignCommand,
    CampaignView,
    MemberScores,
    ScoreBounds,
)
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

TARGETS = ("business_types", "channels", "categories", "skus", "tiers", "segments")
# Score ranges of the target, each {min, max} (null: open) or absent (any score).
SCORE_TARGETS = ("churn_risk", "expected_value_fen")


def validate_campaign(
    session: Session,
    command: CampaignCommand,
    scores: MemberScores | None = None,
    uow: UnitOfWork | None = None,
) -> None:
    """Check a campaign's dates, effect, budget, cap, holdout and targets. Raises Invalid
    naming the field (`segments`, `churn_risk.min`, ...).

    Segment codes are checked against the member hub's segments through `scores` (with
    its `uow`); a command naming segments needs both (a wiring error, ValueError, if not).
    """
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
    validate_score_targets(command)
    if command.segments:
        if scores is None or uow is None:
            raise ValueError("segment targets are checked through the MemberScores port")
        unknown = sorted(set(command.segments) - scores.segment_codes(uow))
        if unknown:
            raise UnknownReference.field(
                "segments", f"unknown segments: {', '.join(unknown)}; see GET /segments"
            )


def validate_score_targets(command: CampaignCommand) -> None:
    """Churn risk bounds lie in 0..1, expected value bounds are whole fen from 0, each
    range gives at least one end and its min is not above its max. Raises Invalid."""
    risk, value = command.churn_risk, command.expected_value_fen
    if risk is not None:
        _check_bounds("churn_risk", risk, lambda v: 0 <= v <= 1, "must be between 0 and 1")
        span = earning.risk_bp_range(risk.min, risk.max)
        if span.low is not None and span.high is not None and span.low > span.high:
            raise InconsistentFields.field(
                "churn_risk.max", "the range holds no churn risk (to 0.0001)"
            )
    if value is not None:
        _check_bounds(
            "expected_value_fen",
            value,
            lambda v: float(v).is_integer() and v >= 0,
            "must be a whole number of fen, 0 or more",
        )


def _check_bounds(
    name: str, bounds: ScoreBounds, fits: Callable[[float], bool], message: str
) -> None:
    if bounds.min is None and bounds.max is None:
        raise InconsistentFields.field(name, "give min, max or both")
    for end, value in (("min", bounds.min), ("max", bounds.max)):
        if value is not None and (not math.isfinite(value) or not fits(value)):
            raise Invalid.field(f"{name}.{end}", message)
    if bounds.min is not None and bounds.max is not None and bounds.min > bounds.max:
        raise InconsistentFields.field(f"{name}.min", f"must not be above {name}.max")


def target_of(command: CampaignCommand) -> dict[str, Any]:
    """The campaign's target as stored (JSON): lists, and score ranges only when given."""
    target: dict[str, Any] = {name: list(getattr(command, name)) for name in TARGETS}
    if command.churn_risk is not None:
        target["churn_risk"] = command.churn_risk.as_dict()
    if command.expected_value_fen is not None:
        value = command.expected_value_fen
        target["expected_value_fen"] = {
            "min": None if value.min is None else int(value.min),
            "max": None if value.max is None else int(value.max),
        }
    return target


def score_bounds(target: dict[str, Any], name: str) -> ScoreBounds | None:
    stored = target.get(name)
    return None if stored is None else ScoreBounds(stored.get("min"), stored.get("max"))


def create_campaign(
    uow: UnitOfWork, command: CampaignCommand, scores: MemberScores | None = None
) -> CampaignView:
    """Create a campaign and fund its budget account from the funding institution's issuance.

    `scores` checks segment targets (needed when the command names segments). Raises
    Invalid (dates, effect, budget, targets), Conflict (code taken).
    """
    session = uow.session
    validate_campaign(session, command, scores, uow)
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
        target=target_of(command),
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
    uow: UnitOfWork,
    code: str,
    changes: CampaignChanges,
    today: date,
    scores: MemberScores | None = None,
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
    validate_campaign(session, command, scores, uow)
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
    for name in (field.name for field in dataclasses.fields(command)):
        if name in TARGETS or name in SCORE_TARGETS or name in {"code", "funded_by"}:
            continue
        setattr(row, name, getattr(command, name))
    row.target = target_of(command)
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
        **{name: score_bounds(target, name) for name in SCORE_TARGETS},
    }
    given = {
        field.name: value
        for field in dataclasses.fields(changes)
        if (value := getattr(changes, field.name)) is not None
        and not field.name.startswith("remove_")
    }
    for name in TARGETS:
        if name in given:
            given[name] = tuple(given[name])
    if changes.remove_cap:
        given["per_member_cap"] = None
    if changes.remove_churn_risk:
        given["churn_risk"] = None
    if changes.remove_expected_value_fen:
        given["expected_value_fen"] = None
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
        if targets_meet(mine, other.target or {}):
            start = max(row.starts_on, other.starts_on).isoformat()
            end = min(row.ends_on, other.ends_on).isoformat()
            warnings.append(
                f"overlaps campaign {other.code!r} from {start} to {end} on the same target"
            )
    return tuple(warnings)


def targets_meet(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Whether one member's purchase could be in both targets (stored form).

    An empty list means "all"; two lists that share nothing cannot meet. An absent score
    range means "any score"; two ranges that share no value cannot meet.
    """
    if not all(
        not mine.get(name) or not theirs.get(name) or set(mine[name]) & set(theirs[name])
        for name in TARGETS
    ):
        return False
    for name in SCORE_TARGETS:
        a, b = _score_range(mine, name), _score_range(theirs, name)
        if a is not None and b is not None and not a.meets(b):
            return False
    return True


def _score_range(target: dict[str, Any], name: str) -> earning.Range | None:
    bounds = score_bounds(target, name)
    if bounds is None:
        return None
    if name == "churn_risk":
        return earning.risk_bp_range(bounds.min, bounds.max)
    return earning.Range(
        None if bounds.min is None else int(bounds.min),
        None if bounds.max is None else int(bounds.max),
    )


def campaign_spec_target(target: dict[str, Any]) -> dict[str, Any]:
    """The score fields of `earning.Campaign` for a stored target."""
    return {
        "segments": frozenset(target.get("segments", [])),
        "churn_risk_bp": _score_range(target, "churn_risk"),
        "expected_value_fen": _score_range(target, "expected_value_fen"),
    }


def score_target_of(target: dict[str, Any]) -> Callable[[earning.MemberScore | None], bool] | None:
    """For a stored target with segments or score ranges, the test a member's scores must
    pass (None scores never do); None when the target names no scores."""
    spec = earning.Campaign(
        code="",
        starts_on=date.min,
        ends_on=date.min,
        multiplier_bp=earning.BP,
        bonus_points=0,
        per_member_cap=None,
        budget_remaining=0,
        holdout_pct=0,
        **campaign_spec_target(target),
    )
    return spec.scores_match if spec.needs_scores else None


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
