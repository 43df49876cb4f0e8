"""Daily clearing of one business day of N transactions, on SQLite and on PostgreSQL.

Run from the repository root: `.venv/bin/python -m bench.clearing [--transactions N]
[--skip-sqlite] [--skip-postgres] [--pg-url URL] [--seed S] [--work DIR] [--profile]`.

For each database (a temporary SQLite file, and a scratch PostgreSQL database made next
to `--pg-url` and dropped at the end) the bench builds the schema and reference data,
registers members through `crm.register_members`, then loads yesterday's Asia/Shanghai
business day set-based (bulk INSERT on SQLite, COPY on PostgreSQL): N sales (accruals
with their ledger postings and lots, spread over the reference data's outlets, six
channels and the six business types, earning what the real rule book gives), about 2%
of them refunded later that day (reversal postings), and about 1% as many redemptions
of members' earlier points (a month-old purchase each redeemer made). The rows are the
ones the use cases write, column for column, with balanced postings and the member
accounts' running balances.

Then it times `storefront_api.clearing.run_day` for the day, one call in one
transaction as `memberhub clearing run` makes it, and the baseline: one
`SELECT institution_code, channel, business_type, COUNT(*), SUM(total_fen) FROM
points_engine_accrual WHERE occurred_at in the day GROUP BY ...` over the same sales in
the same database (the fastest of five runs). The figures: clearing seconds, sales
cleared per second, and clearing seconds / baseline seconds (the aim: within 3x). The
clearing's lines are read back and must count exactly the loaded sales and refunds.

`--profile` profiles the timed `run_day` (the time then includes the profiler's cost)
and prints its top functions and the SQL statements it spent most time in. The last
line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import heapq
import io
import json
import math
import os
import pstats
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, Table, bindparam, event, select, text
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

import crm
from bench.common import drop_database, recreate_database
from common.clock import business_date, end_of_next_year, start_of_day, utcnow
from common.db import insert_rows, make_engine
from common.organisation import Institution
from common.public_ids import public_no
from common.settings import Settings, normalise_database_url
from common.unit_of_work import transaction
from memberhub.operations import prepare_database
from memberhub.runtime import Runtime, build_runtime
from points_engine.adapters import orm
from points_engine.adapters.book import LedgerBook, new_txn_id
from points_engine.domain import earning
from points_engine.domain.accounts import AccountKind, PostingType, reward_account
from points_engine.domain.lots import cumulative_reversal
from points_engine.services.accrual import rule_book, tier_multiplier
from storefront_api import clearing

AIM_RATIO = 3.0
# What the day holds besides its sales.
REFUND_SHARE = 0.02  # of sales, refunded later the same day
FULL_REFUND_SHARE = 0.6  # of those, refunded in full
REDEMPTION_SHARE = 0.01  # redemptions per sale
SELF_REDEMPTION_SHARE = 0.3  # redeemed by the member in the app (no channel, no outlet)
SALES_PER_MEMBER = 10
MAX_MEMBERS = 100_000
SLICE_SALES = 20_000  # sales generated, and written, per slice of the day
# (code, weight); every channel but `partner`, which sells through its own exchange.
CHANNEL_WEIGHTS = (
    ("counter", 40),
    ("retail", 12),
    ("app", 18),
    ("web", 10),
    ("hotline", 6),
    ("distribution", 14),
)
# (business type, weight, median amount in fen)
BUSINESS_WEIGHTS = (
    ("goods", 50, 6_800),
    ("bill_payment", 14, 12_000),
    ("mailing", 16, 1_800),
    ("subscription", 5, 24_000),
    ("philately", 8, 5_000),
    ("service", 7, 3_000),
)
GOODS_CATEGORIES = ("home", "baby", "digital", "beauty", "sports", "jewelry", "food", "farm")
LINE_CATEGORY = {"philately": "stamps", "subscription": "press"}
PAYMENT_METHODS = ("cash", "wechat", "alipay", "unionpay")
REDEEMABLE_KINDS = ("voucher", "bill_credit")
MEMBER_TIER = "regular"  # what a new member is: the load's members earn at its rate

ACCRUALS = cast(Table, orm.Accrual.__table__)
LOTS = cast(Table, orm.Lot.__table__)
POSTINGS = cast(Table, orm.Posting.__table__)
REFUNDS = cast(Table, orm.Refund.__table__)
REDEMPTIONS = cast(Table, orm.Redemption.__table__)
CONSUMPTIONS = cast(Table, orm.LotConsumption.__table__)
# The order rows are written in, parents before children.
WRITE_ORDER = (ACCRUALS, LOTS, POSTINGS, REFUNDS, REDEMPTIONS, CONSUMPTIONS)

BASELINE = text(
    "SELECT institution_code, channel, business_type, COUNT(*), SUM(total_fen) "
    "FROM points_engine_accrual WHERE occurred_at >= :start AND occurred_at < :end "
    "GROUP BY institution_code, channel, business_type"
).bindparams(
    bindparam("start", type_=DateTime(timezone=True)),
    bindparam("end", type_=DateTime(timezone=True)),
)


def say(line: str) -> None:
    print(line, flush=True)


# -- the database --------------------------------------------------------------------


def open_runtime(url: str, var_dir: Path) -> Runtime:
    """A runtime as the CLI builds it, on `url` with its schema and reference data."""
    settings = Settings(
        database_url=normalise_database_url(url),
        secret_key=secrets.token_urlsafe(32),
        warehouse_path=var_dir / "warehouse.duckdb",
        var_dir=var_dir,
    )
    runtime = build_runtime(settings)
    prepare_database(runtime)
    return runtime


def loading_engine(runtime: Runtime) -> Engine:
    """For the load only: on SQLite without fsyncs and with a bigger page cache (the
    clearing itself is timed on the runtime's own engine, as the CLI has it)."""
    url = runtime.settings.database_url
    return make_engine(url, scratch_sqlite=True) if url.startswith("sqlite") else runtime.engine


def set_values(connection: Connection, table: str, column: str, values: dict[int, int]) -> None:
    """`UPDATE table SET column = value WHERE id = key` for many rows at once."""
    if not values:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(
            text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            [{"id": key, "value": value} for key, value in values.items()],
        )
        return
    connection.execute(text("CREATE TEMPORARY TABLE bench_values (id bigint, value bigint)"))
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy("COPY bench_values FROM STDIN") as copy:  # type: ignore[union-attr]
        for key, value in values.items():
            copy.write_row((key, value))
    connection.execute(
        text(f"UPDATE {table} t SET {column} = v.value FROM bench_values v WHERE t.id = v.id")
    )
    connection.execute(text("DROP TABLE bench_values"))


def next_id(connection: Connection, table: Table) -> int:
    return (
        int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}")).scalar_one())
        + 1
    )


