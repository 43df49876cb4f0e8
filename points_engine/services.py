"""Ledger use cases, one function each, run in the caller's unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common import idempotency
from common.clock import business_date, end_of_day, end_of_next_year, start_of_day, to_utc, utcnow
from common.errors import (
    Conflict,
    DomainError,
    InconsistentFields,
    Invalid,
    NotFound,
    UnknownReference,
    combined,
)
from common.event_time import EventWindow
from common.organisation import Category, Institution, category_codes, codes, institution_codes
from common.reference_cache import reference_cache
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    AccountRef,
    LedgerBook,
    MemberAccounts,
    SystemAccountRef,
    new_txn_id,
)
from points_engine.domain import earning
from points_engine.domain.accounts import (
    ORDER_POINTS_REWARD,
    AccountKind,
    LotStatus,
    PostingType,
    campaign_account_code,
    issuance_account_code,
    reward_account,
)
from points_engine.domain.errors import (
    AlreadyCancelled,
    InsufficientPoints,
    NoEarningRuleFor,
    OutOfStock,
    PointsDebtOutstanding,
    RefundExceedsOriginal,
    UnknownAccrual,
    UnknownReward,
)
from points_engine.domain.lots import cumulative_reversal, split_proportionally

# Hand-made credits are booked as issued by the company itself, not by an outlet.
ADJUSTING_INSTITUTION = "SH"
BUSINESS_TYPES = ("goods", "bill_payment", "mailing", "subscription", "philately", "service")
REWARD_KINDS = ("goods", "voucher", "bill_credit", "partner_miles")


# -- ports and commands -----------------------------------------------------------


@dataclass(frozen=True)
class MemberRef:
    member_no: str | None = None
    phone: str | None = None
    card_no: str | None = None


@dataclass(frozen=True)
class MemberInfo:
    member_id: int
    member_no: str
    tier: str


class MemberDirectory(Protocol):
    """Resolves a member reference (following merges) inside the caller's session."""

    def resolve(self, uow: UnitOfWork, ref: MemberRef, field: str) -> MemberInfo: ...

    def resolve_many(
        self, uow: UnitOfWork, refs: Sequence[MemberRef], field: str
    ) -> list[MemberInfo | DomainError]:
        """`resolve` for many references in a few queries; a failure is returned, not raised."""
        ...

    def by_id(self, uow: UnitOfWork, member_id: int) -> MemberInfo: ...

    def tiers_of(self, uow: UnitOfWork, member_ids: Sequence[int]) -> dict[int, str]:
        """The stored tier of each of these member ids (as recorded, merges not followed)."""
        ...


@dataclass(frozen=True)
class AccrualLine:
    sku: str
    quantity: int
    amount_fen: int
    category: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # As dataclasses.asdict would give it, without its deep copy (a hot path).
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "amount_fen": self.amount_fen,
            "category": self.category,
        }


@dataclass(frozen=True)
class AccrualCommand:
    external_id: str
    member: MemberRef
    institution_code: str
    occurred_at: datetime
    business_type: str
    lines: tuple[AccrualLine, ...]
    total_fen: int
    payment_method: str | None = None
    # Commerce orders hold their points pending until fulfilment, whatever the rule's
    # return window; `schedule_release` later moves the date to the real one.
    held_until: date | None = None


@dataclass(frozen=True)
class RefundCommand:
    external_id: str
    original_external_id: str
    amount_fen: int


@dataclass(frozen=True)
class RedemptionCommand:
    external_id: str
    member_no: str
    reward_code: str
    quantity: int = 1


@dataclass(frozen=True)
class Written:
    """What a write use case answers: the body, and whether it was a replay of an earlier write."""

    body: dict[str, Any]
    replayed: bool = False


def _as_of(as_of: date | None) -> date:
    return as_of if as_of is not None else business_date(utcnow())


def _public_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:20].upper()


# -- accrual ------------------------------------------------------------------------


def accrue_points(
    uow: UnitOfWork,
    directory: MemberDirectory,
    channel: str,
    command: AccrualCommand,
    *,
    window: EventWindow | None = None,
    commit: bool = True,
) -> Written:
    """Earn points for a purchase; idempotent per channel + external_id.

    Everything that can reject the request is checked before anything is written.
    With `window` (a channel's event), `occurred_at` must lie in it. Raises Invalid
    (unknown institution, category or member; no earning rule; totals that do not add
    up; amounts not positive), EventTimeOutOfRange, Conflict (external_id reused with
    another payload).
    """
    if window is not None:
        window.check(command.occurred_at, utcnow())
    prepared = _prepare_accrual(uow, directory, channel, command)
    claim = idempotency.claim(
        uow.session, f"channel:{channel}", "accrual", command.external_id, prepared.fingerprint
    )
    if isinstance(claim, idempotency.Replay):
        return Written(claim.body, replayed=True)
    book = LedgerBook(uow.session)
    accounts = book.lock_member(prepared.member.member_id)
    body = _apply_accrual(uow, directory, prepared, accounts, _CampaignDays())
    idempotency.complete(uow.session, claim, 201, body)
    if commit:
        uow.commit()
    return Written(body)


