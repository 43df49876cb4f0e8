"""The simulation's state: runtime, random source, catalogue, counts, follow-ups planned ahead."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime

import crm
import points_engine
from common.organisation import InstitutionView
from common.unit_of_work import UnitOfWork, transaction
from memberhub.demo.people import SimMember
from memberhub.demo.seasons import Season
from memberhub.runtime import Runtime
from storefront_api import bills, catalogue, orders, subscriptions


@dataclass(frozen=True)
class Refund:
    channel: str
    original_external_id: str
    amount_fen: int
    card_charge: CardCharge | None = None  # the sale was paid by prepaid card


@dataclass(frozen=True)
class CardCharge:
    card_no: str
    charge_no: str


@dataclass(frozen=True)
class Cancel:
    redemption_no: str


@dataclass(frozen=True)
class OrderStep:
    action: str  # verify, ship, deliver, cancel, return
    order_no: str
    person: SimMember
    channel: str
    outlet_code: str | None
    pickup_code: str | None


@dataclass(frozen=True)
class MailScan:
    tracking_no: str
    status: str
    location: str
    at: datetime


@dataclass(frozen=True)
class SubscriptionCancel:
    subscription_no: str
    caller: subscriptions.Caller


FollowUp = Refund | Cancel | OrderStep | MailScan | SubscriptionCancel


@dataclass(frozen=True)
class TillSale:
    """A till sale waiting for its channel's end-of-day report (one `accrue_many` batch)."""

    command: points_engine.AccrualCommand
    person: SimMember
    card_charge: CardCharge | None = None


@dataclass
class Counts:
    members: int = 0
    joined_before: int = 0
    visits: int = 0
    responses: int = 0
    prehistory_sales: int = 0
    accruals: int = 0
    points_earned: int = 0
    refunds: int = 0
    redemptions: int = 0
    vouchers_issued: int = 0
    vouchers_used: int = 0
    reward_orders: int = 0  # goods rewards delivered as orders
    miles_rewards: int = 0  # rewards sent to the airline as exchange lines
    bill_credits: int = 0  # bill payments a member's bill credit paid towards
    cancellations: int = 0
    declined: int = 0
    merges: int = 0
    unmerges: int = 0  # merges an admin undid
    unmerged_points_spent: int = 0  # the undone merges' points the survivor had used
    job_runs: int = 0
    expired_lots: int = 0
    expired_points: int = 0
    birthday_bonuses: int = 0
    birthday_points: int = 0
    order_channels: Counter[str] = field(default_factory=Counter)
    order_methods: Counter[str] = field(default_factory=Counter)
    philately_orders: int = 0
    # Delivered orders placed, those a free-delivery tier paid no fee on, and the fees.
    deliveries: int = 0
    free_deliveries: int = 0
    delivery_fees_fen: int = 0
    orders_refused: int = 0
    pickups_expired: int = 0
    unpaid_expired: int = 0
    bill_payments: int = 0
    bills_declined: int = 0
    bills_late: int = 0
    bills_reversed: int = 0
    mailings: int = 0
    mail_events: int = 0
    subscriptions: int = 0
    subscriptions_cancelled: int = 0
    cards: int = 0
    card_top_ups: int = 0
    card_payments: int = 0


@dataclass
class World:
    rng: random.Random
    runtime: Runtime
    start: date
    end: date
    now: datetime
    outlets: list[InstitutionView]
    stores: list[InstitutionView]
    rewards: list[tuple[str, int, str]]  # code, points cost, kind
    directory: crm.CrmMemberDirectory
    context: orders.OrderContext
    actors: dict[str, str]
    biller_for: bills.BillerFor
    billers: dict[str, str]
    products: dict[str, list[catalogue.ProductSeed]]  # by category
    products_by_festival: dict[str, list[catalogue.ProductSeed]]
    press_titles: list[str]
    # The festival campaigns of the history: (season, campaign code, holdout %).
    offers: list[tuple[Season, str, int]] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    seq: int = 0
    later: dict[date, list[FollowUp]] = field(default_factory=dict)
    tills: dict[str, list[TillSale]] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)
    unanswered_bills: list[str] = field(default_factory=list)
    tracking_numbers: set[str] = field(default_factory=set)
    mailings: list[str] = field(default_factory=list)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def uow(self) -> UnitOfWork:
        """A unit of work for use cases that run their own transactions (they commit)."""
        return UnitOfWork(self.runtime.session_factory)

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that commits when the block ends, for use cases that do not."""
        return transaction(self.runtime.session_factory)

    def plan(self, day: date, follow_up: FollowUp) -> None:
        """Do `follow_up` on `day`, unless that is after the history ends."""
        if day <= self.end:
            self.later.setdefault(day, []).append(follow_up)

    @property
    def cheapest_reward(self) -> int:
        return min(cost for _, cost, _ in self.rewards)
