"""Stateful property test: any sequence of ledger use cases keeps every invariant and the model."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

import crm
import points_engine
from common.clock import SHANGHAI
from common.db import read_session
from common.errors import Conflict, DomainError, Invalid
from common.idempotency import as_answer
from common.unit_of_work import UnitOfWork, transaction
from memberhub.runtime import Runtime
from points_engine.domain.lots import split_proportionally
from tests.answers import answered
from tests.conftest import restore

DIRECTORY = crm.CrmMemberDirectory()
SHOP = "SH-HP-0001"
# A run starts early in a year or just before New Year: from the latter, lots of two
# years (so with two expiry dates) are soon spendable side by side.
STARTS = (date(2024, 1, 15), date(2024, 12, 20))

# Channel, business type, whether its points wait for a 7-day return window.
KINDS = (
    ("counter", "goods", False),
    ("counter", "mailing", False),
    ("retail", "goods", False),
    ("web", "goods", True),
    ("app", "goods", True),
)
CAMPAIGN = "ST-COUNTER-BONUS"
CAMPAIGN_BONUS, CAMPAIGN_CAP, CAMPAIGN_BUDGET = 25, 60, 400
CAMPAIGN_ENDS = date(2027, 12, 31)
REWARDS = {"ST-CHEAP": 40, "ST-MID": 150, "ST-LIMITED": 60, "VOUCHER-MAILING-5": 500}
LIMITED_STOCK = 2
# Manual adjustments: who makes them, the institution their lots belong to, and reasons
# (a blank one must be refused; surrounding spaces are stripped).
ACTOR, ADJUSTING_INSTITUTION, ADJUSTMENT = "finance", "SH", "adjustment"
REASONS = ("goodwill", "lost parcel", "  correction of a counter error ", "   ")


@dataclass(eq=False)
class Lot:
    seq: int
    # (channel, external_id) of the accrual, or (ADJUSTMENT, external_id) of an adjustment.
    key: tuple[str, str]
    initial: int
    remaining: int
    status: str
    earned_on: date
    available_on: date
    expires_on: date
    institution: str
    holder: str
    expired: int = 0

    def fifo(self) -> tuple[date, int]:
        return (self.expires_on, self.seq)

    def accrual_key(self) -> tuple[str, str] | None:
        return None if self.key[0] == ADJUSTMENT else self.key


@dataclass
class Account:
    member_no: str
    member_id: int
    balance: int = 0
    pending: int = 0
    lots: list[Lot] = field(default_factory=list)

    def available_lots(self) -> list[Lot]:
        return [lot for lot in self.lots if lot.status == "available"]


@dataclass
class Accrual:
    channel: str
    external_id: str
    member_no: str
    total_fen: int
    points: int
    sources: list[tuple[str, int]]
    lot: Lot | None
    refunded_fen: int = 0
    reversed: int = 0


@dataclass
class Adjustment:
    command: points_engine.AdjustmentCommand
    body: dict[str, Any]


@dataclass
class Redemption:
    redemption_no: str
    reward: str
    quantity: int
    consumptions: list[tuple[Lot, int]]
    cancelled: bool = False


def take_fifo(lots: Iterable[Lot], points: int) -> tuple[list[tuple[Lot, int]], int]:
    takes: list[tuple[Lot, int]] = []
    for lot in sorted(lots, key=Lot.fifo):
        if points == 0:
            break
        taken = min(lot.remaining, points)
        if taken > 0:
            lot.remaining -= taken
            points -= taken
            takes.append((lot, taken))
    return takes, points


def settle(account: Account) -> None:
    excess = sum(lot.remaining for lot in account.available_lots()) - max(account.balance, 0)
    if excess > 0:
        take_fifo(account.available_lots(), excess)


def as_date(value: date | str) -> date:
    """SQLite hands raw dates back as ISO text, PostgreSQL as dates."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def balance_body(account: Account) -> dict[str, int]:
    body = {"available": max(account.balance, 0), "pending": account.pending}
    if account.balance < 0:
        body["negative_debt"] = -account.balance
    return body