def accrue_many(
    uow: UnitOfWork,
    directory: MemberDirectory,
    channel: str,
    commands: Sequence[AccrualCommand],
    authorise: Callable[[AccrualCommand], None],
    *,
    window: EventWindow | None = None,
) -> list[Written | DomainError]:
    """Many accruals in one transaction; each stands alone and gets its own outcome.

    An item that fails (`authorise` raising, invalid, or a conflicting replay) changes
    nothing and does not stop the others. Items are applied in member order so that
    concurrent batches lock shared members in the same order and cannot deadlock;
    outcomes come back in the order given. Reference data, campaign windows and the
    locks of a member seen twice are read once per batch, and everything is flushed
    together at the end.
    """
    outcomes: list[Written | DomainError | None] = [None] * len(commands)
    checked: list[int] = []
    now = utcnow()
    for index, command in enumerate(commands):
        try:
            authorise(command)
            if window is not None:
                window.check(command.occurred_at, now)
            _validate_accrual(uow, command)
            checked.append(index)
        except DomainError as error:
            outcomes[index] = error
    members = directory.resolve_many(uow, [commands[i].member for i in checked], "member")
    prepared: dict[int, _PreparedAccrual] = {}
    for index, member in zip(checked, members, strict=True):
        try:
            if isinstance(member, DomainError):
                raise member
            prepared[index] = _prepare_accrual(uow, directory, channel, commands[index], member)
        except DomainError as error:
            outcomes[index] = error
    # The first use of an external_id in the request is the one applied; later uses
    # replay it (same payload) or conflict with it.
    first_use: dict[str, int] = {}
    for index in sorted(prepared):
        first_use.setdefault(prepared[index].command.external_id, index)
    session = uow.session
    claims = idempotency.claim_many(
        session,
        f"channel:{channel}",
        "accrual",
        [(prepared[i].command.external_id, prepared[i].fingerprint) for i in first_use.values()],
    )
    fresh: list[int] = []
    for external_id, index in first_use.items():
        claim = claims[external_id]
        if isinstance(claim, Conflict):
            outcomes[index] = claim
        elif isinstance(claim, idempotency.Replay):
            outcomes[index] = Written(claim.body, replayed=True)
        else:
            fresh.append(index)
    book = LedgerBook(session)
    locked = book.lock_members(prepared[index].member.member_id for index in fresh)
    campaign_days = _CampaignDays()
    campaign_days.read_awards(
        session,
        {prepared[index].earned_on for index in fresh},
        {accounts.member_id for accounts in locked.values()},
    )
    answers: list[tuple[idempotency.Claim, int, dict[str, Any]]] = []
    # Nothing is flushed until the end: one INSERT per table for the whole batch.
    with session.no_autoflush:
        for index in sorted(fresh, key=lambda i: (prepared[i].member.member_id, i)):
            item = prepared[index]
            accounts = locked[item.member.member_id]
            body = _apply_accrual(uow, directory, item, accounts, campaign_days)
            claim = claims[item.command.external_id]
            assert isinstance(claim, idempotency.Claim)
            answers.append((claim, 201, body))
            outcomes[index] = Written(body)
    session.flush()
    idempotency.complete_many(session, answers)
    for index, item in prepared.items():
        first = first_use[item.command.external_id]
        if first != index:
            outcomes[index] = _repeat_in_batch(item, prepared[first], outcomes[first])
    uow.commit()
    return [outcome for outcome in outcomes if outcome is not None]


def _repeat_in_batch(
    item: _PreparedAccrual, first: _PreparedAccrual, first_outcome: Written | DomainError | None
) -> Written | DomainError:
    if item.fingerprint != first.fingerprint:
        return Conflict(
            f"external_id {item.command.external_id!r} was already used with a different payload"
        )
    if isinstance(first_outcome, Written):
        return Written(first_outcome.body, replayed=True)
    assert first_outcome is not None
    return first_outcome


@dataclass(frozen=True)
class _PreparedAccrual:
    """An accrual that passed every check; applying it can no longer be refused."""

    command: AccrualCommand
    channel: str
    member: MemberInfo
    occurred_at: datetime
    earned_on: date
    rules: tuple[earning.EarningRule, ...]
    fingerprint: str


def _prepare_accrual(
    uow: UnitOfWork,
    directory: MemberDirectory,
    channel: str,
    command: AccrualCommand,
    member: MemberInfo | None = None,
) -> _PreparedAccrual:
    """Check everything that can refuse the accrual; `member` when already resolved."""
    _validate_accrual(uow, command)
    if member is None:
        member = directory.resolve(uow, command.member, "member")
    rules = tuple(
        rule for rule in earning_rules(uow.session) if rule.business_type == command.business_type
    )
    for index, line in enumerate(command.lines):
        try:
            earning.best_rule(rules, command.business_type, channel, line.category)
        except earning.NoEarningRule as error:
            raise NoEarningRuleFor.field(f"lines[{index}].category", str(error)) from error
    occurred_at = to_utc(command.occurred_at)
    return _PreparedAccrual(
        command=command,
        channel=channel,
        member=member,
        occurred_at=occurred_at,
        earned_on=business_date(occurred_at),
        rules=rules,
        fingerprint=idempotency.fingerprint(command),
    )


def _validate_accrual(uow: UnitOfWork, command: AccrualCommand) -> None:
    errors: list[Invalid] = []
    if command.business_type not in BUSINESS_TYPES:
        errors.append(Invalid.field("business_type", f"must be one of {', '.join(BUSINESS_TYPES)}"))
    if command.institution_code not in institution_codes(uow.session):
        errors.append(UnknownReference.field("institution_code", "unknown institution"))
    if not command.lines:
        errors.append(Invalid.field("lines", "at least one line is required"))
    known_categories = category_codes(uow.session)
    for index, line in enumerate(command.lines):
        if line.amount_fen <= 0:
            errors.append(Invalid.field(f"lines[{index}].amount_fen", "must be greater than 0"))
        if line.quantity <= 0:
            errors.append(Invalid.field(f"lines[{index}].quantity", "must be greater than 0"))
        if line.category is not None and line.category not in known_categories:
            errors.append(Invalid.field(f"lines[{index}].category", "unknown category"))
    if command.lines and command.total_fen != sum(line.amount_fen for line in command.lines):
        errors.append(
            InconsistentFields.field("total_fen", "must equal the sum of lines[].amount_fen")
        )
    if command.occurred_at.tzinfo is None:
        errors.append(Invalid.field("occurred_at", "must carry a UTC offset"))
    if errors:
        raise combined(errors)


def earning_rules(session: Session) -> tuple[earning.EarningRule, ...]:
    def load() -> tuple[earning.EarningRule, ...]:
        return tuple(
            earning.EarningRule(
                r.code,
                r.business_type,
                r.channel,
                r.category,
                r.points,
                r.per_fen,
                r.fixed_points,
                r.pending_days,
                r.description,
            )
            for r in session.scalars(
                select(orm.EarningRule).where(orm.EarningRule.active.is_(True))
            )
        )

    return reference_cache.get(session, "earning_rules", load)


def tier_multiplier(session: Session, tier: str) -> int:
    multipliers = reference_cache.get(
        session,
        "tier_multipliers",
        lambda: {
            tier: multiplier_bp
            for tier, multiplier_bp in session.execute(
                select(orm.TierMultiplier.tier, orm.TierMultiplier.multiplier_bp)
            )
        },
    )
    return multipliers.get(tier, earning.BP)