def reset_sequences(connection: Connection) -> None:
    """After rows inserted with their own ids, PostgreSQL's sequences go on after them."""
    if connection.dialect.name != "postgresql":
        return
    for table in WRITE_ORDER:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


# -- what the day is made of -----------------------------------------------------------


@dataclass(frozen=True)
class Member:
    member_id: int
    available: int  # account ids
    pending: int


@dataclass(frozen=True)
class Reward:
    code: str
    points_cost: int
    cash_fen: int
    account_id: int


@dataclass(frozen=True)
class Earning:
    """What a single-line purchase earns under one rule, for a member of one tier."""

    rule: earning.EarningRule
    multiplier_bp: int
    tier: str

    def evaluate(self, amount_fen: int) -> tuple[int, list[dict[str, Any]]]:
        """(points, breakdown), as `earning.evaluate` gives them (no campaign runs)."""
        rule = self.rule
        base = amount_fen * rule.points // rule.per_fen
        breakdown: list[dict[str, Any]] = [
            {"rule": rule.code, "kind": "base", "points": base, "detail": rule.description}
        ]
        if rule.fixed_points:
            base += rule.fixed_points
            breakdown.append(
                {
                    "rule": rule.code,
                    "kind": "fixed",
                    "points": rule.fixed_points,
                    "detail": "fixed points per item",
                }
            )
        tier_points = base * (self.multiplier_bp - earning.BP) // earning.BP
        if tier_points:
            breakdown.append(
                {
                    "rule": f"tier:{self.tier}",
                    "kind": "tier",
                    "points": tier_points,
                    "detail": f"tier multiplier x{self.multiplier_bp / earning.BP:g}",
                }
            )
        return base + tier_points, breakdown


@dataclass
class World:
    """The reference data the day's rows name, read from the database."""

    day: date
    outlets: list[str]
    issuance: dict[str, int]  # institution code -> issuance account id
    earnings: dict[tuple[str, str, str | None], Earning]  # (business type, channel, category)
    rules: tuple[earning.EarningRule, ...]
    rewards: list[Reward]
    members: list[Member] = field(default_factory=list)