class LedgerMachine(RuleBasedStateMachine):
    """Drives the real service layer and a small in-memory model of what it should do."""

    def __init__(self, runtime: Runtime, snapshot: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__()
        restore(runtime, snapshot)
        self.runtime = runtime
        self.today = STARTS[0]
        self.ids = itertools.count(1)
        self.member_ids: dict[str, int] = {}
        self.survivor_of: dict[str, str] = {}
        self.accounts: dict[str, Account] = {}
        self.accruals: list[Accrual] = []
        self.redemptions: list[Redemption] = []
        self.adjustments: list[Adjustment] = []
        self.lot_seq = itertools.count(1)
        self.budget = CAMPAIGN_BUDGET
        self.awarded: dict[str, int] = {}
        self.stock = LIMITED_STOCK

    # -- plumbing ------------------------------------------------------------------

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        return transaction(self.runtime.session_factory)

    def active(self, member_no: str) -> str:
        while member_no in self.survivor_of:
            member_no = self.survivor_of[member_no]
        return member_no

    def pick(self, items: list[Any], index: int) -> Any:
        return items[index % len(items)]

    def posting_count(self) -> int:
        with read_session(self.runtime.session_factory) as session:
            return points_engine.queries.posting_count(session)

    def expect_failure(self, error: type[DomainError], call: Any) -> None:
        before = self.posting_count()
        try:
            call()
        except error:
            pass
        else:
            raise AssertionError(f"expected {error.__name__}")
        assert self.posting_count() == before

    # -- rules -------------------------------------------------------------------

    @initialize()
    def set_up_catalogue(self) -> None:
        with self.uow() as uow:
            points_engine.create_campaign(
                uow,
                points_engine.CampaignCommand(
                    code=CAMPAIGN,
                    name=CAMPAIGN,
                    name_en=CAMPAIGN,
                    starts_on=date(2024, 1, 1),
                    ends_on=CAMPAIGN_ENDS,
                    budget_points=CAMPAIGN_BUDGET,
                    bonus_points=CAMPAIGN_BONUS,
                    per_member_cap=CAMPAIGN_CAP,
                    channels=("counter",),
                ),
            )
        for code, cost in REWARDS.items():
            if code.startswith("ST-"):
                stock = LIMITED_STOCK if code == "ST-LIMITED" else None
                with self.uow() as uow:
                    points_engine.add_reward(
                        uow,
                        code=code,
                        name=code,
                        name_en=code,
                        kind="goods",
                        points_cost=cost,
                        cash_fen=0,
                        stock=stock,
                    )

    @initialize(start=st.sampled_from(STARTS))
    def set_the_date(self, start: date) -> None:
        self.today = start

    @initialize()
    def set_up_members(self) -> None:
        for _ in range(3):
            self.register()

    @precondition(lambda self: len(self.member_ids) < 5)
    @rule()
    def register(self) -> None:
        phone = f"137{len(self.member_ids) + 1:08d}"
        with self.uow() as uow:
            member_no = crm.register_member(uow, crm.RegisterCommand(phone=phone, name="会员"))[
                "member_no"
            ]
        with read_session(self.runtime.session_factory) as session:
            member_id = crm.queries.active_member_id(session, member_no)
        self.member_ids[member_no] = member_id
        self.accounts[member_no] = Account(member_no, member_id)
        self.awarded[member_no] = 0

    @precondition(lambda self: self.member_ids)
    @rule(
        who=st.integers(min_value=0, max_value=100),
        amount=st.sampled_from([99, 4_000, 12_345, 30_000]) | st.integers(1, 60_000),
        kind=st.sampled_from(KINDS),
    )
    def accrue(self, who: int, amount: int, kind: tuple[str, str, bool]) -> None:
        channel, business_type, waits = kind
        member_no = self.pick(list(self.member_ids), who)
        external_id = f"ac-{next(self.ids)}"
        command = points_engine.AccrualCommand(
            external_id=external_id,
            member=points_engine.MemberRef(member_no=member_no),
            institution_code=SHOP,
            occurred_at=datetime.combine(self.today, time(12), SHANGHAI),
            business_type=business_type,
            lines=(points_engine.AccrualLine("SKU", 1, amount),),
            total_fen=amount,
        )
        with self.uow() as uow:
            body = answered(points_engine.accrue_points(uow, DIRECTORY, channel, command)).body

        owner = self.active(member_no)
        account = self.accounts[owner]
        base = amount // 100 + (10 if business_type == "mailing" else 0)
        award = 0
        if channel == "counter" and self.today <= CAMPAIGN_ENDS:
            left = max(CAMPAIGN_CAP - self.awarded[owner], 0)
            award = min(CAMPAIGN_BONUS, left, self.budget)
            self.budget -= award
            self.awarded[owner] += award
        points = base + award
        sources = [(src, pts) for src, pts in (("issuance", base), ("campaign", award)) if pts]
        lot = None
        if points:
            in_debt = account.balance < 0
            lot = Lot(
                seq=next(self.lot_seq),
                key=(channel, external_id),
                initial=points,
                remaining=points,
                status="pending" if waits else "available",
                earned_on=self.today,
                available_on=self.today + timedelta(days=7 if waits else 0),
                expires_on=date(self.today.year + 1, 12, 31),
                institution=SHOP,
                holder=owner,
            )
            account.lots.append(lot)
            if waits:
                account.pending += points
            else:
                account.balance += points
                if in_debt:
                    settle(account)
        self.accruals.append(Accrual(channel, external_id, member_no, amount, points, sources, lot))
        assert body["points"] == points
        assert body["member_no"] == owner
        assert body["status"] == ("pending" if waits else "available")
        assert body["balance"] == balance_body(account)

    @precondition(lambda self: any(a.refunded_fen < a.total_fen for a in self.accruals))
    @rule(which=st.integers(min_value=0, max_value=1_000), data=st.data())
    def refund_any(self, which: int, data: st.DataObject) -> None:
        accrual: Accrual = self.pick(
            [a for a in self.accruals if a.refunded_fen < a.total_fen], which
        )
        refundable = accrual.total_fen - accrual.refunded_fen
        amount = data.draw(
            st.one_of(
                st.just(refundable),
                st.integers(min_value=1, max_value=refundable),
                st.just(refundable + 1),
            ),
            label="refund_fen",
        )
        self.refund(accrual, amount)

    def spent_purchases(self) -> list[Accrual]:
        return [
            a
            for a in self.accruals
            if a.refunded_fen < a.total_fen
            and a.lot is not None
            and a.lot.status == "available"
            and a.lot.remaining < a.points - a.reversed
        ]

    @precondition(lambda self: self.spent_purchases())
    @rule(which=st.integers(min_value=0, max_value=1_000))
    def refund_spent_purchase(self, which: int) -> None:
        """Refund a purchase whose points were partly spent: the member may go into debt."""
        accrual: Accrual = self.pick(self.spent_purchases(), which)
        self.refund(accrual, accrual.total_fen - accrual.refunded_fen)

    def refund(self, accrual: Accrual, amount: int) -> None:
        refundable = accrual.total_fen - accrual.refunded_fen
        command = points_engine.RefundCommand(f"rf-{next(self.ids)}", accrual.external_id, amount)

        def call() -> points_engine.Written:
            with self.uow() as uow:
                return answered(points_engine.refund_purchase(uow, accrual.channel, command))

        if amount > refundable:
            self.expect_failure(points_engine.RefundExceedsOriginal, call)
            return
        body = call().body
        points = (
            accrual.points * (accrual.refunded_fen + amount) // accrual.total_fen
            - accrual.points * accrual.refunded_fen // accrual.total_fen
        )
        accrual.refunded_fen += amount
        accrual.reversed += points
        owner = self.active(accrual.member_no)
        account = self.accounts[owner]
        lot = accrual.lot
        if points:
            from_pending = 0
            if lot is not None and lot.status == "pending":
                from_pending = min(points, lot.remaining)
                lot.remaining -= from_pending
                if lot.remaining == 0:
                    lot.status = "reversed"
            short = points - from_pending
            if short and lot is not None and lot.status == "available":
                _, short = take_fifo([lot], short)
            # Points of the purchase that already expired come out of breakage.
            from_expired = min(short, lot.expired) if lot is not None else 0
            if lot is not None:
                lot.expired -= from_expired
            short -= from_expired
            others = [other for other in account.available_lots() if other is not lot]
            take_fifo(others, short)
            account.pending -= from_pending
            account.balance -= points - from_pending - from_expired
            parts = split_proportionally(points, [pts for _, pts in accrual.sources])
            for (source, _), part in zip(accrual.sources, parts, strict=True):
                if source == "campaign":
                    self.budget += part
                    self.awarded[owner] -= part
        assert body["points_reversed"] == points
        assert body["balance"] == balance_body(account)

    @precondition(lambda self: self.accruals)
    @rule(
        who=st.integers(min_value=0, max_value=100),
        reward=st.sampled_from(sorted(REWARDS)),
        quantity=st.integers(min_value=1, max_value=2),
    )
    def redeem_any(self, who: int, reward: str, quantity: int) -> None:
        self.redeem(self.pick(list(self.member_ids), who), reward, quantity)

    def redeem(self, member_no: str, reward: str, quantity: int) -> None:
        command = points_engine.RedemptionCommand(
            f"rd-{next(self.ids)}", member_no, reward, quantity
        )

        def call() -> points_engine.Written:
            with self.uow() as uow:
                return answered(
                    points_engine.redeem_reward(
                        uow,
                        DIRECTORY,
                        command,
                        scope="channel:app",
                        channel="app",
                        as_of=self.today,
                    )
                )

        account = self.accounts[self.active(member_no)]
        cost = REWARDS[reward] * quantity
        spendable = [
            lot
            for lot in account.available_lots()
            if lot.remaining > 0 and lot.expires_on >= self.today
        ]
        if account.balance < 0:
            self.expect_failure(points_engine.PointsDebtOutstanding, call)
            return
        if sum(lot.remaining for lot in spendable) < cost:
            self.expect_failure(points_engine.InsufficientPoints, call)
            return
        if reward == "ST-LIMITED" and self.stock < quantity:
            self.expect_failure(points_engine.OutOfStock, call)
            return
        body = call().body
        takes, short = take_fifo(spendable, cost)
        assert short == 0
        account.balance -= cost
        if reward == "ST-LIMITED":
            self.stock -= quantity
        self.redemptions.append(Redemption(body["redemption_id"], reward, quantity, takes))
        assert body["points_spent"] == cost
        assert body["member_no"] == account.member_no
        assert body["balance"] == balance_body(account)

    def spendable_lots(self, account: Account) -> list[Lot]:
        return [
            lot
            for lot in account.available_lots()
            if lot.remaining > 0 and lot.expires_on >= self.today
        ]

    def spendable(self, account: Account) -> int:
        return sum(lot.remaining for lot in self.spendable_lots(account))

    @precondition(
        lambda self: any(
            a.balance >= 0 and self.spendable(a) >= min(REWARDS.values())
            for a in self.accounts.values()
        )
    )
    @rule(who=st.integers(min_value=0, max_value=100), which=st.integers(0, 100))
    def redeem_affordable(self, who: int, which: int) -> None:
        """Spend points a member can afford, so that refunds later run into spent points."""
        rich = [
            a
            for a in self.accounts.values()
            if a.balance >= 0 and self.spendable(a) >= min(REWARDS.values())
        ]
        account: Account = self.pick(rich, who)
        affordable = [r for r, cost in REWARDS.items() if cost <= self.spendable(account)]
        if self.stock == 0 and len(affordable) > 1:
            affordable.remove("ST-LIMITED")
        self.redeem(account.member_no, self.pick(sorted(affordable), which), 1)

    @precondition(lambda self: self.redemptions)
    @rule(which=st.integers(min_value=0, max_value=1_000))
    def cancel(self, which: int) -> None:
        redemption: Redemption = self.pick(self.redemptions, which)

        def call() -> dict[str, Any]:
            with self.uow() as uow:
                return as_answer(
                    points_engine.cancel_redemption(
                        uow, DIRECTORY, redemption.redemption_no, as_of=self.today
                    )
                )

        if redemption.cancelled:
            self.expect_failure(points_engine.AlreadyCancelled, call)
            return
        body = call()
        redemption.cancelled = True
        holder = self.accounts[redemption.consumptions[0][0].holder]
        in_debt = holder.balance < 0
        returned = expired = 0
        for lot, points in redemption.consumptions:
            assert lot.holder == holder.member_no
            if lot.status == "expired" or lot.expires_on < self.today:
                expired += points
            else:
                lot.remaining += points
                returned += points
        holder.balance += returned
        if in_debt:
            settle(holder)
        if redemption.reward == "ST-LIMITED":
            self.stock += redemption.quantity
        assert (body["points_returned"], body["points_expired"]) == (returned, expired)
        assert body["balance"] == balance_body(holder)

    def pick_member(self, who: int, preferred: list[str]) -> str:
        """One of the preferred members if any, else any number ever issued, merged or not."""
        return str(self.pick(preferred or list(self.member_ids), who))

    @precondition(lambda self: self.member_ids)
    @rule(
        who=st.integers(min_value=0, max_value=100),
        debtor=st.booleans(),
        points=st.sampled_from([1, 40, 150, 500]) | st.integers(min_value=1, max_value=800),
        reason=st.sampled_from(REASONS),
    )
    def adjust_credit(self, who: int, debtor: bool, points: int, reason: str) -> None:
        """Finance credits points by hand; a member in debt pays the debt off first."""
        debtors = [no for no, a in self.accounts.items() if a.balance < 0]
        member_no = self.pick_member(who, debtors if debtor else [])
        self.adjust(member_no, points, reason)

    @precondition(lambda self: self.member_ids)
    @rule(
        who=st.integers(min_value=0, max_value=100),
        varied=st.booleans(),
        reason=st.sampled_from(REASONS),
        data=st.data(),
    )
    def adjust_debit(self, who: int, varied: bool, reason: str, data: st.DataObject) -> None:
        """Finance takes points back: at most what the member can spend, never into debt.

        Varied picks a member whose lots have the most expiry dates (some perhaps past,
        not yet expired by the job), so that FIFO by expiry decides which lots lose points.
        """
        expiry_dates = {
            no: len({lot.expires_on for lot in a.available_lots() if lot.remaining > 0})
            for no, a in self.accounts.items()
        }
        most = max(expiry_dates.values())
        most_varied = [no for no, dates in expiry_dates.items() if dates == most > 0]
        member_no = self.pick_member(who, most_varied if varied else [])
        spendable = self.spendable(self.accounts[self.active(member_no)])
        taken = data.draw(
            st.one_of(
                st.integers(min_value=1, max_value=max(spendable, 1)),
                st.just(max(spendable, 1)),
                st.integers(min_value=spendable + 1, max_value=spendable + 500),
            ),
            label="points_taken",
        )
        self.adjust(member_no, -taken, reason)

    def adjust(self, member_no: str, points: int, reason: str) -> None:
        command = points_engine.AdjustmentCommand(f"aj-{next(self.ids)}", member_no, points, reason)

        def call() -> points_engine.Written:
            with self.uow() as uow:
                return answered(
                    points_engine.adjust_points(
                        uow, DIRECTORY, command, actor=ACTOR, as_of=self.today
                    )
                )

        owner = self.active(member_no)
        account = self.accounts[owner]
        if not reason.strip():
            self.expect_failure(Invalid, call)
            return
        if points < 0 and self.spendable(account) < -points:
            self.expect_failure(points_engine.InsufficientPoints, call)
            return
        written = call()
        if points > 0:
            in_debt = account.balance < 0
            account.lots.append(
                Lot(
                    seq=next(self.lot_seq),
                    key=(ADJUSTMENT, command.external_id),
                    initial=points,
                    remaining=points,
                    status="available",
                    earned_on=self.today,
                    available_on=self.today,
                    expires_on=date(self.today.year + 1, 12, 31),
                    institution=ADJUSTING_INSTITUTION,
                    holder=owner,
                )
            )
            account.balance += points
            if in_debt:
                settle(account)
        else:
            _, short = take_fifo(self.spendable_lots(account), -points)
            assert short == 0
            account.balance += points
            assert account.balance >= 0
        self.adjustments.append(Adjustment(command, written.body))
        assert not written.replayed
        assert written.body == {
            "member_no": owner,
            "points": points,
            "reason": reason.strip(),
            "balance": balance_body(account),
        }

    @precondition(lambda self: self.adjustments)
    @rule(which=st.integers(min_value=0, max_value=1_000))
    def replay_adjustment(self, which: int) -> None:
        """The same adjustment again answers as the first time and posts nothing.

        The same id with another payload is a conflict; neither touches the model.
        """
        adjustment: Adjustment = self.pick(self.adjustments, which)

        def call(command: points_engine.AdjustmentCommand) -> points_engine.Written:
            with self.uow() as uow:
                return answered(
                    points_engine.adjust_points(
                        uow, DIRECTORY, command, actor=ACTOR, as_of=self.today
                    )
                )

        before = self.posting_count()
        written = call(adjustment.command)
        assert written.replayed
        assert written.body == adjustment.body
        assert self.posting_count() == before
        other = replace(adjustment.command, reason=adjustment.command.reason + " (again)")
        self.expect_failure(Conflict, lambda: call(other))

    @precondition(lambda self: self.accruals)
    @rule(days=st.sampled_from([1, 7, 60, 400]))
    def advance(self, days: int) -> None:
        """Time passes before the daily jobs run: lots may be past expiry yet unexpired."""
        self.today += timedelta(days=days)

    def next_expiry(self) -> date | None:
        return min(
            (
                lot.expires_on
                for account in self.accounts.values()
                for lot in self.spendable_lots(account)
            ),
            default=None,
        )

    @precondition(lambda self: self.next_expiry() is not None)
    @rule(past_it=st.booleans())
    def advance_to_an_expiry(self, past_it: bool) -> None:
        """Time reaches the next expiry date of a spendable lot, or the day after it.

        The lot is spendable on its last day, then overdue until the job expires it; lots
        earned from then on expire a year later than the lots already held.
        """
        expires_on = self.next_expiry()
        assert expires_on is not None
        self.today = expires_on + timedelta(days=1 if past_it else 0)

    @precondition(lambda self: self.accruals)
    @rule(days=st.sampled_from([1, 7, 60, 400]))
    def advance_and_run_jobs(self, days: int) -> None:
        self.advance(days)
        self.run_jobs()

    def run_jobs(self) -> None:
        released = self.release()
        expired = self.expire()
        expected_release = expected_expiry = 0
        for account in self.accounts.values():
            for lot in sorted(account.lots, key=lambda lot: lot.seq):
                if lot.status == "pending" and lot.available_on <= self.today:
                    in_debt = account.balance < 0
                    account.pending -= lot.remaining
                    account.balance += lot.remaining
                    expected_release += lot.remaining
                    lot.status = "available"
                    if in_debt:
                        settle(account)
        for account in self.accounts.values():
            for lot in account.available_lots():
                if lot.expires_on < self.today:
                    account.balance -= lot.remaining
                    expected_expiry += lot.remaining
                    lot.expired += lot.remaining
                    lot.remaining = 0
                    lot.status = "expired"
        assert (released.released_points, expired) == (expected_release, expected_expiry)
        # The same date again finds nothing to do.
        before = self.posting_count()
        assert self.release() == points_engine.JobReport()
        assert self.expire() == 0
        assert self.posting_count() == before

    def release(self) -> points_engine.JobReport:
        with self.uow() as uow:
            due = points_engine.due_pending_lots(uow, self.today)
        with self.uow() as uow:
            return points_engine.release_due_pending(uow, due, self.today)

    def expire(self) -> int:
        with self.uow() as uow:
            accounts = points_engine.accounts_with_expiring_lots(uow, self.today)
        points = 0
        for account_id in accounts:
            with self.uow() as uow:
                points += points_engine.expire_due_lots(uow, account_id, self.today).expired_points
        return points

    @precondition(lambda self: len(self.accounts) >= 2)
    @rule(
        first=st.integers(min_value=0, max_value=100), second=st.integers(min_value=1, max_value=5)
    )
    def merge(self, first: int, second: int) -> None:
        active = list(self.accounts)
        survivor_no = active[first % len(active)]
        absorbed_no = active[(first + second % (len(active) - 1) + 1) % len(active)]
        assert survivor_no != absorbed_no
        with self.uow() as uow:
            body = crm.merge_members(uow, survivor_no, absorbed_no)
        survivor, absorbed = self.accounts[survivor_no], self.accounts.pop(absorbed_no)
        moved = absorbed.balance
        survivor.balance += absorbed.balance
        survivor.pending += absorbed.pending
        for lot in absorbed.lots:
            lot.holder = survivor_no
        survivor.lots.extend(absorbed.lots)
        settle(survivor)
        self.awarded[survivor_no] += self.awarded.pop(absorbed_no)
        self.survivor_of[absorbed_no] = survivor_no
        assert body["points_moved"] == moved

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self) -> None:
        with read_session(self.runtime.session_factory) as session:
            assert points_engine.find_breaches(session) == []
            for member_no, account in self.accounts.items():
                summary = points_engine.queries.points_summary(
                    session, account.member_id, self.today
                )
                assert (summary["available"], summary["pending"], summary["negative_debt"]) == (
                    max(account.balance, 0),
                    account.pending,
                    max(-account.balance, 0),
                ), member_no
                assert crm.queries.active_member_id(session, member_no) == account.member_id
            for member_no in self.survivor_of:
                survivor = self.accounts[self.active(member_no)]
                assert crm.queries.active_member_id(session, member_no) == survivor.member_id

            # Every lot, accrued or adjusted, in creation order: lot ids follow the model's seq.
            lots = [
                (
                    None if channel is None else (channel, external_id),
                    initial,
                    remaining,
                    expired,
                    status,
                    code,
                    as_date(earned_on),
                    as_date(available_on),
                    as_date(expires_on),
                    institution,
                )
                for (
                    channel,
                    external_id,
                    initial,
                    remaining,
                    expired,
                    status,
                    code,
                    earned_on,
                    available_on,
                    expires_on,
                    institution,
                ) in session.execute(
                    text(
                        "SELECT a.channel, a.external_id, l.initial, l.remaining, l.expired, "
                        "l.status, acc.code, l.earned_on, l.available_on, l.expires_on, "
                        "l.institution_code "
                        "FROM points_engine_lot l "
                        "LEFT JOIN points_engine_accrual a ON a.id = l.accrual_id "
                        "JOIN points_engine_account acc ON acc.id = l.account_id "
                        "ORDER BY l.id"
                    )
                )
            ]
            expected = []
            for account in self.accounts.values():
                for lot in account.lots:
                    # Reversed lots stay in the pending account they were cancelled in.
                    waiting = lot.status in ("pending", "reversed")
                    kind = "member_pending" if waiting else "member"
                    expected.append(
                        (
                            lot.seq,
                            (
                                lot.accrual_key(),
                                lot.initial,
                                lot.remaining,
                                lot.expired,
                                lot.status,
                                f"{kind}:{account.member_id}",
                                lot.earned_on,
                                lot.available_on,
                                lot.expires_on,
                                lot.institution,
                            ),
                        )
                    )
            assert lots == [row for _, row in sorted(expected, key=lambda item: item[0])]

            liability = dict(points_engine.queries.liability_by_institution(session))
            model_outstanding = sum(
                max(account.balance, 0) + account.pending for account in self.accounts.values()
            )
            assert sum(liability.values()) == model_outstanding >= 0
            # Adjusted points are a liability of the head institution, earned ones of the shop.
            model_liability: dict[str, int] = {}
            for account in self.accounts.values():
                for lot in account.lots:
                    if lot.status in ("available", "pending"):
                        model_liability[lot.institution] = (
                            model_liability.get(lot.institution, 0) + lot.remaining
                        )
            assert liability == model_liability

            budget = next(
                left
                for row, left in points_engine.queries.list_campaigns(session)
                if row.code == CAMPAIGN
            )
            assert budget == self.budget >= 0
            stock = {r.code: r.stock for r in points_engine.queries.list_rewards(session)}
            assert stock["ST-LIMITED"] == self.stock


def test_any_sequence_of_ledger_use_cases_keeps_the_books(
    db: Runtime, reference_snapshot: dict[str, list[dict[str, Any]]]
) -> None:
    # Each example starts from the reference data: the machine restores it on creation.
    run_state_machine_as_test(
        lambda: LedgerMachine(db, reference_snapshot),  # type: ignore[arg-type]  # any factory
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