def _issuance_account(book: LedgerBook, institution_code: str) -> AccountRef:
    session = book.session
    ids = reference_cache.get(
        session,
        "issuance_accounts",
        lambda: {
            code: account_id
            for code, account_id in session.execute(
                select(orm.Account.institution_code, orm.Account.id).where(
                    orm.Account.kind == AccountKind.ISSUANCE.value
                )
            )
        },
    )
    if institution_code in ids:
        return SystemAccountRef(ids[institution_code], AccountKind.ISSUANCE.value)
    return book.system_account(
        issuance_account_code(institution_code), AccountKind.ISSUANCE, institution_code
    )


class _CampaignDays:
    """What one transaction's accruals know of campaigns: those running on each business
    day, the budget accounts locked so far and the members' awards read or written so far.

    A batch of accruals therefore locks a budget once, and sees the awards of its own
    earlier items without flushing them: the locks are held until the transaction ends,
    and the member's own accounts are locked, so no other transaction changes either.
    """

    def __init__(self) -> None:
        self._by_day: dict[date, _RunningCampaigns] = {}
        self._locked: dict[int, orm.Account] = {}
        self._awards: dict[tuple[int, int], orm.CampaignAward | None] = {}

    def on(self, session: Session, day: date) -> _RunningCampaigns:
        if day not in self._by_day:
            self._by_day[day] = _running_campaigns(session, day)
        return self._by_day[day]

    def lock(
        self, book: LedgerBook, running: _RunningCampaigns, wanted: set[str]
    ) -> dict[str, orm.Account]:
        """Lock the budget accounts of `wanted` not locked yet, in account order."""
        chosen = sorted((r for r in running.rows if r.code in wanted), key=lambda r: r.account_id)
        for row in chosen:
            if row.account_id not in self._locked:
                self._locked[row.account_id] = book.lock(row.account_id)
        return {row.code: self._locked[row.account_id] for row in chosen}

    def read_awards(self, session: Session, days: Iterable[date], member_ids: set[int]) -> None:
        """Read at once what these members got so far from the campaigns running on these
        days (a batch would otherwise ask once per member). The members must be locked."""
        campaign_ids = {row.id for day in days for row in self.on(session, day).rows}
        if not campaign_ids or not member_ids:
            return
        found = {
            (award.campaign_id, award.member_id): award
            for award in session.scalars(
                select(orm.CampaignAward).where(
                    orm.CampaignAward.member_id.in_(member_ids),
                    orm.CampaignAward.campaign_id.in_(campaign_ids),
                )
            )
        }
        for campaign_id in campaign_ids:
            for member_id in member_ids:
                key = (campaign_id, member_id)
                self._awards.setdefault(key, found.get(key))

    def awarded(
        self, session: Session, member_id: int, rows: Sequence[orm.Campaign]
    ) -> dict[str, int]:
        """What the member got from each of these campaigns so far, by campaign code."""
        unread = [row.id for row in rows if (row.id, member_id) not in self._awards]
        if unread:
            found = {
                award.campaign_id: award
                for award in session.scalars(
                    select(orm.CampaignAward).where(
                        orm.CampaignAward.member_id == member_id,
                        orm.CampaignAward.campaign_id.in_(unread),
                    )
                )
            }
            for campaign_id in unread:
                self._awards[(campaign_id, member_id)] = found.get(campaign_id)
        return {
            row.code: award.points
            for row in rows
            if (award := self._awards[(row.id, member_id)]) is not None
        }

    def add(self, session: Session, campaign: orm.Campaign, member_id: int, points: int) -> None:
        """Add to the member's running total (read by `awarded` first)."""
        award = self._awards[(campaign.id, member_id)]
        if award is None:
            award = orm.CampaignAward(campaign_id=campaign.id, member_id=member_id, points=points)
            session.add(award)
            self._awards[(campaign.id, member_id)] = award
        else:
            award.points += points


def _apply_accrual(
    uow: UnitOfWork,
    directory: MemberDirectory,
    prepared: _PreparedAccrual,
    accounts: MemberAccounts,
    campaign_days: _CampaignDays,
) -> dict[str, Any]:
    session = uow.session
    book = LedgerBook(session)
    command = prepared.command
    member = prepared.member
    if accounts.member_id != member.member_id:
        member = directory.by_id(uow, accounts.member_id)  # merged while we waited
    context = earning.AccrualContext(
        member_id=accounts.member_id,
        tier=member.tier,
        tier_multiplier_bp=tier_multiplier(session, member.tier),
        business_type=command.business_type,
        channel=prepared.channel,
        occurred_on=prepared.earned_on,
        lines=[
            earning.Line(line.sku, line.category, line.quantity, line.amount_fen)
            for line in command.lines
        ],
    )
    # First pass without campaign locks to learn which campaigns would award anything;
    # only those budget accounts are locked and the rules re-run on the locked
    # balances, so accruals outside a campaign never queue on it.
    running = campaign_days.on(session, prepared.earned_on)
    evaluation = earning.evaluate(context, prepared.rules, running.specs(), {})
    awarding = {a.campaign_code for a in evaluation.campaign_awards}
    budgets: dict[str, orm.Account] = {}
    if awarding:
        budgets = campaign_days.lock(book, running, awarding)
        awarded = campaign_days.awarded(
            session, accounts.member_id, [running.row(code) for code in budgets]
        )
        # Campaigns that awarded nothing stay in, unlocked and unchanged, so the
        # breakdown still says why (budget spent, holdout); they award nothing again.
        evaluation = earning.evaluate(context, prepared.rules, running.specs(budgets), awarded)

    if command.held_until is not None:
        status, available_on = LotStatus.PENDING, max(command.held_until, prepared.earned_on)
    else:
        status = LotStatus.PENDING if evaluation.pending_days > 0 else LotStatus.AVAILABLE
        available_on = prepared.earned_on + timedelta(days=evaluation.pending_days)
    target = accounts.pending if status is LotStatus.PENDING else accounts.available
    in_debt = accounts.available.balance < 0
    breakdown = [item.as_dict() for item in evaluation.breakdown]
    sources: list[dict[str, Any]] = []
    accrual_no = _public_id("AC")
    txn = new_txn_id()
    reference = f"accrual:{accrual_no}"
    postings: list[tuple[AccountRef, int]] = []
    if evaluation.issuance_points:
        issuance = _issuance_account(book, command.institution_code)
        postings.append((issuance, evaluation.issuance_points))
        sources.append({"account_id": issuance.id, "points": evaluation.issuance_points})
    for award in evaluation.campaign_awards:
        campaign_row, budget = running.row(award.campaign_code), budgets[award.campaign_code]
        postings.append((budget, award.points))
        sources.append(
            {"account_id": budget.id, "points": award.points, "campaign_id": campaign_row.id}
        )
        campaign_days.add(session, campaign_row, accounts.member_id, award.points)
    for source, points in postings:
        book.post(
            txn_id=txn,
            type=PostingType.ACCRUAL,
            source=source,
            target=target,
            points=points,
            reference=reference,
            occurred_at=prepared.occurred_at,
            breakdown=breakdown,
        )
    accrual = orm.Accrual(
        accrual_no=accrual_no,
        channel=prepared.channel,
        external_id=command.external_id,
        member_id=accounts.member_id,
        institution_code=command.institution_code,
        business_type=command.business_type,
        occurred_at=prepared.occurred_at,
        total_fen=command.total_fen,
        refunded_fen=0,
        points=evaluation.total,
        points_reversed=0,
        status=status.value,
        available_on=available_on,
        sources=sources,
        breakdown=breakdown,
        lines=[line.as_dict() for line in command.lines],
        payment_method=command.payment_method,
    )
    session.add(accrual)
    if evaluation.total > 0:
        book.new_lot(
            target,
            points=evaluation.total,
            status=status,
            accrual=accrual,
            earned_on=prepared.earned_on,
            available_on=available_on,
            expires_on=end_of_next_year(prepared.earned_on),
            institution_code=command.institution_code,
        )
        if in_debt and status is LotStatus.AVAILABLE:
            book.settle_debt(accounts.available)

    body: dict[str, Any] = {
        "accrual_id": accrual_no,
        "member_no": member.member_no,
        "points": evaluation.total,
        "status": status.value,
        "breakdown": breakdown,
        "balance": _balance_body(accounts),
    }
    if status is LotStatus.PENDING:
        body["available_on"] = available_on.isoformat()
    return body