def read_world(runtime: Runtime, day: date) -> World:
    with transaction(runtime.session_factory) as uow:
        session = uow.session
        outlets = list(
            session.scalars(
                select(Institution.code)
                .where(Institution.kind == "outlet")
                .order_by(Institution.code)
            )
        )
        issuance = {
            str(code): account_id
            for code, account_id in session.execute(
                select(orm.Account.institution_code, orm.Account.id).where(
                    orm.Account.kind == AccountKind.ISSUANCE.value
                )
            )
        }
        rules = rule_book(session).in_force(day)
        tier = MEMBER_TIER
        multiplier = tier_multiplier(session, tier)
        earnings: dict[tuple[str, str, str | None], Earning] = {}
        for business_type, _, _ in BUSINESS_WEIGHTS:
            categories: tuple[str | None, ...] = (
                GOODS_CATEGORIES
                if business_type == "goods"
                else (LINE_CATEGORY.get(business_type),)
            )
            for channel, _ in CHANNEL_WEIGHTS:
                for category in categories:
                    rule = earning.best_rule(rules, business_type, channel, category)
                    earnings[(business_type, channel, category)] = Earning(rule, multiplier, tier)
        book = LedgerBook(session)
        rewards = [
            Reward(
                reward.code,
                reward.points_cost,
                reward.cash_fen,
                book.system_account(*reward_account(reward.code, reward.kind)).id,
            )
            for reward in session.scalars(
                select(orm.Reward)
                .where(
                    orm.Reward.active.is_(True),
                    orm.Reward.stock.is_(None),
                    orm.Reward.kind.in_(REDEEMABLE_KINDS),
                )
                .order_by(orm.Reward.code)
            )
        ]
    missing = [code for code in outlets if code not in issuance]
    if missing or not outlets or not rewards:
        raise SystemExit(
            f"reference data incomplete: outlets {len(outlets)}, rewards "
            f"{len(rewards)}, outlets without an issuance account {missing[:3]}"
        )
    return World(day, outlets, issuance, earnings, rules, rewards)


def register_members(runtime: Runtime, world: World, count: int, rng: random.Random) -> None:
    """`count` members through the use case that imports members (one statement per
    table and batch), registered two months before the day."""
    registered = start_of_day(world.day - timedelta(days=60))
    batch = 5_000
    with tqdm(total=count, desc="members", unit="member", disable=None) as bar:
        for first in range(0, count, batch):
            size = min(batch, count - first)
            commands = [
                crm.RegisterCommand(
                    phone=f"139{first + n:08d}",
                    name=f"清算会员{first + n}",
                    channel="counter",
                    institution_code=rng.choice(world.outlets),
                )
                for n in range(size)
            ]
            with transaction(runtime.session_factory) as uow:
                infos = crm.register_members(uow, commands, registered_at=[registered] * size)
                ids = [info.member_id for info in infos]
                assert all(info.tier == MEMBER_TIER for info in infos)
                accounts: dict[tuple[int | None, str], int] = {
                    (member_id, kind): account_id
                    for member_id, kind, account_id in uow.session.execute(
                        select(orm.Account.member_id, orm.Account.kind, orm.Account.id).where(
                            orm.Account.member_id.in_(ids)
                        )
                    )
                }
            world.members.extend(
                Member(
                    member_id,
                    accounts[(member_id, AccountKind.MEMBER.value)],
                    accounts[(member_id, AccountKind.MEMBER_PENDING.value)],
                )
                for member_id in ids
            )
            bar.update(size)


# -- the load --------------------------------------------------------------------------


@dataclass
class Loaded:
    """What the load wrote for the day (and before it)."""

    sales: int = 0
    refunds: int = 0
    redemptions: int = 0
    member_postings: int = 0  # postings of the day the clearing takes apart from sales
    sales_fen: int = 0
    refunds_fen: int = 0
    points_issued: int = 0
    points_reversed: int = 0
    points_redeemed: int = 0
    earlier_sales: int = 0  # the redeemers' month-old purchases
    seconds: float = 0.0


@dataclass
class _Refund:
    accrual_id: int
    accrual_no: str
    channel: str
    external_id: str
    amount_fen: int
    points: int
    from_account: int
    issuance: int


@dataclass
class _Redemption:
    member: Member
    reward: Reward
    institution_code: str | None
    lot_id: int


