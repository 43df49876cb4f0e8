"""Earning points for purchases: one accrual, or a batch of them in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import idempotency
from common.clock import business_date, end_of_next_year, to_utc, utcnow
from common.codes import BUSINESS_TYPES
from common.errors import (
    Conflict,
    DomainError,
    InconsistentFields,
    Invalid,
    UnknownReference,
    combined,
)
from common.event_time import EventWindow
from common.idempotency import Written
from common.organisation import category_codes, institution_codes
from common.public_ids import public_no
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
from points_engine.commands import (
    AccrualCommand,
    AccrualPreview,
    Accrued,
    Balance,
    BudgetDraw,
    MemberDirectory,
    MemberInfo,
    MemberScores,
)
from points_engine.domain import earning
from points_engine.domain.accounts import (
    AccountKind,
    LotStatus,
    PostingType,
    issuance_account_code,
)
from points_engine.domain.errors import (
    NoEarningRuleFor,
)
from points_engine.services.accounts import balance_of
from points_engine.services.campaigns import campaign_spec_target

# -- accrual ------------------------------------------------------------------------


def accrue_points(
    uow: UnitOfWork,
    directory: MemberDirectory,
    channel: str,
    command: AccrualCommand,
    *,
    window: EventWindow | None = None,
) -> Written[Accrued]:
    """Earn points for a purchase; once per channel + external_id.

    Everything that can reject the request is checked before anything is written.
    With `window` (a channel's event), `occurred_at` must lie in it. Raises Invalid
    (unknown institution, category or member; no earning rule; totals that do not add
    up; amounts not positive), EventTimeOutOfRange, Conflict (external_id reused with
    another payload).
    """
    if window is not None:
        window.check(command.occurred_at, utcnow())
    prepared = _prepare_accrual(uow, directory, channel, command)

    def apply() -> Accrued:
        book = LedgerBook(uow.session)
        accounts = book.lock_member(prepared.member.member_id)
        writes = _Writes()
        accrued = _apply_accrual(uow, directory, prepared, accounts, _CampaignDays(), writes)
        writes.insert(book)
        directory.note_earned(uow, [accounts.member_id])
        return accrued

    key = idempotency.Key(f"channel:{channel}", "accrual", command.external_id)
    return idempotency.once(
        uow.session, key, command, apply, kind=Accrued, digest=prepared.fingerprint
    )


def accrue_many(
    uow: UnitOfWork,
    directory: MemberDirectory,
    channel: str,
    commands: Sequence[AccrualCommand],
    authorise: Callable[[AccrualCommand], None],
    *,
    window: EventWindow | None = None,
) -> list[Written[Accrued] | DomainError]:
    """Many accruals in one transaction; each stands alone and gets its own outcome.

    An item that fails (`authorise` raising, invalid, or a conflicting replay) changes
    nothing and does not stop the others. Items are applied in member order so that
    concurrent batches lock shared members in the same order and cannot deadlock;
    outcomes come back in the order given. Reference data, campaign windows and the
    locks of a member seen twice are read once per batch, and everything is flushed
    together at the end.
    """
    outcomes: list[Written[Accrued] | DomainError | None] = [None] * len(commands)
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
            outcomes[index] = Written(idempotency.from_record(Accrued, claim.body), replayed=True)
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
    campaign_days.read_scores(
        uow,
        directory,
        {prepared[index].earned_on for index in fresh},
        {accounts.member_id for accounts in locked.values()},
    )
    answers: list[tuple[idempotency.Claim, Any]] = []
    writes = _Writes()
    # Nothing is written until the end: one INSERT per table for the whole batch.
    with session.no_autoflush:
        for index in sorted(fresh, key=lambda i: (prepared[i].member.member_id, i)):
            item = prepared[index]
            accounts = locked[item.member.member_id]
            accrued = _apply_accrual(uow, directory, item, accounts, campaign_days, writes)
            claim = claims[item.command.external_id]
            assert isinstance(claim, idempotency.Claim)
            answers.append((claim, idempotency.as_record(accrued)))
            outcomes[index] = Written(accrued)
    writes.insert(book)
    directory.note_earned(uow, sorted({accounts.member_id for accounts in locked.values()}))
    idempotency.complete_many(session, answers)
    for index, item in prepared.items():
        first = first_use[item.command.external_id]
        if first != index:
            outcomes[index] = _repeat_in_batch(item, prepared[first], outcomes[first])
    return [outcome for outcome in outcomes if outcome is not None]


def _repeat_in_batch(
    item: _PreparedAccrual,
    first: _PreparedAccrual,
    first_outcome: Written[Accrued] | DomainError | None,
) -> Written[Accrued] | DomainError:
    if item.fingerprint != first.fingerprint:
        return Conflict(
            f"external_id {item.command.external_id!r} was already used with a different payload"
        )
    if isinstance(first_outcome, Written):
        return Written(first_outcome.body, replayed=True)
    assert first_outcome is not None
    return first_outcome


@dataclass
class _Writes:
    """The rows of one transaction's accruals, inserted together by `insert`."""

    accruals: list[dict[str, Any]] = field(default_factory=list)
    postings: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    # Member accounts credited while in debt: their new lots pay the debt first.
    in_debt: dict[int, orm.Account] = field(default_factory=dict)

    def insert(self, book: LedgerBook) -> None:
        book.session.flush()  # balances and campaign awards, changed on the ORM objects
        book.insert_accruals(self.accruals)
        book.insert_postings(self.postings)
        book.insert_lots(self.lots)
        for account in self.in_debt.values():
            book.settle_debt(account)


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
    occurred_at = to_utc(command.occurred_at)
    earned_on = business_date(occurred_at)
    rules = tuple(
        rule
        for rule in rule_book(uow.session).in_force(earned_on)
        if rule.business_type == command.business_type
    )
    for index, line in enumerate(command.lines):
        try:
            earning.best_rule(rules, command.business_type, channel, line.category)
        except earning.NoEarningRule as error:
            raise NoEarningRuleFor.field(f"lines[{index}].category", str(error)) from error
    return _PreparedAccrual(
        command=command,
        channel=channel,
        member=member,
        occurred_at=occurred_at,
        earned_on=earned_on,
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


def rule_book(session: Session) -> earning.RuleBook:
    """The base earning rules and their dated versions (cached for the reference TTL; a
    version takes effect tomorrow at the earliest, so the cache never hides one in force)."""

    def load() -> earning.RuleBook:
        base = tuple(
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
        versions = tuple(
            earning.RuleVersion(
                v.code,
                v.effective_from,
                earning.EarningRule(
                    v.code,
                    v.business_type,
                    v.channel,
                    v.category,
                    v.points,
                    v.per_fen,
                    v.fixed_points,
                    v.pending_days,
                    v.description,
                )
                if v.active
                else None,
            )
            for v in session.scalars(select(orm.EarningRuleVersion))
        )
        return earning.RuleBook(base, versions)

    return reference_cache.get(session, RULE_BOOK, load)


RULE_BOOK = "earning_rules"


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


def issuance_account(book: LedgerBook, institution_code: str) -> AccountRef:
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
        self._scores: dict[int, earning.MemberScore | None] = {}

    def on(self, session: Session, day: date) -> _RunningCampaigns:
        if day not in self._by_day:
            self._by_day[day] = running_campaigns(session, day)
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

    def read_scores(
        self, uow: UnitOfWork, scores: MemberScores, days: Iterable[date], member_ids: set[int]
    ) -> None:
        """Read these members' latest scores in one query, if a campaign running on one of
        these days targets scores (a batch would otherwise ask once per member)."""
        if not any(self.on(uow.session, day).need_scores for day in days):
            return
        wanted = sorted(member_ids - self._scores.keys())
        if wanted:
            found = scores.latest_scores(uow, wanted)
            for member_id in wanted:
                self._scores[member_id] = found.get(member_id)

    def score_of(
        self, uow: UnitOfWork, scores: MemberScores, running: _RunningCampaigns, member_id: int
    ) -> earning.MemberScore | None:
        """The member's latest scores when a running campaign targets them, else None
        (not looked up: the accrual hot path reads no scores it does not need)."""
        if not running.need_scores:
            return None
        if member_id not in self._scores:
            self._scores[member_id] = scores.latest_scores(uow, [member_id]).get(member_id)
        return self._scores[member_id]

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
    writes: _Writes,
) -> Accrued:
    """Work out the accrual on the locked accounts and queue its rows in `writes`."""
    session = uow.session
    book = LedgerBook(session)
    command = prepared.command
    running = campaign_days.on(session, prepared.earned_on)
    member, context = _context(uow, directory, prepared, accounts.member_id, running, campaign_days)
    # First pass without campaign locks to learn which campaigns would award anything;
    # only those budget accounts are locked and the rules re-run on the locked
    # balances, so accruals outside a campaign never queue on it.
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
    status, available_on = _schedule(prepared, evaluation)
    target = accounts.pending if status is LotStatus.PENDING else accounts.available
    in_debt = accounts.available.balance < 0
    breakdown = [item.as_dict() for item in evaluation.breakdown]
    sources: list[dict[str, Any]] = []
    accrual_no = public_no("AC")
    txn = new_txn_id()
    reference = f"accrual:{accrual_no}"
    postings: list[tuple[AccountRef, int]] = []
    if evaluation.issuance_points:
        issuance = issuance_account(book, command.institution_code)
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
        row = book.posting_row(
            txn_id=txn,
            type=PostingType.ACCRUAL,
            source=source,
            target=target,
            points=points,
            reference=reference,
            occurred_at=prepared.occurred_at,
            breakdown=breakdown,
        )
        if row is not None:
            writes.postings.append(row)
    writes.accruals.append(
        {
            "accrual_no": accrual_no,
            "channel": prepared.channel,
            "external_id": command.external_id,
            "member_id": accounts.member_id,
            "institution_code": command.institution_code,
            "business_type": command.business_type,
            "occurred_at": prepared.occurred_at,
            "total_fen": command.total_fen,
            "refunded_fen": 0,
            "points": evaluation.total,
            "campaign_points": sum(award.points for award in evaluation.campaign_awards),
            "points_reversed": 0,
            "status": status.value,
            "available_on": available_on,
            "sources": sources,
            "breakdown": breakdown,
            "lines": [line.as_dict() for line in command.lines],
            "payment_method": command.payment_method,
        }
    )
    if evaluation.total > 0:
        writes.lots.append(
            book.lot_row(
                target,
                points=evaluation.total,
                status=status,
                accrual_no=accrual_no,
                earned_on=prepared.earned_on,
                available_on=available_on,
                expires_on=end_of_next_year(prepared.earned_on),
                institution_code=command.institution_code,
            )
        )
        if in_debt and status is LotStatus.AVAILABLE:
            writes.in_debt[accounts.available.id] = accounts.available

    return Accrued(
        accrual_id=accrual_no,
        member_no=member.member_no,
        points=evaluation.total,
        status=status.value,
        breakdown=breakdown,
        balance=balance_of(accounts),
        available_on=available_on if status is LotStatus.PENDING else None,
    )


def _context(
    uow: UnitOfWork,
    directory: MemberDirectory,
    prepared: _PreparedAccrual,
    member_id: int,
    running: _RunningCampaigns,
    campaign_days: _CampaignDays,
) -> tuple[MemberInfo, earning.AccrualContext]:
    """The member the points go to (`member_id`: merges followed) and what the rules see:
    the member's latest scores only when a running campaign targets scores."""
    member = prepared.member
    if member_id != member.member_id:
        member = directory.by_id(uow, member_id)  # merged while we waited
    command = prepared.command
    context = earning.AccrualContext(
        member_id=member_id,
        tier=member.tier,
        tier_multiplier_bp=tier_multiplier(uow.session, member.tier),
        business_type=command.business_type,
        channel=prepared.channel,
        occurred_on=prepared.earned_on,
        lines=[
            earning.Line(line.sku, line.category, line.quantity, line.amount_fen)
            for line in command.lines
        ],
        score=campaign_days.score_of(uow, directory, running, member_id),
    )
    return member, context


def _schedule(prepared: _PreparedAccrual, evaluation: earning.Evaluation) -> tuple[LotStatus, date]:
    """Whether the points wait (the channel's hold, or the rule's pending days) and until when."""
    held_until = prepared.command.held_until
    if held_until is not None:
        return LotStatus.PENDING, max(held_until, prepared.earned_on)
    status = LotStatus.PENDING if evaluation.pending_days > 0 else LotStatus.AVAILABLE
    return status, prepared.earned_on + timedelta(days=evaluation.pending_days)


# -- preview --------------------------------------------------------------------------


def preview_accrual(
    uow: UnitOfWork,
    directory: MemberDirectory,
    channel: str,
    command: AccrualCommand,
    *,
    window: EventWindow | None = None,
) -> AccrualPreview:
    """What `accrue_points` would earn for this command now, through the same rules,
    without writing or locking anything (a till shows "you will earn N points").

    Refuses exactly what `accrue_points` refuses, except that the external_id is not
    looked up: a preview of a purchase already recorded says what it earns afresh.
    Budgets are read without locks, so a concurrent accrual may draw them first.
    """
    if window is not None:
        window.check(command.occurred_at, utcnow())
    prepared = _prepare_accrual(uow, directory, channel, command)
    session = uow.session
    accounts = LedgerBook(session).member_accounts(prepared.member.member_id)
    campaign_days = _CampaignDays()
    running = campaign_days.on(session, prepared.earned_on)
    member, context = _context(uow, directory, prepared, accounts.member_id, running, campaign_days)
    evaluation = earning.evaluate(context, prepared.rules, running.specs(), {})
    if evaluation.campaign_awards:
        rows = [running.row(award.campaign_code) for award in evaluation.campaign_awards]
        awarded = campaign_days.awarded(session, accounts.member_id, rows)
        evaluation = earning.evaluate(context, prepared.rules, running.specs(), awarded)
    status, available_on = _schedule(prepared, evaluation)
    available, pending = accounts.available.balance, accounts.pending.balance
    if status is LotStatus.PENDING:
        pending += evaluation.total
    else:
        available += evaluation.total
    return AccrualPreview(
        member_no=member.member_no,
        points=evaluation.total,
        status=status.value,
        breakdown=[item.as_dict() for item in evaluation.breakdown],
        balance=Balance.of(available, pending),
        budgets=[
            BudgetDraw(
                campaign_code=award.campaign_code,
                points=award.points,
                budget_before=running.budgets[award.campaign_code],
                budget_after=running.budgets[award.campaign_code] - award.points,
            )
            for award in evaluation.campaign_awards
        ],
        available_on=available_on if status is LotStatus.PENDING else None,
    )


@dataclass
class _RunningCampaigns:
    """The campaigns running on one day, with budgets as read without locks.

    Unlocked budgets only say which campaigns might award anything; those are then
    locked and their locked balances are what counts.
    """

    rows: list[orm.Campaign]
    budgets: dict[str, int]

    @cached_property
    def need_scores(self) -> bool:
        """Whether any of these campaigns targets segments or score ranges."""
        return any(campaign_spec(row, 0).needs_scores for row in self.rows)

    def specs(self, locked: dict[str, orm.Account] | None = None) -> list[earning.Campaign]:
        locked = locked or {}
        return [
            campaign_spec(
                row, locked[row.code].balance if row.code in locked else self.budgets[row.code]
            )
            for row in self.rows
        ]

    def row(self, code: str) -> orm.Campaign:
        return next(row for row in self.rows if row.code == code)


def running_campaigns(session: Session, day: date) -> _RunningCampaigns:
    rows = session.execute(
        select(orm.Campaign, orm.Account.balance)
        .join(orm.Account, orm.Account.id == orm.Campaign.account_id)
        .where(
            orm.Campaign.starts_on <= day,
            orm.Campaign.ends_on >= day,
            orm.Campaign.status == earning.CampaignStatus.ACTIVE.value,
        )
    ).all()
    return _RunningCampaigns(
        [campaign for campaign, _ in rows],
        {campaign.code: int(balance) for campaign, balance in rows},
    )


def campaign_spec(row: orm.Campaign, budget_remaining: int) -> earning.Campaign:
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
        **campaign_spec_target(target),
    )