def _balance_body(accounts: MemberAccounts) -> dict[str, int]:
    """A negative available balance is shown as 0 available plus the debt owed."""
    balance = accounts.available.balance
    body = {"available": max(balance, 0), "pending": accounts.pending.balance}
    if balance < 0:
        body["negative_debt"] = -balance
    return body


@dataclass
class _RunningCampaigns:
    """The campaigns running on one day, with budgets as read without locks.

    Unlocked budgets only say which campaigns might award anything; those are then
    locked and their locked balances are what counts.
    """

    rows: list[orm.Campaign]
    budgets: dict[str, int]

    def specs(self, locked: dict[str, orm.Account] | None = None) -> list[earning.Campaign]:
        locked = locked or {}
        return [
            _campaign_spec(
                row, locked[row.code].balance if row.code in locked else self.budgets[row.code]
            )
            for row in self.rows
        ]

    def row(self, code: str) -> orm.Campaign:
        return next(row for row in self.rows if row.code == code)


def _running_campaigns(session: Session, day: date) -> _RunningCampaigns:
    rows = session.execute(
        select(orm.Campaign, orm.Account.balance)
        .join(orm.Account, orm.Account.id == orm.Campaign.account_id)
        .where(orm.Campaign.starts_on <= day, orm.Campaign.ends_on >= day)
    ).all()
    return _RunningCampaigns(
        [campaign for campaign, _ in rows],
        {campaign.code: int(balance) for campaign, balance in rows},
    )


def _campaign_spec(row: orm.Campaign, budget_remaining: int) -> earning.Campaign:
    target = row.target or {}
    return earning.Campaign(
        code=row.code,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        multiplier_bp=row.multiplier_bp,
        bonus_points=row.bonus_points,
        per_member_cap=row.per_member_cap,
        budget_remaining=budget_remaining,
        holdout_pct=row.holdout_pct,
        business_types=frozenset(target.get("business_types", [])),
        channels=frozenset(target.get("channels", [])),
        categories=frozenset(target.get("categories", [])),
        skus=frozenset(target.get("skus", [])),
        tiers=frozenset(target.get("tiers", [])),
    )


def _add_award(session: Any, campaign_id: int, member_id: int, points: int) -> None:
    # The member's accounts are locked, so no other transaction updates this row now.
    session.flush()
    award = session.scalars(
        select(orm.CampaignAward).where(
            orm.CampaignAward.campaign_id == campaign_id,
            orm.CampaignAward.member_id == member_id,
        )
    ).one_or_none()
    if award is None:
        session.add(orm.CampaignAward(campaign_id=campaign_id, member_id=member_id, points=points))
    else:
        award.points += points


# -- refund -------------------------------------------------------------------------