class Writer:
    """Rows buffered by table and written together, parents first, one transaction each."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self.engine = engine
        self.rows: dict[Table, list[dict[str, Any]]] = {table: [] for table in WRITE_ORDER}
        self.ids = {table: next_id(connection, table) for table in WRITE_ORDER}

    def new_id(self, table: Table) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self.rows[table].append(row)

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for table in WRITE_ORDER:
                insert_rows(connection, table, self.rows[table])
                self.rows[table] = []


class DayLoader:
    def __init__(self, world: World, writer: Writer, rng: random.Random) -> None:
        self.world = world
        self.writer = writer
        self.rng = rng
        self.balances: dict[int, int] = {}  # member account id -> balance
        self.lot_remaining: dict[int, int] = {}  # the redeemers' earlier lots
        self.events: list[tuple[datetime, int, str, Any]] = []
        self.sequence = 0
        self.loaded = Loaded()
        self.channels = [c for c, _ in CHANNEL_WEIGHTS]
        self.channel_weights = [w for _, w in CHANNEL_WEIGHTS]
        self.business_types = [b for b, _, _ in BUSINESS_WEIGHTS]
        self.business_weights = [w for _, w, _ in BUSINESS_WEIGHTS]
        self.median_fen = {b: m for b, _, m in BUSINESS_WEIGHTS}

    def schedule(self, moment: datetime, kind: str, payload: Any) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (moment, self.sequence, kind, payload))

    # -- rows as the use cases write them ----------------------------------------------

    def sale(
        self,
        moment: datetime,
        member: Member,
        channel: str,
        business_type: str,
        category: str | None,
        amount_fen: int,
        outlet: str,
        external_id: str,
        refund_fen: int = 0,
    ) -> tuple[int, str, int, int, int]:
        """An accrual as `accrue_points` writes it: the accrual, its posting from the
        outlet's issuance account and its lot. (accrual id, number, points, the account
        the points went to, lot id or 0)."""
        writer = self.writer
        earn = self.world.earnings[(business_type, channel, category)]
        points, breakdown = earn.evaluate(amount_fen)
        pending_days = earn.rule.pending_days
        earned_on = business_date(moment)
        status = "pending" if pending_days > 0 else "available"
        available_on = earned_on + timedelta(days=pending_days)
        target = member.pending if pending_days > 0 else member.available
        accrual_id = writer.new_id(ACCRUALS)
        accrual_no = public_no("AC")
        issuance = self.world.issuance[outlet]
        written = moment + timedelta(milliseconds=4)
        reversed_points = (
            cumulative_reversal(points, amount_fen, 0, refund_fen) if refund_fen else 0
        )
        writer.add(
            ACCRUALS,
            {
                "id": accrual_id,
                "accrual_no": accrual_no,
                "channel": channel,
                "external_id": external_id,
                "member_id": member.member_id,
                "institution_code": outlet,
                "business_type": business_type,
                "occurred_at": moment,
                "total_fen": amount_fen,
                "refunded_fen": refund_fen,
                "points": points,
                "campaign_points": 0,
                "points_reversed": reversed_points,
                "status": "refunded" if refund_fen and refund_fen == amount_fen else status,
                "available_on": available_on,
                "sources": [{"account_id": issuance, "points": points}] if points else [],
                "breakdown": breakdown,
                "lines": [
                    {
                        "sku": f"SKU-{business_type[:4].upper()}-{self.rng.randrange(400):04d}",
                        "quantity": 1,
                        "amount_fen": amount_fen,
                        "category": category,
                    }
                ],
                "payment_method": self.rng.choice(PAYMENT_METHODS),
                "updated_at": written,
            },
        )
        lot_id = 0
        if points:
            balance = self.balances.get(target, 0) + points
            self.balances[target] = balance
            writer.add(
                POSTINGS,
                {
                    "id": writer.new_id(POSTINGS),
                    "txn_id": new_txn_id(),
                    "type": PostingType.ACCRUAL.value,
                    "from_account_id": issuance,
                    "to_account_id": target,
                    "points": points,
                    "from_balance_after": None,
                    "to_balance_after": balance,
                    "reference": f"accrual:{accrual_no}",
                    "occurred_at": moment,
                    "recorded_at": written,
                    "breakdown": breakdown,
                },
            )
            # A refund later that day takes its points back from this lot (pending
            # points first): the lot is written as the refund leaves it.
            remaining = points - reversed_points
            lot_status = status
            if pending_days > 0 and remaining == 0:
                lot_status = "reversed"
            lot_id = writer.new_id(LOTS)
            writer.add(
                LOTS,
                {
                    "id": lot_id,
                    "account_id": target,
                    "accrual_id": accrual_id,
                    "initial": points,
                    "remaining": remaining,
                    "expired": 0,
                    "status": lot_status,
                    "earned_on": earned_on,
                    "available_on": available_on,
                    "expires_on": end_of_next_year(earned_on),
                    "institution_code": outlet,
                    "updated_at": written,
                },
            )
        return accrual_id, accrual_no, points, target, lot_id

    def refund(self, moment: datetime, refund: _Refund) -> None:
        """A refund as `refund_purchase` writes it, with its reversal posting."""
        writer = self.writer
        refund_no = public_no("RF")
        writer.add(
            REFUNDS,
            {
                "id": writer.new_id(REFUNDS),
                "refund_no": refund_no,
                "channel": refund.channel,
                "external_id": f"{refund.external_id}-R",
                "accrual_id": refund.accrual_id,
                "amount_fen": refund.amount_fen,
                "points_reversed": refund.points,
                "created_at": moment,
            },
        )
        loaded = self.loaded
        loaded.refunds += 1
        loaded.refunds_fen += refund.amount_fen
        if not refund.points:
            return
        balance = self.balances[refund.from_account] - refund.points
        self.balances[refund.from_account] = balance
        posted = moment + timedelta(milliseconds=3)
        writer.add(
            POSTINGS,
            {
                "id": writer.new_id(POSTINGS),
                "txn_id": new_txn_id(),
                "type": PostingType.REVERSAL.value,
                "from_account_id": refund.from_account,
                "to_account_id": refund.issuance,
                "points": refund.points,
                "from_balance_after": balance,
                "to_balance_after": None,
                "reference": f"refund:{refund_no}",
                "occurred_at": posted,
                "recorded_at": posted,
                "breakdown": {"accrual_id": refund.accrual_no},
            },
        )
        loaded.member_postings += 1
        loaded.points_reversed += refund.points

    def redemption(self, moment: datetime, redemption: _Redemption) -> None:
        """A redemption as `redeem_reward` writes it: spent from the member's oldest lot."""
        writer = self.writer
        reward, member = redemption.reward, redemption.member
        redemption_id = writer.new_id(REDEMPTIONS)
        redemption_no = public_no("RD")
        writer.add(
            REDEMPTIONS,
            {
                "id": redemption_id,
                "redemption_no": redemption_no,
                "member_id": member.member_id,
                "reward_code": reward.code,
                "quantity": 1,
                "points_spent": reward.points_cost,
                "cash_fen": reward.cash_fen,
                "status": "completed",
                "channel": "counter" if redemption.institution_code else None,
                "institution_code": redemption.institution_code,
                "created_at": moment,
                "cancelled_at": None,
                "updated_at": moment,
            },
        )
        writer.add(
            CONSUMPTIONS,
            {
                "id": writer.new_id(CONSUMPTIONS),
                "redemption_id": redemption_id,
                "lot_id": redemption.lot_id,
                "points": reward.points_cost,
            },
        )
        self.lot_remaining[redemption.lot_id] -= reward.points_cost
        balance = self.balances[member.available] - reward.points_cost
        self.balances[member.available] = balance
        writer.add(
            POSTINGS,
            {
                "id": writer.new_id(POSTINGS),
                "txn_id": new_txn_id(),
                "type": PostingType.REDEMPTION.value,
                "from_account_id": member.available,
                "to_account_id": reward.account_id,
                "points": reward.points_cost,
                "from_balance_after": balance,
                "to_balance_after": None,
                "reference": f"redemption:{redemption_no}",
                "occurred_at": moment,
                "recorded_at": moment + timedelta(milliseconds=2),
                "breakdown": {"reward_code": reward.code, "quantity": 1},
            },
        )
        loaded = self.loaded
        loaded.redemptions += 1
        loaded.member_postings += 1
        loaded.points_redeemed += reward.points_cost

    # -- the day ---------------------------------------------------------------------

    def random_sale(self, moment: datetime, number: int) -> None:
        rng = self.rng
        channel = rng.choices(self.channels, self.channel_weights)[0]
        business_type = rng.choices(self.business_types, self.business_weights)[0]
        category = (
            rng.choice(GOODS_CATEGORIES)
            if business_type == "goods"
            else LINE_CATEGORY.get(business_type)
        )
        median = self.median_fen[business_type]
        amount = max(100, int(rng.lognormvariate(math.log(median), 0.9)))
        member = rng.choice(self.world.members)
        outlet = rng.choice(self.world.outlets)
        external_id = f"CLR-{self.world.day:%Y%m%d}-{number:08d}"
        refund_fen, refund_at = 0, None
        if rng.random() < REFUND_SHARE:
            refund_at = moment + timedelta(seconds=rng.uniform(300, 4 * 3600))
            if refund_at < self.day_end - timedelta(seconds=1):
                refund_fen = (
                    amount
                    if rng.random() < FULL_REFUND_SHARE
                    else max(1, int(amount * rng.uniform(0.1, 0.9)))
                )
        accrual_id, accrual_no, points, target, _ = self.sale(
            moment,
            member,
            channel,
            business_type,
            category,
            amount,
            outlet,
            external_id,
            refund_fen,
        )
        loaded = self.loaded
        loaded.sales += 1
        loaded.sales_fen += amount
        if points:  # its posting is cleared with the sale
            loaded.points_issued += points
        if refund_fen and refund_at is not None:
            self.schedule(
                refund_at,
                "refund",
                _Refund(
                    accrual_id,
                    accrual_no,
                    channel,
                    external_id,
                    refund_fen,
                    cumulative_reversal(points, amount, 0, refund_fen) if points else 0,
                    target,
                    self.world.issuance[outlet],
                ),
            )

    def earlier_points(self, redeemers: dict[int, int]) -> dict[int, int]:
        """Each redeemer's purchase a month before the day, earning what they spend
        (and a little more): their oldest lot, which the redemptions draw from."""
        world, rng = self.world, self.rng
        earlier = world.day - timedelta(days=30)
        lots: dict[int, int] = {}
        earn = world.earnings[("goods", "counter", "home")]
        for number, (index, points) in enumerate(sorted(redeemers.items())):
            member = world.members[index]
            wanted = points + rng.randrange(0, 3_000)
            amount = (wanted - earn.rule.fixed_points) * earn.rule.per_fen // earn.rule.points
            amount += earn.rule.per_fen
            moment = start_of_day(earlier) + timedelta(seconds=rng.uniform(8 * 3600, 20 * 3600))
            _, _, got, target, lot_id = self.sale(
                moment,
                member,
                "counter",
                "goods",
                "home",
                amount,
                rng.choice(world.outlets),
                f"CLR-{earlier:%Y%m%d}-E{number:07d}",
            )
            assert target == member.available and got >= points, (got, points)
            lots[index] = lot_id
            self.lot_remaining[lot_id] = got
            self.loaded.earlier_sales += 1
        return lots

    def load(self, transactions: int) -> Loaded:
        world, rng = self.world, self.rng
        start = start_of_day(world.day)
        self.day_end = start_of_day(world.day + timedelta(days=1))
        # Redemptions: who redeems what, when and where; each redeemer has the points.
        count = round(transactions * REDEMPTION_SHARE)
        planned: list[tuple[int, Reward]] = [
            (rng.randrange(len(world.members)), rng.choice(world.rewards)) for _ in range(count)
        ]
        spent: dict[int, int] = {}
        for index, reward in planned:
            spent[index] = spent.get(index, 0) + reward.points_cost
        lots = self.earlier_points(spent)
        self.writer.flush()
        for index, reward in planned:
            moment = start + timedelta(seconds=rng.uniform(0, 86_399))
            institution = (
                None if rng.random() < SELF_REDEMPTION_SHARE else rng.choice(world.outlets)
            )
            self.schedule(
                moment,
                "redemption",
                _Redemption(world.members[index], reward, institution, lots[index]),
            )
        slices = max(1, math.ceil(transactions / SLICE_SALES))
        width = 86_400 / slices
        number = 0
        with tqdm(total=transactions, desc="sales", unit="sale", disable=None) as bar:
            for part in range(slices):
                sales = transactions * (part + 1) // slices - transactions * part // slices
                low = part * width
                for offset in sorted(rng.uniform(low, low + width) for _ in range(sales)):
                    number += 1
                    self.schedule(start + timedelta(seconds=offset), "sale", number)
                until = start + timedelta(seconds=low + width)
                while self.events and self.events[0][0] < until:
                    moment, _, kind, payload = heapq.heappop(self.events)
                    if kind == "sale":
                        self.random_sale(moment, payload)
                    elif kind == "refund":
                        self.refund(moment, payload)
                    else:
                        self.redemption(moment, payload)
                self.writer.flush()
                bar.update(sales)
        assert not self.events
        return self.loaded