def refund_purchase(
    uow: UnitOfWork, channel: str, command: RefundCommand, *, commit: bool = True
) -> Written:
    """Reverse an accrual's points in proportion to the refunded amount.

    Pending points of that purchase go first, then its own available lot, then other
    lots FIFO by expiry; what the member already spent becomes a negative balance that
    blocks redemption. Raises UnknownAccrual, RefundExceedsOriginal, Conflict.
    """
    claim = idempotency.claim(
        uow.session,
        f"channel:{channel}",
        "refund",
        command.external_id,
        idempotency.fingerprint(command),
    )
    if isinstance(claim, idempotency.Replay):
        return Written(claim.body, replayed=True)
    if command.amount_fen <= 0:
        raise Invalid.field("amount_fen", "must be greater than 0")
    session = uow.session
    book = LedgerBook(session)
    accrual_id = session.scalar(
        select(orm.Accrual.id).where(
            orm.Accrual.channel == channel,
            orm.Accrual.external_id == command.original_external_id,
        )
    )
    if accrual_id is None:
        raise UnknownAccrual(
            f"no accrual {command.original_external_id!r} from channel {channel}",
            [Invalid.field("original_external_id", "no such accrual from this channel").errors[0]],
        )
    member_id = session.scalar(select(orm.Accrual.member_id).where(orm.Accrual.id == accrual_id))
    assert member_id is not None
    accounts = book.lock_member(member_id)
    accrual = session.scalars(
        select(orm.Accrual)
        .where(orm.Accrual.id == accrual_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    refundable = accrual.total_fen - accrual.refunded_fen
    if command.amount_fen > refundable:
        raise RefundExceedsOriginal(
            f"refund of {command.amount_fen} fen exceeds the {refundable} fen still refundable",
            Invalid.field("amount_fen", f"at most {refundable} fen can still be refunded").errors,
        )
    points = cumulative_reversal(
        accrual.points, accrual.total_fen, accrual.refunded_fen, command.amount_fen
    )
    refund = orm.Refund(
        refund_no=_public_id("RF"),
        channel=channel,
        external_id=command.external_id,
        accrual_id=accrual.id,
        amount_fen=command.amount_fen,
        points_reversed=points,
        created_at=utcnow(),
    )
    session.add(refund)
    _reverse_accrual_points(book, accounts, accrual, points, f"refund:{refund.refund_no}")
    accrual.refunded_fen += command.amount_fen
    accrual.points_reversed += points
    if accrual.refunded_fen == accrual.total_fen:
        accrual.status = "refunded"
    session.flush()
    body = {
        "refund_id": refund.refund_no,
        "accrual_id": accrual.accrual_no,
        "points_reversed": points,
        "balance": _balance_body(accounts),
    }
    idempotency.complete(uow.session, claim, 201, body)
    if commit:
        uow.commit()
    return Written(body)


@dataclass
class _Origin:
    account: orm.Account
    left: int


def _reverse_accrual_points(
    book: LedgerBook, accounts: MemberAccounts, accrual: orm.Accrual, points: int, reference: str
) -> None:
    if points == 0:
        return
    session = book.session
    lot = session.scalars(select(orm.Lot).where(orm.Lot.accrual_id == accrual.id)).one_or_none()
    from_pending = from_expired = 0
    if lot is not None and lot.status == LotStatus.PENDING.value:
        from_pending = min(points, lot.remaining)
        lot.remaining -= from_pending
        if lot.remaining == 0:
            lot.status = LotStatus.REVERSED.value
    short = points - from_pending
    if short and lot is not None and lot.status == LotStatus.AVAILABLE.value:
        _, short = book.take_from_lots([lot], short)
    if short and lot is not None and lot.expired > 0:
        # Points of this purchase that already expired are not the member's to give
        # back a second time: the reversal takes them out of breakage instead.
        from_expired = min(short, lot.expired)
        lot.expired -= from_expired
        short -= from_expired
    if short:
        others = [
            other
            for other in book.spendable_lots(accounts.available, date.min)
            if lot is None or other.id != lot.id
        ]
        book.take_from_lots(others, short)

    sources: list[dict[str, Any]] = accrual.sources or []
    if sum(int(s["points"]) for s in sources) != accrual.points:
        raise RuntimeError(
            f"accrual {accrual.accrual_no} does not record where its points came from"
        )
    parts = split_proportionally(points, [int(s["points"]) for s in sources])
    txn = new_txn_id()
    expiry = book.expiry_account()
    # Each source gets its share back, drawn first from pending, then from breakage,
    # then from the member's available balance (which may go negative).
    origins = [
        _Origin(accounts.pending, from_pending),
        _Origin(expiry, from_expired),
        _Origin(accounts.available, points - from_pending - from_expired),
    ]
    for source, part in zip(sources, parts, strict=True):
        target = (
            book.lock(int(source["account_id"]))
            if "campaign_id" in source
            else (session.get(orm.Account, int(source["account_id"])))
        )
        assert target is not None
        wanted = part
        for origin in origins:
            amount = min(wanted, origin.left)
            origin.left -= amount
            wanted -= amount
            book.post(
                txn_id=txn,
                type=PostingType.REVERSAL,
                source=origin.account,
                target=target,
                points=amount,
                reference=reference,
                occurred_at=utcnow(),
                breakdown={"accrual_id": accrual.accrual_no},
            )
        if "campaign_id" in source and part:
            session.execute(
                update(orm.CampaignAward)
                .where(
                    orm.CampaignAward.campaign_id == int(source["campaign_id"]),
                    orm.CampaignAward.member_id == accounts.member_id,
                )
                .values(points=orm.CampaignAward.points - part)
            )


# -- manual adjustments -------------------------------------------------------------


@dataclass(frozen=True)
class AdjustmentCommand:
    external_id: str
    member_no: str
    points: int
    reason: str


def adjust_points(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: AdjustmentCommand,
    *,
    actor: str,
    as_of: date | None = None,
) -> Written:
    """Credit or debit a member by hand (goodwill, corrections), against the adjustment account.

    A credit becomes a lot that expires like earned points; a debit spends lots FIFO by
    expiry and never makes a debt. Idempotent per actor + external_id. Raises Invalid
    (zero points, blank reason, unknown member), InsufficientPoints, Conflict.
    """
    if command.points == 0:
        raise Invalid.field("points", "must not be 0")
    if not command.reason.strip():
        raise Invalid.field("reason", "must say why")
    member = directory.resolve(uow, MemberRef(member_no=command.member_no), "member_no")
    claim = idempotency.claim(
        uow.session,
        f"staff:{actor}",
        "adjustment",
        command.external_id,
        idempotency.fingerprint(command),
    )
    if isinstance(claim, idempotency.Replay):
        return Written(claim.body, replayed=True)
    session = uow.session
    book = LedgerBook(session)
    accounts = book.lock_member(member.member_id)
    if accounts.member_id != member.member_id:
        member = directory.by_id(uow, accounts.member_id)
    day = _as_of(as_of)
    now = utcnow()
    reference = f"adjustment:{command.external_id}"
    breakdown = {"reason": command.reason.strip(), "by": actor}
    if command.points > 0:
        in_debt = accounts.available.balance < 0
        book.post(
            txn_id=new_txn_id(),
            type=PostingType.ADJUSTMENT,
            source=book.adjustment_account(),
            target=accounts.available,
            points=command.points,
            reference=reference,
            occurred_at=now,
            breakdown=breakdown,
        )
        session.add(
            orm.Lot(
                account_id=accounts.available.id,
                accrual_id=None,
                initial=command.points,
                remaining=command.points,
                expired=0,
                status=LotStatus.AVAILABLE.value,
                earned_on=day,
                available_on=day,
                expires_on=end_of_next_year(day),
                institution_code=ADJUSTING_INSTITUTION,
            )
        )
        if in_debt:
            book.settle_debt(accounts.available)
    else:
        wanted = -command.points
        lots = book.spendable_lots(accounts.available, day)
        spendable = sum(lot.remaining for lot in lots)
        if spendable < wanted:
            raise InsufficientPoints(
                f"cannot take {wanted} points: {spendable} available",
                Invalid.field("points", f"at most {spendable} points can be taken").errors,
            )
        book.take_from_lots(lots, wanted)
        book.post(
            txn_id=new_txn_id(),
            type=PostingType.ADJUSTMENT,
            source=accounts.available,
            target=book.adjustment_account(),
            points=wanted,
            reference=reference,
            occurred_at=now,
            breakdown=breakdown,
        )
    session.flush()
    body = {
        "member_no": member.member_no,
        "points": command.points,
        "reason": command.reason.strip(),
        "balance": _balance_body(accounts),
    }
    idempotency.complete(session, claim, 201, body)
    uow.commit()
    return Written(body)


# -- rewards and redemption --------------------------------------------------------


def redeem_reward(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: RedemptionCommand,
    *,
    scope: str,
    channel: str | None,
    institution_code: str | None = None,
    as_of: date | None = None,
) -> Written:
    """Spend points on a reward, consuming lots FIFO by expiry.

    `channel` and `institution_code` are the key that redeemed for the member (None
    when the member did it themself); only they may cancel it later.

    Raises UnknownReward, InsufficientPoints, PointsDebtOutstanding, OutOfStock.
    """
    claim = idempotency.claim(
        uow.session,
        scope,
        "redemption",
        command.external_id,
        idempotency.fingerprint(command),
    )
    if isinstance(claim, idempotency.Replay):
        return Written(claim.body, replayed=True)
    if command.quantity <= 0:
        raise Invalid.field("quantity", "must be greater than 0")
    session = uow.session
    book = LedgerBook(session)
    day = _as_of(as_of)
    reward = session.get(orm.Reward, command.reward_code)
    if reward is None or not reward.active:
        raise UnknownReward(
            f"unknown reward {command.reward_code!r}",
            Invalid.field("reward_code", "unknown reward").errors,
        )
    member = directory.resolve(uow, MemberRef(member_no=command.member_no), "member_no")
    accounts = book.lock_member(member.member_id)
    cost = reward.points_cost * command.quantity
    if accounts.available.balance < 0:
        raise PointsDebtOutstanding(
            f"the member owes {-accounts.available.balance} points from refunds; "
            "redemption is blocked until the balance is back to zero"
        )
    lots = book.spendable_lots(accounts.available, day)
    spendable = sum(lot.remaining for lot in lots)
    if spendable < cost:
        raise InsufficientPoints(
            f"{cost} points needed, {spendable} available",
            Invalid.field("quantity", f"{cost} points needed, {spendable} available").errors,
        )
    reward = session.scalars(
        select(orm.Reward)
        .where(orm.Reward.code == reward.code)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if reward.stock is not None:
        if reward.stock < command.quantity:
            raise OutOfStock(f"only {reward.stock} of {reward.code} left")
        reward.stock -= command.quantity
    takes, short = book.take_from_lots(lots, cost)
    assert short == 0
    redemption = orm.Redemption(
        redemption_no=_public_id("RD"),
        member_id=accounts.member_id,
        reward_code=reward.code,
        quantity=command.quantity,
        points_spent=cost,
        cash_fen=reward.cash_fen * command.quantity,
        status="completed",
        channel=channel,
        institution_code=institution_code,
        created_at=utcnow(),
    )
    session.add(redemption)
    session.flush()
    session.add_all(
        orm.LotConsumption(redemption_id=redemption.id, lot_id=t.lot_id, points=t.points)
        for t in takes
    )
    target = book.system_account(*reward_account(reward.code, reward.kind))
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.REDEMPTION,
        source=accounts.available,
        target=target,
        points=cost,
        reference=f"redemption:{redemption.redemption_no}",
        occurred_at=redemption.created_at,
        breakdown={"reward_code": reward.code, "quantity": command.quantity},
    )
    session.flush()
    body = {
        "redemption_id": redemption.redemption_no,
        "member_no": member.member_no,
        "reward_code": reward.code,
        "quantity": command.quantity,
        "points_spent": cost,
        "cash_fen": redemption.cash_fen,
        "status": redemption.status,
        "balance": _balance_body(accounts),
    }
    idempotency.complete(uow.session, claim, 201, body)
    uow.commit()
    return Written(body)


def pay_with_points(
    uow: UnitOfWork,
    *,
    member_id: int,
    points: int,
    cash_fen: int,
    reference: str,
    channel: str | None,
    field: str = "payment.points",
    as_of: date | None = None,
) -> str:
    """Spend points as part of an order's payment (FIFO by expiry); returns the redemption number.

    Recorded as a redemption of the hidden ORDER-POINTS reward, so `return_order_points`
    gives the points back to the lots they came from. Does not commit. Raises
    PointsDebtOutstanding, InsufficientPoints (naming `field`).
    """
    session = uow.session
    book = LedgerBook(session)
    accounts = book.lock_member(member_id)
    if accounts.available.balance < 0:
        raise PointsDebtOutstanding(
            f"the member owes {-accounts.available.balance} points from refunds; "
            "paying with points is blocked until the balance is back to zero"
        )
    lots = book.spendable_lots(accounts.available, _as_of(as_of))
    spendable = sum(lot.remaining for lot in lots)
    if spendable < points:
        raise InsufficientPoints(
            f"{points} points needed, {spendable} available",
            Invalid.field(field, f"{points} points needed, {spendable} available").errors,
        )
    takes, short = book.take_from_lots(lots, points)
    assert short == 0
    redemption = orm.Redemption(
        redemption_no=_public_id("RD"),
        member_id=member_id,
        reward_code=ORDER_POINTS_REWARD,
        quantity=points,
        points_spent=points,
        cash_fen=cash_fen,
        status="completed",
        channel=channel,
        created_at=utcnow(),
    )
    session.add(redemption)
    session.flush()
    session.add_all(
        orm.LotConsumption(redemption_id=redemption.id, lot_id=t.lot_id, points=t.points)
        for t in takes
    )
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.REDEMPTION,
        source=accounts.available,
        target=book.system_account(*reward_account(ORDER_POINTS_REWARD, "voucher")),
        points=points,
        reference=f"redemption:{redemption.redemption_no}",
        occurred_at=redemption.created_at,
        breakdown={"reward_code": ORDER_POINTS_REWARD, "order": reference},
    )
    session.flush()
    return redemption.redemption_no


def return_order_points(
    uow: UnitOfWork, directory: MemberDirectory, redemption_no: str, *, as_of: date | None = None
) -> dict[str, Any]:
    """Give an order's points back to their lots (expired lots' share to expiry). No commit."""
    return cancel_redemption(uow, directory, redemption_no, as_of=as_of, commit=False)


def cancel_redemption(
    uow: UnitOfWork,
    directory: MemberDirectory,
    redemption_no: str,
    *,
    as_of: date | None = None,
    commit: bool = True,
) -> dict[str, Any]:
    """Give a redemption's points back to the lots they came from.

    Points of a lot that has expired since go to the expiry account instead. Raises
    NotFound, AlreadyCancelled.
    """
    session = uow.session
    book = LedgerBook(session)
    day = _as_of(as_of)
    found = session.scalars(
        select(orm.Redemption).where(orm.Redemption.redemption_no == redemption_no)
    ).one_or_none()
    if found is None:
        raise NotFound(f"unknown redemption {redemption_no!r}")
    owner = book.lock_member(found.member_id)
    redemption = session.scalars(
        select(orm.Redemption)
        .where(orm.Redemption.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if redemption.status == "cancelled":
        raise AlreadyCancelled(f"redemption {redemption_no} is already cancelled")
    consumptions = list(
        session.scalars(
            select(orm.LotConsumption).where(orm.LotConsumption.redemption_id == redemption.id)
        )
    )
    lots = {
        lot.id: lot
        for lot in session.scalars(
            select(orm.Lot).where(orm.Lot.id.in_([c.lot_id for c in consumptions]))
        )
    }
    returned = expired = 0
    for consumption in consumptions:
        lot = lots[consumption.lot_id]
        if lot.status == LotStatus.EXPIRED.value or lot.expires_on < day:
            expired += consumption.points
        else:
            lot.remaining += consumption.points
            returned += consumption.points
    reward = session.scalars(
        select(orm.Reward).where(orm.Reward.code == redemption.reward_code).with_for_update()
    ).one()
    source = book.system_account(*reward_account(reward.code, reward.kind))
    txn = new_txn_id()
    reference = f"redemption_cancel:{redemption.redemption_no}"
    in_debt = owner.available.balance < 0
    now = utcnow()
    book.post(
        txn_id=txn,
        type=PostingType.REDEMPTION_CANCEL,
        source=source,
        target=owner.available,
        points=returned,
        reference=reference,
        occurred_at=now,
    )
    book.post(
        txn_id=txn,
        type=PostingType.EXPIRY,
        source=source,
        target=book.expiry_account(),
        points=expired,
        reference=reference,
        occurred_at=now,
        breakdown={"reason": "lot expired before the redemption was cancelled"},
    )
    if in_debt:
        book.settle_debt(owner.available)
    if reward.stock is not None:
        reward.stock += redemption.quantity
    redemption.status = "cancelled"
    redemption.cancelled_at = now
    session.flush()
    member = directory.by_id(uow, owner.member_id)
    body = {
        "redemption_id": redemption.redemption_no,
        "member_no": member.member_no,
        "status": "cancelled",
        "points_returned": returned,
        "points_expired": expired,
        "balance": _balance_body(owner),
    }
    if commit:
        uow.commit()
    return body


def add_reward(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    name_en: str,
    kind: str,
    points_cost: int,
    cash_fen: int,
    stock: int | None,
) -> dict[str, Any]:
    """Add a reward to the catalogue. Raises Invalid, Conflict (code taken)."""
    if kind not in REWARD_KINDS:
        raise Invalid.field("kind", f"must be one of {', '.join(REWARD_KINDS)}")
    if points_cost <= 0:
        raise Invalid.field("points_cost", "must be greater than 0")
    if cash_fen < 0:
        raise Invalid.field("cash_fen", "must not be negative")
    if stock is not None and stock < 0:
        raise Invalid.field("stock", "must not be negative")
    if uow.session.get(orm.Reward, code) is not None:
        raise Conflict(f"reward {code!r} already exists")
    reward = orm.Reward(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        points_cost=points_cost,
        cash_fen=cash_fen,
        stock=stock,
        active=True,
    )
    uow.session.add(reward)
    LedgerBook(uow.session).system_account(*reward_account(code, kind))
    uow.commit()
    return reward_body(reward)


def reward_body(reward: orm.Reward) -> dict[str, Any]:
    return {
        "code": reward.code,
        "name": reward.name,
        "name_en": reward.name_en,
        "kind": reward.kind,
        "points_cost": reward.points_cost,
        "cash_fen": reward.cash_fen,
        "stock": reward.stock,
    }


# -- campaigns ----------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCommand:
    code: str
    name: str
    name_en: str
    starts_on: date
    ends_on: date
    budget_points: int
    multiplier_bp: int = earning.BP
    bonus_points: int = 0
    per_member_cap: int | None = None
    holdout_pct: int = 0
    business_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    funded_by: str = "SH"


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


def create_campaign(uow: UnitOfWork, command: CampaignCommand) -> dict[str, Any]:
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
    body = campaign_body(row, budget.balance)
    uow.commit()
    return body


def campaign_body(row: orm.Campaign, budget_remaining: int) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "name_en": row.name_en,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "target": row.target,
        "multiplier_bp": row.multiplier_bp,
        "bonus_points": row.bonus_points,
        "per_member_cap": row.per_member_cap,
        "budget_points": row.budget_points,
        "budget_remaining": budget_remaining,
        "holdout_pct": row.holdout_pct,
    }


# -- members' accounts: open and merge ------------------------------------------------


def open_member_accounts(uow: UnitOfWork, member_id: int) -> None:
    LedgerBook(uow.session).open_member_accounts(member_id)


def open_accounts_for_members(uow: UnitOfWork, member_ids: Sequence[int]) -> None:
    """`open_member_accounts` for many new members, in a few statements. Does not commit."""
    LedgerBook(uow.session).open_accounts_for_members(member_ids)


def merge_member_accounts(uow: UnitOfWork, absorbed_id: int, survivor_id: int) -> int:
    """Move the absorbed member's points, lots and campaign totals to the survivor.

    Lots keep their expiry dates. A negative balance moves too and is settled against the
    survivor's lots. The absorbed accounts stay, closed, pointing at the survivor's.
    Returns the points moved.
    """
    session = uow.session
    book = LedgerBook(session)
    locked = book.lock_members([absorbed_id, survivor_id])
    absorbed, survivor = locked[absorbed_id], locked[survivor_id]
    if absorbed.available.id == survivor.available.id:
        raise Conflict("the two members already share one points account")
    txn = new_txn_id()
    reference = f"merge:{absorbed_id}->{survivor_id}"
    now = utcnow()
    moved = absorbed.available.balance
    for source, target in (
        (absorbed.available, survivor.available),
        (absorbed.pending, survivor.pending),
    ):
        if source.balance > 0:
            book.post(
                txn_id=txn,
                type=PostingType.MERGE,
                source=source,
                target=target,
                points=source.balance,
                reference=reference,
                occurred_at=now,
            )
        elif source.balance < 0:
            book.post(
                txn_id=txn,
                type=PostingType.MERGE,
                source=target,
                target=source,
                points=-source.balance,
                reference=reference,
                occurred_at=now,
            )
        session.execute(
            update(orm.Lot).where(orm.Lot.account_id == source.id).values(account_id=target.id)
        )
        source.status = "merged"
        source.merged_into_id = target.id
    for award in session.scalars(
        select(orm.CampaignAward).where(orm.CampaignAward.member_id == absorbed.member_id)
    ).all():
        _add_award(session, award.campaign_id, survivor.member_id, award.points)
        award.points = 0
    session.flush()
    session.expire_all()
    book.settle_debt(book.lock(survivor.available.id))
    return moved


# -- jobs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobReport:
    released_lots: int = 0
    released_points: int = 0
    expired_lots: int = 0
    expired_points: int = 0


def release_due_pending(uow: UnitOfWork, lot_ids: Sequence[int], as_of: date) -> JobReport:
    """Make pending lots available once their return window has passed (idempotent)."""
    session = uow.session
    book = LedgerBook(session)
    released = points = 0
    for lot_id in lot_ids:
        owner_id = session.scalar(
            select(orm.Account.member_id)
            .join(orm.Lot, orm.Lot.account_id == orm.Account.id)
            .where(orm.Lot.id == lot_id)
        )
        assert owner_id is not None
        accounts = book.lock_member(owner_id)
        lot = session.scalars(
            select(orm.Lot)
            .where(orm.Lot.id == lot_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if lot.status != LotStatus.PENDING.value or lot.available_on > as_of:
            continue
        points += _release_lot(book, accounts, lot)
        released += 1
    uow.commit()
    return JobReport(released_lots=released, released_points=points)


def _release_lot(book: LedgerBook, accounts: MemberAccounts, lot: orm.Lot) -> int:
    """Move one pending lot to available (paying any debt first); returns its points."""
    in_debt = accounts.available.balance < 0
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.RELEASE,
        source=accounts.pending,
        target=accounts.available,
        points=lot.remaining,
        reference=f"release:lot:{lot.id}",
        occurred_at=start_of_day(lot.available_on),
    )
    lot.account_id = accounts.available.id
    lot.status = LotStatus.AVAILABLE.value
    if lot.accrual_id is not None:
        book.session.execute(
            update(orm.Accrual)
            .where(orm.Accrual.id == lot.accrual_id, orm.Accrual.status == "pending")
            .values(status="available")
        )
    released = lot.remaining
    # A debt is paid from the released points afterwards; they were released all the same.
    if in_debt:
        book.settle_debt(accounts.available)
    return released


def schedule_release(
    uow: UnitOfWork, channel: str, external_id: str, available_on: date, as_of: date
) -> int:
    """Set when a held accrual's pending points become available; release now if due.

    Used when an order is collected or delivered: the return window starts then.
    Does not commit (it is one step of the caller's use case). Returns the points
    released now; an unknown accrual or one with nothing pending releases nothing.
    """
    session = uow.session
    accrual_id, member_id = session.execute(
        select(orm.Accrual.id, orm.Accrual.member_id).where(
            orm.Accrual.channel == channel, orm.Accrual.external_id == external_id
        )
    ).one_or_none() or (None, None)
    if accrual_id is None or member_id is None:
        return 0
    book = LedgerBook(session)
    accounts = book.lock_member(member_id)
    accrual = session.get(orm.Accrual, accrual_id)
    assert accrual is not None
    lots = session.scalars(
        select(orm.Lot)
        .where(orm.Lot.accrual_id == accrual_id, orm.Lot.status == LotStatus.PENDING.value)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    released = 0
    for lot in lots:
        lot.available_on = available_on
        if available_on <= as_of:
            released += _release_lot(book, accounts, lot)
    if accrual.status == "pending":
        accrual.available_on = available_on
    session.flush()
    return released


def expire_due_lots(uow: UnitOfWork, account_id: int, as_of: date) -> JobReport:
    """Post the unspent rest of one account's lots that expired before `as_of` (idempotent)."""
    session = uow.session
    book = LedgerBook(session)
    member_id = session.scalar(select(orm.Account.member_id).where(orm.Account.id == account_id))
    assert member_id is not None
    accounts = book.lock_member(member_id)
    lots = list(
        session.scalars(
            select(orm.Lot)
            .where(
                orm.Lot.account_id == accounts.available.id,
                orm.Lot.status == LotStatus.AVAILABLE.value,
                orm.Lot.expires_on < as_of,
            )
            .order_by(orm.Lot.expires_on, orm.Lot.id)
        )
    )
    expiry = book.expiry_account()
    txn = new_txn_id()
    expired_points = 0
    for lot in lots:
        book.post(
            txn_id=txn,
            type=PostingType.EXPIRY,
            source=accounts.available,
            target=expiry,
            points=lot.remaining,
            reference=f"expiry:lot:{lot.id}",
            occurred_at=end_of_day(lot.expires_on),
            breakdown={"lot_id": lot.id, "expires_on": lot.expires_on.isoformat()},
        )
        expired_points += lot.remaining
        lot.expired += lot.remaining
        lot.remaining = 0
        lot.status = LotStatus.EXPIRED.value
    uow.commit()
    return JobReport(expired_lots=len(lots), expired_points=expired_points)


def due_pending_lots(uow: UnitOfWork, as_of: date) -> list[int]:
    return list(
        uow.session.scalars(
            select(orm.Lot.id)
            .where(orm.Lot.status == LotStatus.PENDING.value, orm.Lot.available_on <= as_of)
            .order_by(orm.Lot.id)
        )
    )


def accounts_with_expiring_lots(uow: UnitOfWork, as_of: date) -> list[int]:
    return list(
        uow.session.scalars(
            select(orm.Lot.account_id)
            .where(orm.Lot.status == LotStatus.AVAILABLE.value, orm.Lot.expires_on < as_of)
            .distinct()
            .order_by(orm.Lot.account_id)
        )
    )