def load_day(
    runtime: Runtime, day: date, transactions: int, seed: int, members: int | None = None
) -> Loaded:
    """Members, then the day's sales, refunds and redemptions (and the redeemers'
    earlier purchases); the member accounts' balances as the postings leave them."""
    started = time.perf_counter()
    rng = random.Random(seed)
    world = read_world(runtime, day)
    wanted = members or min(MAX_MEMBERS, max(100, transactions // SALES_PER_MEMBER))
    register_members(runtime, world, wanted, rng)
    check_earnings(world)
    engine = loading_engine(runtime)
    try:
        with engine.connect() as connection:
            writer = Writer(engine, connection)
        loader = DayLoader(world, writer, rng)
        loaded = loader.load(transactions)
        with engine.begin() as connection:
            set_values(connection, "points_engine_account", "balance", loader.balances)
            set_values(connection, "points_engine_lot", "remaining", loader.lot_remaining)
            reset_sequences(connection)
        tidy(engine)
    finally:
        if engine is not runtime.engine:
            engine.dispose()
    loaded.seconds = time.perf_counter() - started
    return loaded


def check_earnings(world: World) -> None:
    """The points the load gives are those of the real rules (`earning.evaluate`)."""
    rng = random.Random(0)
    for (business_type, channel, category), earn in world.earnings.items():
        amount = rng.randrange(100, 100_000)
        context = earning.AccrualContext(
            member_id=1,
            tier=earn.tier,
            tier_multiplier_bp=earn.multiplier_bp,
            business_type=business_type,
            channel=channel,
            occurred_on=world.day,
            lines=[earning.Line("SKU", category, 1, amount)],
        )
        expected = earning.evaluate(context, world.rules, [], {})
        points, breakdown = earn.evaluate(amount)
        assert (points, breakdown) == (
            expected.total,
            [item.as_dict() for item in expected.breakdown],
        ), (business_type, channel, category)
        assert expected.pending_days == earn.rule.pending_days


def tidy(engine: Engine) -> None:
    """What a database that took these rows over a day would have done by now:
    PostgreSQL's autovacuum has analysed them, SQLite has checkpointed its WAL."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in (*WRITE_ORDER, cast(Table, orm.Account.__table__)):
                connection.execute(text(f"VACUUM ANALYZE {table.name}"))
    else:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


# -- timing ----------------------------------------------------------------------------


def time_baseline(engine: Engine, day: date, runs: int = 5) -> tuple[float, int, int]:
    """The fastest of `runs` runs of the GROUP BY: (seconds, groups, sales counted)."""
    best = math.inf
    groups = counted = 0
    for _ in range(runs):
        with engine.connect() as connection:
            started = time.perf_counter()
            rows = connection.execute(
                BASELINE,
                {"start": start_of_day(day), "end": start_of_day(day + timedelta(days=1))},
            ).all()
            best = min(best, time.perf_counter() - started)
        groups, counted = len(rows), sum(int(row[3]) for row in rows)
    return best, groups, counted


@dataclass
class Cleared:
    run: clearing.ClearingRun
    seconds: float
    sales: int
    gross_fen: int
    refunds: int
    refunds_fen: int
    points_issued: int
    points_reversed: int
    points_redeemed: int
    lines: int
    profile: str = ""


def time_clearing(runtime: Runtime, day: date, *, profile: bool = False) -> Cleared:
    """`run_day` for the day in one transaction, as `memberhub clearing run` calls it;
    then its lines, read back."""
    profiler = cProfile.Profile() if profile else None
    statements = SqlTimer(runtime.engine) if profile else None
    if statements is not None:
        statements.start()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    with transaction(runtime.session_factory) as uow:
        run = clearing.run_day(
            uow, day, actor="bench", fen_per_point=runtime.settings.fen_per_point
        )
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    report = ""
    if profiler is not None and statements is not None:
        statements.stop()
        report = "\n".join(
            [
                top_functions(profiler, "cumulative", 40, "run_day, by cumulative time"),
                top_functions(profiler, "tottime", 15, "run_day, by own time"),
                statements.report(),
            ]
        )
    with runtime.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT COUNT(*), COALESCE(SUM(sales), 0), COALESCE(SUM(gross_fen), 0), "
                "COALESCE(SUM(refunds), 0), COALESCE(SUM(refunds_fen), 0), "
                "COALESCE(SUM(points_issued), 0), COALESCE(SUM(points_reversed), 0), "
                "COALESCE(SUM(points_redeemed), 0) "
                "FROM storefront_clearing_line WHERE cleared_on = :day"
            ),
            {"day": day},
        ).one()
    lines, sales, gross, refunds, refunds_fen, issued, reversed_, redeemed = map(int, row)
    return Cleared(
        run, seconds, sales, gross, refunds, refunds_fen, issued, reversed_, redeemed, lines, report
    )


def check_cleared(cleared: Cleared, loaded: Loaded) -> list[str]:
    """Where the clearing's own figures differ from what was loaded (none: all taken)."""
    expected = {
        "sales": loaded.sales,
        "gross_fen": loaded.sales_fen,
        "refunds": loaded.refunds,
        "refunds_fen": loaded.refunds_fen,
        "points_issued": loaded.points_issued,
        "points_reversed": loaded.points_reversed,
        "points_redeemed": loaded.points_redeemed,
        "movements": loaded.sales + loaded.refunds + loaded.member_postings,
    }
    found = {
        "sales": cleared.sales,
        "gross_fen": cleared.gross_fen,
        "refunds": cleared.refunds,
        "refunds_fen": cleared.refunds_fen,
        "points_issued": cleared.points_issued,
        "points_reversed": cleared.points_reversed,
        "points_redeemed": cleared.points_redeemed,
        "movements": cleared.run.movements,
    }
    return [
        f"{key}: cleared {found[key]}, loaded {expected[key]}"
        for key in expected
        if found[key] != expected[key]
    ]


class SqlTimer:
    """Counts and times the statements the engine runs while started."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.times: dict[str, list[float]] = {}
        self._started: dict[int, float] = {}

    def start(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        elapsed = time.perf_counter() - self._started.pop(id(cursor))
        words = " ".join(statement.split())
        self.times.setdefault(words[:110], []).append(elapsed)

    def report(self) -> str:
        total = sum(sum(t) for t in self.times.values())
        count = sum(len(t) for t in self.times.values())
        lines = [f"--- SQL of run_day: {count:,} statements, {total:.2f} s; by total time ---"]
        ranked = sorted(self.times.items(), key=lambda kv: -sum(kv[1]))
        for statement, times in ranked[:12]:
            lines.append(f"  {len(times):6,} x  {sum(times):7.2f} s  {statement}")
        return "\n".join(lines)


ROOT = str(Path(__file__).resolve().parent.parent) + "/"


def top_functions(profiler: cProfile.Profile, sort: str, count: int, title: str) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort).print_stats(count)
    lines = out.getvalue().splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    body = [
        re.sub(r"/[^ ]*/site-packages/", "", line.rstrip().replace(ROOT, ""))
        for line in lines[first:]
        if line.strip()
    ]
    return "\n".join([f"--- profile: {title} ---", *body])


# -- main ------------------------------------------------------------------------------


def bench_database(
    label: str, url: str, var_dir: Path, day: date, args: argparse.Namespace
) -> tuple[dict[str, Any], Loaded]:
    """Load the day on the database at `url`, time the clearing and the baseline."""
    started = time.perf_counter()
    runtime = open_runtime(url, var_dir)
    try:
        say(f"{label}: schema and reference data in {time.perf_counter() - started:.1f} s")
        loaded = load_day(runtime, day, args.transactions, args.seed, args.members)
        say(
            f"{label}: loaded {loaded.sales:,} sales, {loaded.refunds:,} refunds, "
            f"{loaded.redemptions:,} redemptions ({loaded.member_postings:,} member postings; "
            f"{loaded.earlier_sales:,} earlier purchases of the redeemers) in "
            f"{loaded.seconds:.1f} s"
        )
        baseline, groups, counted = time_baseline(runtime.engine, day)
        say(f"{label}: baseline GROUP BY: {counted:,} sales in {groups:,} groups, {baseline:.3f} s")
        cleared = time_clearing(runtime, day, profile=args.profile)
        if cleared.profile:
            say(cleared.profile)
        problems = check_cleared(cleared, loaded)
        if problems or counted != loaded.sales:
            raise SystemExit(f"{label}: the clearing did not take the loaded day: {problems}")
        ratio = cleared.seconds / baseline
        rate = loaded.sales / cleared.seconds
        say(
            f"{label}: clearing: {cleared.run.movements:,} movements on {cleared.lines:,} lines "
            f"in {cleared.seconds:.2f} s ({rate:,.0f} sales/s)"
            + (" (profiled)" if args.profile else "")
        )
        say(f"{label}: ratio clearing / baseline = {ratio:.1f} (aim: within {AIM_RATIO:g})")
    finally:
        runtime.engine.dispose()
    figures = {
        f"{label}_seconds": round(cleared.seconds, 3),
        f"{label}_baseline_seconds": round(baseline, 4),
        f"{label}_ratio": round(ratio, 2),
        f"{label}_rows_per_s": round(rate, 1),
        f"{label}_movements": cleared.run.movements,
        f"{label}_lines": cleared.lines,
        f"{label}_load_seconds": round(loaded.seconds, 1),
    }
    return figures, loaded


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.clearing", description=__doc__)
    parser.add_argument("--transactions", type=int, default=1_000_000, help="sales of the day")
    parser.add_argument(
        "--members", type=int, default=None, help="default: N / 10, at most 100,000"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--pg-url", default="postgresql:///test", help="server to use (libpq URL)")
    parser.add_argument("--db-name", default="memberhub_bench_clearing", help="scratch database")
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database")
    parser.add_argument("--work", type=Path, default=None, help="keep the SQLite file here")
    parser.add_argument("--profile", action="store_true", help="profile run_day")
    args = parser.parse_args(argv)
    if args.transactions < 1:
        parser.error("--transactions must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    day = business_date(utcnow()) - timedelta(days=1)
    work = args.work or Path(tempfile.mkdtemp(prefix="memberhub-bench-clearing-"))
    work.mkdir(parents=True, exist_ok=True)
    say(
        f"clearing bench: {args.transactions:,} sales on {day} (Asia/Shanghai), "
        f"seed {args.seed}, {os.cpu_count()} cores"
    )
    figures: dict[str, Any] = {"transactions": args.transactions, "day": day.isoformat()}
    loaded: Loaded | None = None
    wall = time.perf_counter()
    try:
        if not args.skip_sqlite:
            path = work / "clearing.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            found, loaded = bench_database("sqlite", f"sqlite:///{path}", work, day, args)
            figures.update(found)
        if not args.skip_postgres:
            url = recreate_database(args.pg_url, args.db_name)
            try:
                found, loaded = bench_database("postgres", url, work, day, args)
                figures.update(found)
            finally:
                if not args.keep_db:
                    drop_database(args.pg_url, args.db_name)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if loaded is not None:
        figures.update(
            refunds=loaded.refunds,
            redemptions=loaded.redemptions,
            member_postings=loaded.member_postings,
        )
    figures["aim_ratio"] = AIM_RATIO
    figures["wall_s"] = round(time.perf_counter() - wall, 1)
    print(json.dumps(figures), flush=True)
    return figures


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
