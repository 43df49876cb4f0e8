"""`memberhub demo`: a fresh database with a seeded, realistic history, written through use cases.

Everything is created by the same service functions the API calls (registration, accrual,
refund, redemption, cancellation, merge, campaigns, keys, staff, orders with their payment,
pickup, shipping, cancellation and return, prepaid cards, bill payments, mail and its
tracking, newspaper subscriptions); nothing is inserted with SQL. One `random.Random(seed)`
drives every choice, so the same seed and end date give the same history, with only
generated secrets, member, order and card numbers, pickup codes and record ids differing.

How members behave: each has a purchase rate per day drawn from a lognormal (a few buy
often, most rarely), a persona that decides their channels, a day they join and, for many,
a day they stop coming. Purchases are Poisson per day. Till sales at counters and shops are
accruals (a few refunded within a week). Goods and stamps bought on the web, in the app, by
phone or from the delivery channel, and gift boxes pre-ordered at a counter, are orders:
collected at a post office with their pickup code (about one in twelve never is, and the
weekly job expires it) or shipped and delivered, paid online, on delivery, by prepaid card
or partly with points; a few are cancelled, returned or never paid. At the counter members
also post mail (scanned on its way over the following days), pay utility bills at the
sandbox billers (a few declined, answered late or reversed the same day), subscribe to
newspapers (as they also do by phone, on the web and in the app; a few cancel mid-term) and
buy prepaid cards. Members with points now and then redeem them (a few cancel), and two
duplicate registrations are merged into their originals part-way through. The scheduled
jobs (uncollected orders, unanswered bill payments, pending points release, expiry, tier
review) run every simulated week and once for today.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from tqdm import tqdm

import crm
import points_engine
from common.clock import SHANGHAI, business_date, utcnow
from common.db import read_session
from common.errors import Conflict, DomainError
from common.organisation import InstitutionView, list_institutions
from common.settings import load_settings
from common.unit_of_work import UnitOfWork
from memberhub.cli import prepare_database, run_due_jobs
from memberhub.wiring import Runtime, build_runtime
from storefront_api import bills, catalogue, mail, orders, prepaid, subscriptions
from storefront_api.auth import create_api_key, create_staff_user

DEMO_PASSWORD = "pujiang-2026"
COUNTER_OUTLET = "SH-HP-0001"
STAFF = (("admin", "admin"), ("marketer", "marketer"), ("finance", "finance"))
JOB_EVERY_DAYS = 7
MERGES = 2


class DemoRefused(Conflict):
    code = "demo-refused"
    title = "Demo data would overwrite a database in use"


class DemoLedgerBreach(DomainError):
    code = "ledger-breach"
    title = "The generated history breaks a ledger invariant"


# -- the synthetic world: names, phones, products -----------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛顾毛龚邵钱严施翁倪"
)
# Shanghai's own frequent surnames (沈, 顾, 陆, 钱, 施, 倪...) weigh a little more.
_LOCAL = set("张王陈朱徐沈顾陆钱施倪周吴")
# Given names by generation and sex, space-separated.
GIVEN: dict[str, dict[str, str]] = {
    "old": {
        "m": "建国 国平 建华 志强 德明 卫东 文华 永康 根宝 金龙 伟民 福生",
        "f": "秀英 桂英 美华 玉兰 凤英 惠珍 丽华 秀珍 雅琴 月娥 彩凤 佩玲",
    },
    "mid": {
        "m": "伟 强 磊 军 勇 杰 涛 明 斌 健 峰 海波 晓东 志刚",
        "f": "芳 娜 敏 静 丽 艳 娟 霞 燕 晓燕 雪梅 丽娟 红霞",
    },
    "young": {
        "m": "浩然 宇轩 子豪 俊杰 一鸣 天佑 思远 博文 子涵 逸飞 嘉伟",
        "f": "欣怡 雨涵 思琪 梓萱 佳怡 诗雨 可馨 语嫣 晨曦 婧 悦",
    },
}
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
)


@dataclass(frozen=True)
class Product:
    sku: str
    category: str
    price_fen: int


PRODUCTS: dict[str, tuple[Product, ...]] = {
    "food": (
        Product("MOONCAKE-PJL-01", "food", 12900),
        Product("MOONCAKE-PJL-02", "food", 19800),
        Product("ZONGZI-JX-01", "food", 8800),
        Product("TEA-BILUOCHUN-250G", "food", 15800),
        Product("CRAB-VOUCHER-4P", "food", 39800),
        Product("NUTS-GIFT-01", "food", 9900),
    ),
    "farm": (
        Product("RICE-CHONGMING-5KG", "farm", 5990),
        Product("HONEY-ACACIA-500G", "farm", 6800),
        Product("ORANGE-GANNAN-5KG", "farm", 7900),
        Product("EGGS-FREE-RANGE-30", "farm", 4500),
    ),
    "home": (
        Product("TOWEL-SET-3", "home", 4900),
        Product("THERMOS-500ML", "home", 12900),
        Product("BEDDING-SET-4", "home", 29900),
        Product("UMBRELLA-AUTO", "home", 5900),
    ),
    "digital": (
        Product("EARBUDS-BT-01", "digital", 29900),
        Product("POWERBANK-10K", "digital", 12900),
        Product("RICE-COOKER-3L", "digital", 39900),
        Product("AIR-FRYER-4L", "digital", 45900),
    ),
    "beauty": (
        Product("SKINCARE-SET-01", "beauty", 25900),
        Product("HAND-CREAM-3", "beauty", 3900),
        Product("SUNSCREEN-50ML", "beauty", 8900),
    ),
    "baby": (
        Product("DIAPERS-L-60", "baby", 12900),
        Product("FORMULA-STAGE3", "baby", 26800),
        Product("BABY-WIPES-10", "baby", 4990),
    ),
    "sports": (
        Product("YOGA-MAT-6MM", "sports", 8900),
        Product("RUNNING-SHOES-01", "sports", 45900),
        Product("BADMINTON-SET", "sports", 15900),
    ),
    "jewelry": (
        Product("GOLD-PENDANT-ZODIAC", "jewelry", 189900),
        Product("SILVER-BRACELET-01", "jewelry", 39900),
    ),
    "stamps": (
        Product("STAMP-ZODIAC-SHEET", "stamps", 1800),
        Product("STAMP-PANDA-SET", "stamps", 3600),
        Product("FIRST-DAY-COVER", "stamps", 1200),
        Product("STAMP-YEARBOOK", "stamps", 48000),
    ),
}
# Mail services: (service, the till's SKU, S10 service indicator, lowest fee, highest fee).
MAIL_SERVICES = (
    ("letter", "MAIL-LETTER", "LK", 120, 800),
    ("registered", "MAIL-REGISTERED", "RR", 500, 1500),
    ("parcel", "MAIL-PARCEL", "CP", 1200, 6000),
    ("ems", "MAIL-EMS", "EE", 2200, 9000),
)
# Partner services: (sku, lowest fen, highest fen).
SERVICES = (
    ("BANK-WEALTH-FEE", 20000, 120000),
    ("INSURANCE-PREMIUM", 30000, 150000),
    ("AIRLINE-TICKET-FEE", 10000, 60000),
)

# Channel mixes of each persona, and business-type mixes of each channel.
PERSONAS: dict[str, dict[str, float]] = {
    "counter_regular": {
        "counter": 0.62,
        "distribution": 0.1,
        "hotline": 0.1,
        "app": 0.08,
        "retail": 0.1,
    },
    "online": {"app": 0.45, "web": 0.33, "retail": 0.1, "counter": 0.1, "partner": 0.02},
    "mixed": {
        "counter": 0.3,
        "app": 0.25,
        "web": 0.15,
        "retail": 0.15,
        "distribution": 0.08,
        "hotline": 0.03,
        "partner": 0.04,
    },
}
BUSINESS_MIX: dict[str, dict[str, float]] = {
    "counter": {
        "mailing": 0.35,
        "bill_payment": 0.2,
        "philately": 0.15,
        "goods": 0.2,
        "subscription": 0.05,
        "service": 0.05,
    },
    "retail": {"goods": 1.0},
    "web": {"goods": 0.85, "subscription": 0.1, "philately": 0.05},
    "app": {"goods": 0.58, "bill_payment": 0.32, "subscription": 0.05, "philately": 0.05},
    "hotline": {"goods": 0.55, "subscription": 0.4, "philately": 0.05},
    "distribution": {"goods": 0.7, "mailing": 0.3},
    "partner": {"service": 1.0},
}
GOODS_CATEGORIES: dict[str, dict[str, float]] = {
    "counter": {"food": 0.5, "farm": 0.3, "home": 0.2},
    "retail": {"home": 0.3, "food": 0.3, "farm": 0.15, "baby": 0.15, "beauty": 0.1},
    "web": {
        "digital": 0.22,
        "home": 0.18,
        "beauty": 0.15,
        "food": 0.15,
        "baby": 0.1,
        "sports": 0.1,
        "farm": 0.06,
        "jewelry": 0.04,
    },
    "app": {"food": 0.25, "farm": 0.2, "home": 0.15, "digital": 0.15, "beauty": 0.15, "baby": 0.1},
    "hotline": {"food": 0.6, "farm": 0.4},
    "distribution": {"farm": 0.55, "food": 0.45},
}
OPENING_HOURS = {
    "counter": (8.5, 17.5),
    "retail": (9.0, 21.0),
    "distribution": (9.0, 18.0),
    "hotline": (8.0, 20.0),
    "web": (7.0, 24.0),
    "app": (7.0, 24.0),
    "partner": (9.0, 22.0),
}
EXTERNAL_PREFIX = {
    "counter": "POS",
    "retail": "RT",
    "web": "WEB",
    "app": "APP",
    "hotline": "HL",
    "distribution": "DLV",
    "partner": "PTN",
}
# How till sales (accruals) are paid.
PAYMENT = {
    "counter": ("cash", "wechat_pay", "alipay", "unionpay"),
    "retail": ("wechat_pay", "alipay", "cash", "prepaid_card"),
    "distribution": ("cod", "online"),
    "partner": ("partner_settlement",),
}

# Channels whose goods and stamps are orders; counter and shop sales are till sales.
ORDERING_CHANNELS = ("web", "app", "hotline", "distribution")
# Orders: how often each channel's are collected at a post office, and how they are paid.
# A payment method the member cannot use (no card, too little on it, too few points) falls
# back to paying at the counter (counter pre-orders) or online.
PICKUP_SHARE = {"web": 0.45, "app": 0.6, "hotline": 0.2, "distribution": 0.35, "counter": 1.0}
ORDER_PAYMENT: dict[str, dict[str, float]] = {
    "web": {"online": 0.72, "points_cash": 0.12, "prepaid_card": 0.1, "cod": 0.06},
    "app": {"online": 0.66, "points_cash": 0.18, "prepaid_card": 0.1, "cod": 0.06},
    "hotline": {"cod": 0.6, "online": 0.3, "prepaid_card": 0.1},
    "distribution": {"cod": 0.5, "online": 0.33, "prepaid_card": 0.1, "points_cash": 0.07},
    "counter": {"prepaid_card": 0.5, "cod": 0.5},
}
# Counter goods sales that are pre-orders (a gift box collected later), not till sales.
COUNTER_PREORDER = 0.25
UNPAID = 0.04  # online checkouts never paid: the next weekly job expires them
UNCOLLECTED = 0.08  # pickup orders nobody comes for: expired after the pickup days
CANCELLED = 0.03  # cancelled before pickup or shipping
RETURNED = 0.04  # taken back within the return window
PICKUP_DELAYS = (1, 1, 2, 2, 2, 3, 3, 4, 5, 6)  # days from ordering to collection
CANCEL_REASONS = (
    "不想要了 changed my mind",
    "买错了 ordered the wrong item",
    "地址填错 wrong address",
)
RETURN_REASONS = (
    "质量问题 quality problem",
    "与描述不符 not as described",
    "送礼用不上 not needed",
)
# Seasons of the festival gift boxes by month; Mid-Autumn follows the demo's campaign.
FESTIVAL_MONTHS = {
    "spring": (12, 1, 2),
    "dragon_boat": (5, 6),
    "summer": (6, 7, 8),
    "hairy_crab": (9, 10, 11, 12),
}

# Bills: what a household pays, and the account-number endings the sandbox billers turn
# into faults (API.md): a few accounts decline or time out; none gets the 3-second answer.
BILL_KINDS = {"electricity": 0.3, "water": 0.2, "gas": 0.2, "broadband": 0.15, "landline": 0.15}
SANDBOX_DECLINES = "9991"
SANDBOX_TIMES_OUT = "9992"
SANDBOX_FAULTS = ("0000", SANDBOX_DECLINES, SANDBOX_TIMES_OUT, "9993")
DECLINING_ACCOUNTS = 0.03
TIMING_OUT_ACCOUNTS = 0.01
BILLS_REVERSED = 0.05  # 冲正 at the counter, minutes after paying

# Prepaid cards: sold at counters and as e-cards in the app, topped up when they run low.
CARD_SALE = {"counter": 0.08, "app": 0.03}
CARD_AMOUNTS_FEN = (20_000, 50_000, 50_000, 100_000, 200_000)
CARD_TOP_UP = 0.5
CARD_LOW_FEN = 30_000
# Holders of a card pay with it this many times more often than the channel's mix says.
CARD_HOLDER_PREFERENCE = 5.0

SUBSCRIPTION_TERMS = {"monthly": 0.3, "quarterly": 0.3, "annual": 0.4}
SUBSCRIPTIONS_CANCELLED = 0.1

# Where posted items are scanned: the first sorting centre, then the destination's.
SORTING_CENTRES = ("上海邮区中心局", "上海航空邮件处理中心")
DESTINATIONS = ("上海", "上海", "上海", "北京", "广州", "杭州", "南京", "苏州", "成都", "武汉")
DELIVERY_SECTIONS = ("东区", "西区", "南区", "北区", "城中")
MAIL_RETURNED = 0.01

ORDER_STATUSES = tuple(orders.OrderStatus)
ORDER_METHODS = tuple(orders.PaymentMethod)
# The product of the printed order example: a gift box collected at the demo outlet.
EXAMPLE_SKU = "MA-PJL-MOONCAKE-01"


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _poisson(rng: random.Random, rate: float) -> int:
    # Knuth's method: rates here are well below 10 a day.
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# -- members in the simulation --------------------------------------------------------------


@dataclass
class SimMember:
    name: str
    phone: str
    card_no: str | None
    birthday: date
    home: InstitutionView
    persona: str
    rate: float
    joins: int
    stops: int
    redeem_propensity: float
    password: str | None = None
    member_no: str = ""
    member_id: int = 0
    duplicate_of: SimMember | None = None
    merged: bool = False
    address: str = ""
    prepaid_card: str | None = None
    bill_accounts: dict[str, str] = field(default_factory=dict)
    mailings: list[str] = field(default_factory=list)

    def owner(self) -> SimMember:
        """Who holds this record's points: the survivor once a duplicate has been merged."""
        return self.duplicate_of if self.merged and self.duplicate_of else self

    def ref(self, rng: random.Random, channel: str) -> points_engine.MemberRef:
        """How the channel names the member: online by member number, offline by card or phone.

        A duplicate is always named by its own card, which after the merge the directory
        follows to the survivor.
        """
        if self.duplicate_of is not None and self.card_no:
            return points_engine.MemberRef(card_no=self.card_no)
        if channel in ("counter", "retail", "distribution"):
            if self.card_no and rng.random() < 0.7:
                return points_engine.MemberRef(card_no=self.card_no)
            return points_engine.MemberRef(phone=self.phone)
        return points_engine.MemberRef(member_no=self.member_no)


@dataclass(frozen=True)
class Purchase:
    person: SimMember
    channel: str


@dataclass(frozen=True)
class Refund:
    channel: str
    original_external_id: str
    amount_fen: int


@dataclass(frozen=True)
class Cancel:
    redemption_no: str


@dataclass(frozen=True)
class OrderStep:
    """A later step of an order: `verify` (collected), `ship`, `deliver`, `cancel`, `return`."""

    action: str
    order_no: str
    person: SimMember
    channel: str
    outlet_code: str | None = None
    pickup_code: str | None = None


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
Event = Purchase | FollowUp
# Business hours a follow-up happens in (a scan carries its own time).
FOLLOW_UP_HOURS = {"verify": "counter", "ship": "distribution", "deliver": "distribution"}


@dataclass
class Counts:
    members: int = 0
    accruals: int = 0
    points_earned: int = 0
    refunds: int = 0
    redemptions: int = 0
    cancellations: int = 0
    declined: int = 0
    merges: int = 0
    job_runs: int = 0
    order_channels: Counter[str] = field(default_factory=Counter)
    order_methods: Counter[str] = field(default_factory=Counter)
    philately_orders: int = 0
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


@dataclass
class SimulatedClock:
    """The moment being simulated, for the billers, which read a clock of their own."""

    moment: datetime


class SimulatedBiller:
    """A sandbox biller on the demo's clock: its bills and receipts are dated in the history."""

    def __init__(self, sandbox: bills.Biller, clock: SimulatedClock) -> None:
        self._sandbox = sandbox
        self._clock = clock

    def query_bill(self, account_no: str) -> bills.Bill | None:
        return self._sandbox.query_bill(account_no)

    def pay(self, bill: bills.Bill, amount_fen: int, payment_ref: str) -> bills.BillerReceipt:
        receipt = self._sandbox.pay(bill, amount_fen, payment_ref)
        return replace(receipt, paid_at=self._clock.moment)

    def reverse(self, payment_ref: str) -> None:
        self._sandbox.reverse(payment_ref)

    def status(self, payment_ref: str) -> bills.BillerStatus:
        return self._sandbox.status(payment_ref)


def _simulated_billers(runtime: Runtime, clock: SimulatedClock) -> bills.BillerFor:
    sandbox = bills.sandbox_billers(
        runtime.session_factory, today=lambda: business_date(clock.moment)
    )

    def biller_for(biller: bills.BillerInfo) -> bills.Biller:
        return SimulatedBiller(sandbox(biller), clock)

    return biller_for


@dataclass
class World:
    rng: random.Random
    runtime: Runtime
    start: date
    end: date
    now: datetime
    outlets: list[InstitutionView]
    stores: list[InstitutionView]
    rewards: list[tuple[str, int]]
    mid_autumn: tuple[date, date]
    directory: crm.CrmMemberDirectory
    context: orders.OrderContext
    actors: dict[str, str]
    clock: SimulatedClock
    biller_for: bills.BillerFor
    billers: dict[str, str]
    products: dict[str, list[catalogue.ProductSeed]]
    press_titles: list[str]
    counts: Counts = field(default_factory=Counts)
    seq: int = 0
    later: dict[date, list[FollowUp]] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)
    unanswered_bills: list[str] = field(default_factory=list)
    tracking_numbers: set[str] = field(default_factory=set)
    mailings: list[str] = field(default_factory=list)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.runtime.session_factory)


def _later(world: World, day: date, follow_up: FollowUp) -> None:
    if day <= world.end:
        world.later.setdefault(day, []).append(follow_up)


def _name(rng: random.Random, birthday: date) -> str:
    weights = [3.0 if s in _LOCAL else 1.0 for s in SURNAMES]
    surname = rng.choices(SURNAMES, weights=weights)[0]
    generation = "old" if birthday.year < 1966 else "mid" if birthday.year < 1990 else "young"
    return surname + rng.choice(GIVEN[generation][rng.choice("mf")].split())


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        phone = rng.choice(MOBILE_PREFIXES.split()) + f"{rng.randrange(10**8):08d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def _card(rng: random.Random, taken: set[str]) -> str:
    while True:
        card = "622188" + f"{rng.randrange(10**10):010d}"
        if card not in taken:
            taken.add(card)
            return card


def _birthday(rng: random.Random) -> date:
    year = int(rng.triangular(1945, 2005, 1972))
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def _sim_members(
    rng: random.Random, count: int, days: int, outlets: Sequence[InstitutionView]
) -> list[SimMember]:
    phones: set[str] = set()
    cards: set[str] = set()
    merges = min(MERGES, count // 5)
    people: list[SimMember] = []
    for _ in range(count - merges):
        birthday = _birthday(rng)
        persona = (
            "counter_regular"
            if birthday.year < 1966
            else rng.choices(("online", "mixed", "counter_regular"), (5, 4, 1))[0]
            if birthday.year >= 1990
            else rng.choices(("online", "mixed", "counter_regular"), (3, 5, 2))[0]
        )
        # Heavy-tailed purchase rate: the median member buys about every three weeks.
        rate = min(rng.lognormvariate(math.log(0.045), 0.9), 0.8)
        joins = 0 if rng.random() < 0.6 else rng.randrange(days)
        stops = days if rng.random() < 0.55 else rng.randint(joins, days)
        people.append(
            SimMember(
                name=_name(rng, birthday),
                phone=_phone(rng, phones),
                card_no=_card(rng, cards) if rng.random() < 0.35 else None,
                birthday=birthday,
                home=rng.choice(outlets),
                persona=persona,
                rate=rate,
                joins=joins,
                stops=stops,
                redeem_propensity=rng.betavariate(1.2, 4.0),
            )
        )
    demo = people[0]
    demo.password = DEMO_PASSWORD
    demo.persona, demo.rate, demo.joins, demo.stops = "mixed", 0.4, 0, days
    demo.redeem_propensity = 0.1
    demo.home = next((o for o in outlets if o.code == COUNTER_OUTLET), demo.home)
    # Duplicate registrations: the same person signed up again at a counter with a new
    # phone and a card; they are merged into the original part-way through.
    for original in people[1 : 1 + merges]:
        original.joins, original.stops = 0, days
        people.append(
            SimMember(
                name=original.name,
                phone=_phone(rng, phones),
                card_no=_card(rng, cards),
                birthday=original.birthday,
                home=original.home,
                persona="counter_regular",
                rate=max(original.rate, 0.1),
                joins=0,
                stops=days,
                redeem_propensity=0.0,
                duplicate_of=original,
            )
        )
    return people


# -- the run -------------------------------------------------------------------------------


def run_demo(
    members: int,
    days: int,
    seed: int,
    *,
    end: date | None = None,
    progress: bool = True,
    base_url: str = "http://127.0.0.1:8000",
) -> list[str]:
    """Build a fresh demo database and return the lines to print (URL, logins, keys, curl).

    `end` is the last simulated business day (default: today in Asia/Shanghai); the
    history covers the `days` days ending there. Raises DemoRefused for a PostgreSQL
    database that already has members, DemoLedgerBreach if an invariant fails after.
    """
    if members < 1 or days < 1:
        raise ValueError("members and days must be at least 1")
    settings = load_settings()
    _delete_sqlite_database(settings.database_url)
    runtime = build_runtime(settings)
    try:
        _refuse_database_in_use(runtime)
        # The warehouse is derived from the operational database; a stale one would not match.
        for path in (settings.warehouse_path, Path(f"{settings.warehouse_path}.wal")):
            path.unlink(missing_ok=True)
        prepare_database(runtime)
        return _generate(runtime, members, days, seed, end, progress, base_url)
    finally:
        runtime.engine.dispose()


def _delete_sqlite_database(url: str) -> None:
    if not url.startswith("sqlite"):
        return
    database = make_url(url).database
    if database and database != ":memory:":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(database + suffix).unlink(missing_ok=True)


def _refuse_database_in_use(runtime: Runtime) -> None:
    if runtime.settings.is_sqlite or not inspect(runtime.engine).has_table("crm_member"):
        return
    with read_session(runtime.session_factory) as session:
        in_use = bool(crm.queries.member_numbers(session, 1))
        postings = points_engine.queries.posting_count(session)
    if in_use or postings:
        where = runtime.engine.url.render_as_string(hide_password=True)
        raise DemoRefused(
            f"{where} already holds members or ledger postings; the demo only writes to a "
            "SQLite file or an empty PostgreSQL database. Point DATABASE_URL at an empty "
            "database (or unset it to use var/memberhub.db)."
        )


def _generate(
    runtime: Runtime,
    members: int,
    days: int,
    seed: int,
    end: date | None,
    show: bool,
    base_url: str,
) -> list[str]:
    rng = random.Random(seed)
    now = utcnow()
    last = end or business_date(now)
    start = last - timedelta(days=days - 1)
    factory = runtime.session_factory
    with read_session(factory) as session:
        tree = list_institutions(session, None, 100_000)
        rewards = [(r.code, r.points_cost) for r in points_engine.queries.list_rewards(session)]
        billers = {b["kind"]: b["code"] for b in bills.list_billers(session)}
        press_titles = [t["code"] for t in subscriptions.list_press_titles(session)]
    outlets = [i for i in tree if i.kind == "outlet"]
    stores = [i for i in tree if i.kind == "store"]
    store = next((s for s in stores if s.code.startswith("SH-HP-")), stores[0])

    staff = []
    for username, role in STAFF:
        with UnitOfWork(factory) as uow:
            staff.append((username, role, create_staff_user(uow, username, role)))
    keys = []
    for channel, institution, label in (
        ("web", None, "online mall"),
        ("app", None, "China Post app"),
        ("hotline", None, "11185 call centre"),
        ("partner", None, "partners"),
        ("distribution", None, "delivery & pickup"),
        ("counter", COUNTER_OUTLET, "counter POS"),
        ("retail", store.code, "chain store till"),
    ):
        with UnitOfWork(factory) as uow:
            keys.append((channel, institution, create_api_key(uow, channel, institution, label)))

    mid_autumn = _create_campaigns(runtime, start, last, days, members)
    directory = crm.CrmMemberDirectory()
    clock = SimulatedClock(now)
    products: dict[str, list[catalogue.ProductSeed]] = {}
    for product in catalogue.PRODUCTS:
        products.setdefault(product.category, []).append(product)
    world = World(
        rng=rng,
        runtime=runtime,
        start=start,
        end=last,
        now=now,
        outlets=outlets,
        stores=stores,
        rewards=rewards,
        mid_autumn=mid_autumn,
        directory=directory,
        context=orders.OrderContext.from_settings(directory, runtime.settings),
        # The history names the demo's keys as the actors of order steps, as the API would.
        actors={channel: f"channel:{channel}:{key.split('_', 2)[1]}" for channel, _, key in keys},
        clock=clock,
        biller_for=_simulated_billers(runtime, clock),
        billers=billers,
        products=products,
        press_titles=press_titles,
    )
    people = _sim_members(rng, members, days, outlets)
    _register(world, people, show)
    _simulate(world, people, days, show)
    run_due_jobs(runtime, last)
    world.counts.job_runs += 1
    _read_back_outcomes(world)

    with read_session(factory) as session:
        breaches = points_engine.find_breaches(session) + prepaid.find_breaches(session)
        postings = points_engine.queries.posting_count(session)
    if breaches:
        raise DemoLedgerBreach("; ".join(str(b) for b in breaches))
    demo = people[0]
    with read_session(factory) as session:
        balance = points_engine.queries.points_summary(session, demo.member_id, last)
    return _lines(world, postings, staff, keys, demo, balance, base_url)


def _create_campaigns(
    runtime: Runtime, start: date, last: date, days: int, members: int
) -> tuple[date, date]:
    def day(fraction: float) -> date:
        return start + timedelta(days=int((days - 1) * fraction))

    mid_autumn = (day(0.35), day(0.65))
    year = mid_autumn[0].year
    campaigns = (
        points_engine.CampaignCommand(
            code=f"PJY-MIDAUTUMN-{year}",
            name="浦江月·中秋食品双倍积分",
            name_en="Pujiang Moon: double points on food for Mid-Autumn",
            starts_on=mid_autumn[0],
            ends_on=mid_autumn[1],
            budget_points=max(200 * members, 5000),
            multiplier_bp=20_000,
            per_member_cap=1500,
            holdout_pct=10,
            business_types=("goods",),
            categories=("food",),
        ),
        points_engine.CampaignCommand(
            code=f"PHILATELY-MONTH-{year}",
            name="集邮月·每单加赠50分",
            name_en="Philately month: 50 bonus points per order",
            starts_on=day(0.55),
            ends_on=last + timedelta(days=14),
            # Deliberately tight: the budget runs out before the month does.
            budget_points=max(4 * members, 200),
            bonus_points=50,
            per_member_cap=300,
            holdout_pct=5,
            business_types=("philately",),
        ),
        points_engine.CampaignCommand(
            code=f"APP-BILLPAY-{year}",
            name="App缴费有礼",
            name_en="Pay bills in the app: 20 bonus points",
            starts_on=start,
            ends_on=day(0.5),
            budget_points=max(20 * members, 1000),
            bonus_points=20,
            per_member_cap=100,
            holdout_pct=10,
            business_types=("bill_payment",),
            channels=("app",),
        ),
    )
    for command in campaigns:
        with UnitOfWork(runtime.session_factory) as uow:
            points_engine.create_campaign(uow, command)
    return mid_autumn


def _register(world: World, people: Sequence[SimMember], show: bool) -> None:
    factory = world.runtime.session_factory
    for person in tqdm(people, desc="members", unit="member", disable=not show):
        rng = world.rng
        channel = (
            "counter"
            if person.persona == "counter_regular"
            else _pick(rng, {"app": 0.6, "counter": 0.3, "web": 0.1})
        )
        with UnitOfWork(factory) as uow:
            body = crm.register_member(
                uow,
                crm.RegisterCommand(
                    phone=person.phone,
                    name=person.name,
                    password=person.password,
                    card_no=person.card_no,
                    birthday=person.birthday,
                    marketing_consent=rng.random() < 0.55,
                    channel=channel,
                    institution_code=person.home.code if channel == "counter" else None,
                ),
            )
        person.member_no = body["member_no"]
        with read_session(factory) as session:
            person.member_id = crm.queries.active_member_id(session, person.member_no)
        world.counts.members += 1


def _simulate(world: World, people: Sequence[SimMember], days: int, show: bool) -> None:
    merge_day = max(days * 3 // 5, 1) if days > 1 else None
    for index in tqdm(range(days), desc="days", unit="day", disable=not show):
        day = world.start + timedelta(days=index)
        if index and index % JOB_EVERY_DAYS == 0:
            run_due_jobs(world.runtime, day)
            world.counts.job_runs += 1
        if index == merge_day:
            _merge_duplicates(world, people)
        events: list[tuple[datetime, int, Event]] = []
        for person in people:
            if not person.joins <= index < person.stops:
                continue
            rate = person.rate * (1.25 if world.mid_autumn[0] <= day <= world.mid_autumn[1] else 1)
            for _ in range(_poisson(world.rng, rate)):
                channel = _pick(world.rng, PERSONAS[person.persona])
                moment = _moment(world, day, channel)
                events.append((moment, world.next_seq(), Purchase(person, channel)))
        for follow_up in world.later.pop(day, []):
            if isinstance(follow_up, MailScan):
                moment = follow_up.at
            elif isinstance(follow_up, OrderStep):
                hours = FOLLOW_UP_HOURS.get(follow_up.action, "app")
                moment = _moment(world, day, hours)
            else:
                moment = _moment(world, day, "web")
            events.append((moment, world.next_seq(), follow_up))
        for moment, _, event in sorted(events, key=lambda e: (e[0], e[1])):
            if moment > world.now:
                continue  # the rest of today has not happened yet
            _handle(world, day, moment, event)


def _at(day: date, hours: float) -> datetime:
    """A Shanghai business day's hour as a UTC instant (what the services store)."""
    minute = min(int(hours * 60), 24 * 60 - 1)
    return (datetime.combine(day, time.min, SHANGHAI) + timedelta(minutes=minute)).astimezone(UTC)


def _moment(world: World, day: date, channel: str) -> datetime:
    opens, closes = OPENING_HOURS[channel]
    return _at(day, world.rng.uniform(opens, closes))


def _handle(world: World, day: date, moment: datetime, event: Event) -> None:
    world.clock.moment = moment
    if isinstance(event, Purchase):
        _purchase(world, day, moment, event.person, event.channel)
        if world.rng.random() < event.person.redeem_propensity * 0.5:
            _redeem(world, day, event.person)
    elif isinstance(event, Refund):
        command = points_engine.RefundCommand(
            f"RF-{event.original_external_id}", event.original_external_id, event.amount_fen
        )
        with world.uow() as uow:
            points_engine.refund_purchase(uow, event.channel, command)
        world.counts.refunds += 1
    elif isinstance(event, Cancel):
        with world.uow() as uow:
            points_engine.cancel_redemption(uow, world.directory, event.redemption_no, as_of=day)
        world.counts.cancellations += 1
    elif isinstance(event, OrderStep):
        _order_step(world, day, moment, event)
    elif isinstance(event, MailScan):
        _scan(world, event)
    else:
        _cancel_subscription(world, moment, event)


def _purchase(world: World, day: date, moment: datetime, person: SimMember, channel: str) -> None:
    """One visit: a till sale, an order, a bill, mail or a subscription, by channel and mix."""
    rng = world.rng
    business_type = _pick(rng, BUSINESS_MIX[channel])
    institution = _institution(world, person, channel, business_type)
    if channel in CARD_SALE:
        _card_desk(world, day, moment, person, channel, institution)
    if business_type == "mailing" and channel == "counter":
        _post_mail(world, day, moment, person, institution)
    elif business_type == "bill_payment":
        _pay_bill(world, day, moment, person, channel, institution)
    elif business_type == "subscription":
        _subscribe(world, day, moment, person, channel, institution)
    elif _is_order(rng, channel, business_type):
        _order(world, day, moment, person, channel, business_type, institution)
    else:
        _accrue(world, day, moment, person, channel, business_type, institution)


def _is_order(rng: random.Random, channel: str, business_type: str) -> bool:
    if channel == "counter":
        return business_type == "goods" and rng.random() < COUNTER_PREORDER
    return channel in ORDERING_CHANNELS and business_type in ("goods", "philately")


def _accrue(
    world: World,
    day: date,
    moment: datetime,
    person: SimMember,
    channel: str,
    business_type: str,
    institution: str,
) -> None:
    """A till sale reported by its channel: points for the member, a few goods refunded later."""
    rng = world.rng
    lines = _lines_for(world, day, channel, business_type)
    stamp = day.strftime("%Y%m%d")
    if channel in ("counter", "retail"):
        external_id = f"{EXTERNAL_PREFIX[channel]}-{institution}-{stamp}-{world.next_seq():06d}"
    else:
        external_id = f"{EXTERNAL_PREFIX[channel]}-{stamp}-{world.next_seq():07d}"
    command = points_engine.AccrualCommand(
        external_id=external_id,
        member=person.ref(rng, channel),
        institution_code=institution,
        occurred_at=moment,
        business_type=business_type,
        lines=tuple(lines),
        total_fen=sum(line.amount_fen for line in lines),
        payment_method=rng.choice(PAYMENT[channel]),
    )
    with world.uow() as uow:
        body = points_engine.accrue_points(uow, world.directory, channel, command).body
    world.counts.accruals += 1
    world.counts.points_earned += int(body["points"])
    if business_type == "goods" and rng.random() < 0.02:
        full = len(lines) == 1 or rng.random() < 0.6
        amount = command.total_fen if full else rng.choice(lines).amount_fen
        _later(world, day + timedelta(days=rng.randint(1, 6)), Refund(channel, external_id, amount))


def _lines_for(
    world: World, day: date, channel: str, business_type: str
) -> list[points_engine.AccrualLine]:
    rng = world.rng

    def priced(sku: str, low: int, high: int) -> points_engine.AccrualLine:
        return points_engine.AccrualLine(sku, 1, rng.randrange(low, high + 1, 10))

    if business_type == "mailing":
        items = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            _, sku, _, low, high = rng.choice(MAIL_SERVICES)
            items.append(priced(sku, low, high))
        return items
    if business_type == "service":
        return [priced(*rng.choice(SERVICES))]
    if business_type == "philately":
        categories = {"stamps": 1.0}
    else:
        categories = dict(GOODS_CATEGORIES[channel])
        if world.mid_autumn[0] <= day <= world.mid_autumn[1]:
            categories["food"] = categories.get("food", 0.1) * 2.5  # mooncake season
    lines = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        product = rng.choice(PRODUCTS[_pick(rng, categories)])
        quantity = 1 if product.price_fen > 20000 else rng.choice((1, 1, 2, 3))
        lines.append(
            points_engine.AccrualLine(
                product.sku, quantity, product.price_fen * quantity, product.category
            )
        )
    return lines


def _institution(world: World, person: SimMember, channel: str, business_type: str) -> str:
    rng = world.rng
    if channel == "counter":
        return person.home.code if rng.random() < 0.8 else rng.choice(world.outlets).code
    if channel == "retail":
        near = [s for s in world.stores if s.parent_code == person.home.parent_code]
        return rng.choice(near or world.stores).code
    if channel == "distribution":
        return person.home.code
    return "SH"


# -- orders ----------------------------------------------------------------------------------


def _order(
    world: World,
    day: date,
    moment: datetime,
    person: SimMember,
    channel: str,
    business_type: str,
    institution: str,
) -> None:
    """Place an order, pay it online when that is how it is paid, and plan what comes next."""
    rng = world.rng
    owner = person.owner()
    lines = _order_lines(world, day, channel, business_type)
    total = sum(product.price_fen * quantity for product, quantity in lines)
    fulfilment, outlet_code, address = _fulfilment(world, person, channel, institution)
    method, points, card_no = _order_payment(world, day, owner, channel, total)
    command = orders.PlaceOrder(
        external_id=f"{EXTERNAL_PREFIX[channel]}-OD-{day:%Y%m%d}-{world.next_seq():07d}",
        member_no=owner.member_no,
        lines=tuple(orders.LineCommand(product.sku, quantity) for product, quantity in lines),
        fulfilment=fulfilment,
        payment_method=method,
        outlet_code=outlet_code,
        address=address,
        points=points,
        card_no=card_no,
    )
    caller = _customer(world, person, channel, institution)
    try:
        with world.uow() as uow:
            body = orders.place_order(uow, world.context, caller, command, now=moment).body
    except (
        catalogue.OutOfStock,
        catalogue.PerMemberLimitReached,
        points_engine.InsufficientPoints,
        prepaid.InsufficientBalance,
    ):
        world.counts.orders_refused += 1
        return
    order_no = str(body["order_no"])
    world.orders[order_no] = str(body["status"])
    world.counts.order_channels[channel] += 1
    world.counts.order_methods[method] += 1
    if business_type == "philately":
        world.counts.philately_orders += 1
    if body["status"] == orders.OrderStatus.CREATED and method in ("online", "points_cash"):
        paid_at = moment + timedelta(minutes=rng.randint(1, 15))
        if rng.random() < UNPAID or paid_at > world.now:
            return
        body = _pay(world, channel, order_no, int(body["payable_fen"]), paid_at)
    code = body.get("pickup_code")
    step = OrderStep(
        "", order_no, person, channel, outlet_code, str(code) if code is not None else None
    )
    if fulfilment == "pickup":
        draw = rng.random()
        if draw < UNCOLLECTED:
            return
        if draw < UNCOLLECTED + CANCELLED:
            _later(world, day + timedelta(days=rng.randint(1, 3)), replace(step, action="cancel"))
        else:
            delay = timedelta(days=rng.choice(PICKUP_DELAYS))
            _later(world, day + delay, replace(step, action="verify"))
    elif rng.random() < CANCELLED:
        _later(world, day + timedelta(days=1), replace(step, action="cancel"))
    else:
        _later(world, day + timedelta(days=rng.randint(1, 2)), replace(step, action="ship"))


def _order_lines(
    world: World, day: date, channel: str, business_type: str
) -> list[tuple[catalogue.ProductSeed, int]]:
    """One to three different products; festival gift boxes only in their season, favoured then."""
    rng = world.rng
    if business_type == "philately":
        categories = {"stamps": 1.0}
    else:
        categories = dict(GOODS_CATEGORIES[channel])
        if world.mid_autumn[0] <= day <= world.mid_autumn[1]:
            categories["food"] = categories.get("food", 0.1) * 2.5
    lines: dict[str, tuple[catalogue.ProductSeed, int]] = {}
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        offered = [
            product
            for product in world.products[_pick(rng, categories)]
            if product.festival is None or _in_season(world, product.festival, day)
        ]
        product = rng.choices(offered, [3.0 if p.festival else 1.0 for p in offered])[0]
        quantity = 1 if product.price_fen > 20000 else rng.choice((1, 1, 2, 3))
        if product.sku not in lines:
            lines[product.sku] = (product, min(quantity, product.per_member_limit or quantity))
    return list(lines.values())


def _in_season(world: World, festival: str, day: date) -> bool:
    if festival == "mid_autumn":
        return world.mid_autumn[0] - timedelta(days=14) <= day <= world.mid_autumn[1]
    return day.month in FESTIVAL_MONTHS.get(festival, ())


def _fulfilment(
    world: World, person: SimMember, channel: str, institution: str
) -> tuple[str, str | None, str | None]:
    """(pickup or delivery, the outlet, the address): collected near home, or delivered there."""
    rng = world.rng
    if channel == "counter":
        return "pickup", institution, None
    if rng.random() < PICKUP_SHARE[channel]:
        near = person.home.code if rng.random() < 0.85 else rng.choice(world.outlets).code
        return "pickup", near, None
    return "delivery", None, _address(world, person)


def _address(world: World, person: SimMember) -> str:
    """A home address in the street of the member's post office (its number dropped)."""
    if not person.address:
        rng = world.rng
        street = person.home.address.rstrip("0123456789号") or "上海市"
        person.address = (
            f"{street}{rng.randint(1, 999)}弄{rng.randint(1, 60)}号"
            f"{rng.randint(1, 25)}0{rng.randint(1, 4)}室"
        )
    return person.address


def _order_payment(
    world: World, day: date, owner: SimMember, channel: str, total: int
) -> tuple[str, int | None, str | None]:
    """(method, points, card_no): points_cash spends what the member has, up to the cap."""
    rng = world.rng
    weights = dict(ORDER_PAYMENT[channel])
    if owner.prepaid_card is not None:
        weights["prepaid_card"] = weights.get("prepaid_card", 0.0) * CARD_HOLDER_PREFERENCE
    method = _pick(rng, weights)
    fallback = "cod" if channel == "counter" else "online"
    if method == "prepaid_card":
        card = owner.prepaid_card
        if card is not None and _card_balance(world, card) >= total:
            return method, None, card
        return fallback, None, None
    if method == "points_cash":
        with read_session(world.runtime.session_factory) as session:
            summary = points_engine.queries.points_summary(session, owner.member_id, day)
        policy = world.context.policy
        cap = total * policy.max_points_share_bp // 10_000 * policy.points_per_yuan // 100
        points = int(min(int(summary["available"]), cap) * rng.uniform(0.4, 1.0)) // 100 * 100
        if summary["negative_debt"] or points < 100:
            return fallback, None, None
        return method, points, None
    return method, None, None


def _customer(world: World, person: SimMember, channel: str, institution: str) -> orders.Caller:
    """Who places, cancels or returns an order: the member themself in the app (a duplicate
    record is served by the channel), otherwise the channel it came through."""
    if channel == "app" and person.duplicate_of is None:
        member_no = person.owner().member_no
        scope = f"member:{member_no}"
        return orders.Caller("app", scope, scope, member_no=member_no)
    return _channel_caller(world, channel, institution if channel == "counter" else None)


def _channel_caller(world: World, channel: str, institution: str | None = None) -> orders.Caller:
    # Counters of other outlets than the demo key's are named by their outlet.
    actor = world.actors[channel]
    if institution is not None and institution != COUNTER_OUTLET:
        actor = f"channel:{channel}:{institution}"
    return orders.Caller(channel, f"channel:{channel}", actor, institution_code=institution)


def _pay(world: World, channel: str, order_no: str, amount: int, at: datetime) -> dict[str, Any]:
    """The payment provider's confirmation, posted through the order's channel."""
    rng = world.rng
    provider = rng.choice(("WX", "ALI", "UP"))
    command = orders.PaymentCommand(
        external_id=f"PAY-{order_no}",
        amount_fen=amount,
        method="online",
        transaction_ref=f"{provider}{at:%Y%m%d}{rng.randrange(10**12):012d}",
    )
    with world.uow() as uow:
        body = orders.pay_order(
            uow, world.context, _channel_caller(world, channel), order_no, command, now=at
        ).body
    world.orders[order_no] = str(body["status"])
    return body


def _order_step(world: World, day: date, moment: datetime, step: OrderStep) -> None:
    """Collect, ship, deliver, cancel or return an order, and plan the step after it."""
    rng = world.rng
    context = world.context
    with world.uow() as uow:
        if step.action == "verify":
            assert step.outlet_code is not None and step.pickup_code is not None
            caller = _channel_caller(world, "counter", step.outlet_code)
            body = orders.verify_pickup(
                uow, context, caller, step.outlet_code, step.pickup_code, now=moment
            )
        elif step.action == "ship":
            caller = _channel_caller(world, "distribution")
            body = orders.ship_order(uow, context, caller, step.order_no, now=moment)
        elif step.action == "deliver":
            caller = _channel_caller(world, "distribution")
            body = orders.deliver_order(uow, context, caller, step.order_no, now=moment)
        else:
            caller = _customer(world, step.person, step.channel, step.outlet_code or "SH")
            if step.action == "cancel":
                reason = rng.choice(CANCEL_REASONS)
                body = orders.cancel_order(uow, context, caller, step.order_no, reason, now=moment)
            else:
                reason = rng.choice(RETURN_REASONS)
                body = orders.return_order(uow, context, caller, step.order_no, reason, now=moment)
    world.orders[step.order_no] = str(body["status"])
    if step.action == "ship":
        _later(world, day + timedelta(days=rng.randint(1, 3)), replace(step, action="deliver"))
    elif step.action in ("verify", "deliver") and rng.random() < RETURNED:
        _later(world, day + timedelta(days=rng.randint(1, 6)), replace(step, action="return"))


# -- prepaid cards ---------------------------------------------------------------------------


def _card_balance(world: World, card_no: str) -> int:
    with read_session(world.runtime.session_factory) as session:
        return prepaid.card_balance(session, card_no) or 0


def _card_desk(
    world: World, day: date, moment: datetime, person: SimMember, channel: str, institution: str
) -> None:
    """Now and then a member buys a prepaid card (at a counter, or an e-card in the app), or
    tops up one running low there."""
    rng = world.rng
    owner = person.owner()
    outlet = institution if channel == "counter" else None
    external_id = f"{EXTERNAL_PREFIX[channel]}-PC-{day:%Y%m%d}-{world.next_seq():07d}"
    if owner.prepaid_card is None:
        if rng.random() >= CARD_SALE[channel]:
            return
        command = prepaid.IssueCommand(
            external_id=external_id,
            amount_fen=rng.choice(CARD_AMOUNTS_FEN),
            member=person.ref(rng, channel),
            institution_code=outlet,
        )
        with world.uow() as uow:
            body = prepaid.issue_card(
                uow,
                world.directory,
                command,
                scope=f"channel:{channel}",
                channel=channel,
                now=moment,
            ).body
        owner.prepaid_card = str(body["card_no"])
        world.counts.cards += 1
    elif rng.random() < CARD_TOP_UP and _card_balance(world, owner.prepaid_card) < CARD_LOW_FEN:
        top_up = prepaid.TopUpCommand(
            external_id, owner.prepaid_card, rng.choice(CARD_AMOUNTS_FEN[1:4])
        )
        with world.uow() as uow:
            prepaid.top_up_card(uow, top_up, channel=channel, institution_code=outlet, now=moment)
        world.counts.card_top_ups += 1


# -- bills -----------------------------------------------------------------------------------


def _pay_bill(
    world: World, day: date, moment: datetime, person: SimMember, channel: str, outlet: str
) -> None:
    """Look a household bill up and pay it (at a counter or in the app); a few are reversed."""
    rng = world.rng
    owner = person.owner()
    kind = _pick(rng, BILL_KINDS)
    try:
        bill = bills.query_bill(
            world.uow, world.biller_for, world.billers[kind], _bill_account(world, owner, kind)
        )
    except bills.NoBillDue:
        return  # this month's bill is paid already
    if channel == "app":
        payer, member = bills.Payer.member(owner.member_no), None
    else:
        payer, member = bills.Payer(channel, outlet), person.ref(rng, channel)
    command = bills.PaymentCommand(
        external_id=f"{EXTERNAL_PREFIX[channel]}-BP-{day:%Y%m%d}-{world.next_seq():07d}",
        bill_id=str(bill["bill_id"]),
        amount_fen=int(bill["amount_due_fen"]),
        member=member,
    )
    try:
        receipt = bills.pay_bill(
            world.uow, world.biller_for, world.directory, payer, command, now=moment
        ).body
    except bills.PaymentDeclined:
        world.counts.bills_declined += 1
        return
    world.counts.bill_payments += 1
    payment_no = str(receipt["payment_no"])
    if receipt["status"] != bills.PaymentStatus.PAID:
        world.unanswered_bills.append(payment_no)
        return
    reversal_at = moment + timedelta(minutes=rng.randint(2, 30))
    if channel == "counter" and rng.random() < BILLS_REVERSED and reversal_at <= world.now:
        world.clock.moment = reversal_at
        bills.reverse_payment(
            world.uow,
            world.biller_for,
            payer,
            f"{command.external_id}-REV",
            payment_no,
            now=reversal_at,
        )
        world.counts.bills_reversed += 1


def _bill_account(world: World, owner: SimMember, kind: str) -> str:
    """The household's account with the biller of `kind`; a few decline or time out."""
    if kind not in owner.bill_accounts:
        rng = world.rng
        number = str(rng.randrange(10**9, 10**12))
        while number[-4:] in SANDBOX_FAULTS:
            number = str(rng.randrange(10**9, 10**12))
        draw = rng.random()
        if draw < DECLINING_ACCOUNTS:
            number = number[:-4] + SANDBOX_DECLINES
        elif draw < DECLINING_ACCOUNTS + TIMING_OUT_ACCOUNTS:
            number = number[:-4] + SANDBOX_TIMES_OUT
        owner.bill_accounts[kind] = number
    return owner.bill_accounts[kind]


# -- subscriptions ---------------------------------------------------------------------------


def _subscribe(
    world: World, day: date, moment: datetime, person: SimMember, channel: str, outlet: str
) -> None:
    """A newspaper from the first of next month, by the hotline, counter, web or the member."""
    rng = world.rng
    owner = person.owner()
    if channel == "app":
        caller = subscriptions.Caller("member", member_no=owner.member_no)
        member = points_engine.MemberRef(member_no=owner.member_no)
    else:
        institution = outlet if channel == "counter" else None
        caller = subscriptions.Caller("channel", channel=channel, institution_code=institution)
        member = person.ref(rng, channel)
    starts_on = day if day.day == 1 else (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    delivery = (
        subscriptions.Delivery("outlet", outlet_code=person.home.code)
        if rng.random() < 0.25
        else subscriptions.Delivery("address", address=_address(world, person))
    )
    command = subscriptions.SubscribeCommand(
        external_id=f"{EXTERNAL_PREFIX[channel]}-SB-{day:%Y%m%d}-{world.next_seq():07d}",
        member=member,
        title_code=rng.choice(world.press_titles),
        term=_pick(rng, SUBSCRIPTION_TERMS),
        start_date=starts_on,
        delivery=delivery,
        payment_method=rng.choice(PAYMENT["counter"]) if channel == "counter" else "online",
    )
    with world.uow() as uow:
        body = subscriptions.subscribe(uow, world.directory, caller, command, now=moment).body
    world.counts.subscriptions += 1
    if rng.random() < SUBSCRIPTIONS_CANCELLED:
        cancel = SubscriptionCancel(str(body["subscription_no"]), caller)
        _later(world, day + timedelta(days=rng.randint(5, 40)), cancel)


def _cancel_subscription(world: World, moment: datetime, event: SubscriptionCancel) -> None:
    command = subscriptions.CancelCommand(
        event.subscription_no, external_id=f"CANCEL-{event.subscription_no}"
    )
    try:
        with world.uow() as uow:
            subscriptions.cancel_subscription(
                uow, world.directory, event.caller, command, now=moment
            )
    except subscriptions.SubscriptionFullyDelivered:
        return
    world.counts.subscriptions_cancelled += 1


# -- mail ------------------------------------------------------------------------------------


def _post_mail(world: World, day: date, moment: datetime, person: SimMember, outlet: str) -> None:
    """The counter accepts one to three items from the member; their scans follow for days."""
    rng = world.rng
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        service, _, indicator, low, high = rng.choice(MAIL_SERVICES)
        tracking_no = _tracking_no(world, indicator)
        command = mail.AcceptanceCommand(
            external_id=f"POS-{outlet}-{day:%Y%m%d}-{world.next_seq():06d}",
            tracking_no=tracking_no,
            service=service,
            fee_fen=rng.randrange(low, high + 1, 10),
            accepted_at=moment,
            member=person.ref(rng, "counter"),
        )
        with world.uow() as uow:
            mail.accept_mailing(uow, world.directory, "counter", outlet, command)
        world.counts.mailings += 1
        world.mailings.append(tracking_no)
        person.owner().mailings.append(tracking_no)
        _plan_scans(world, day, tracking_no)


def _tracking_no(world: World, indicator: str) -> str:
    while True:
        serial = f"{world.rng.randrange(10**8):08d}"
        number = f"{indicator}{serial}{mail.check_digit(serial)}CN"
        if number not in world.tracking_numbers:
            world.tracking_numbers.add(number)
            return number


def _plan_scans(world: World, day: date, tracking_no: str) -> None:
    """Sorted overnight, at the destination's centre the next night, then out and delivered.

    Scan hours never overlap (sorting 1-6 h, out for delivery 7-9 h, delivered 10-18 h), so
    the scans of an item are always in order.
    """
    rng = world.rng
    city = rng.choice(DESTINATIONS)
    when = day + timedelta(days=1)
    scans = [("in_transit", rng.choice(SORTING_CENTRES), when, 1.0, 6.0)]
    if city != "上海":
        when += timedelta(days=1)
        scans.append(("in_transit", f"{city}邮区中心局", when, 1.0, 6.0))
    when += timedelta(days=rng.randint(0, 1))
    office = f"{city}{rng.choice(DELIVERY_SECTIONS)}投递部"
    if rng.random() < MAIL_RETURNED:
        scans.append(("returned", office, when + timedelta(days=2), 10.0, 18.0))
    else:
        scans.append(("out_for_delivery", office, when, 7.0, 9.0))
        scans.append(("delivered", office, when, 10.0, 18.0))
    for status, location, on, opens, closes in scans:
        _later(
            world, on, MailScan(tracking_no, status, location, _at(on, rng.uniform(opens, closes)))
        )


def _scan(world: World, scan: MailScan) -> None:
    command = mail.EventCommand(
        status=scan.status,
        location=scan.location,
        occurred_at=scan.at,
        external_id=f"SCAN-{scan.tracking_no}-{world.next_seq():07d}",
    )
    with world.uow() as uow:
        mail.record_event(uow, "distribution", None, scan.tracking_no, command)
    world.counts.mail_events += 1


def _redeem(world: World, day: date, person: SimMember) -> None:
    owner = person.owner()
    factory = world.runtime.session_factory
    with read_session(factory) as session:
        summary = points_engine.queries.points_summary(session, owner.member_id, day)
    available = int(summary["available"])
    affordable = [(code, cost) for code, cost in world.rewards if cost <= available]
    if summary["negative_debt"] or not affordable:
        return
    rng = world.rng
    code, _ = rng.choices(affordable, weights=[1 / math.sqrt(c) for _, c in affordable])[0]
    channel = _pick(rng, {"app": 0.75, "hotline": 0.15, "web": 0.1})
    scope, acting = (
        (f"member:{owner.member_no}", None) if channel == "app" else (f"channel:{channel}", channel)
    )
    command = points_engine.RedemptionCommand(
        external_id=f"RD-{day:%Y%m%d}-{world.next_seq():07d}",
        member_no=owner.member_no,
        reward_code=code,
    )
    try:
        with UnitOfWork(factory) as uow:
            body = points_engine.redeem_reward(
                uow, world.directory, command, scope=scope, channel=acting, as_of=day
            ).body
    except (points_engine.OutOfStock, points_engine.InsufficientPoints):
        world.counts.declined += 1
        return
    world.counts.redemptions += 1
    if rng.random() < 0.08:
        _later(world, day + timedelta(days=rng.randint(1, 3)), Cancel(str(body["redemption_id"])))


def _merge_duplicates(world: World, people: Sequence[SimMember]) -> None:
    for person in people:
        if person.duplicate_of is None or person.merged:
            continue
        with UnitOfWork(world.runtime.session_factory) as uow:
            crm.merge_members(uow, person.duplicate_of.member_no, person.member_no)
        person.merged = True
        # The household's card and bill accounts now belong to the surviving record.
        original = person.duplicate_of
        original.prepaid_card = original.prepaid_card or person.prepaid_card
        original.bill_accounts = {**person.bill_accounts, **original.bill_accounts}
        world.counts.merges += 1


# -- after the run ---------------------------------------------------------------------------


def _read_back_outcomes(world: World) -> None:
    """What the jobs decided: orders expired uncollected or unpaid, late bill answers."""
    waiting = (orders.OrderStatus.CREATED, orders.OrderStatus.READY_FOR_PICKUP)
    with read_session(world.runtime.session_factory) as session:
        for order_no, status in world.orders.items():
            if status not in waiting:
                continue
            order = orders.find_order(session, order_no)
            assert order is not None
            if order.status == orders.OrderStatus.EXPIRED:
                if status == orders.OrderStatus.READY_FOR_PICKUP:
                    world.counts.pickups_expired += 1
                else:
                    world.counts.unpaid_expired += 1
            world.orders[order_no] = order.status
        for payment_no in world.unanswered_bills:
            receipt = bills.payment_receipt(session, payment_no, None)
            if receipt["status"] == bills.PaymentStatus.PAID:
                world.counts.bills_late += 1


# -- what the CLI prints --------------------------------------------------------------------


def _lines(
    world: World,
    postings: int,
    staff: Sequence[tuple[str, str, str]],
    keys: Sequence[tuple[str, str | None, str]],
    demo: SimMember,
    balance: dict[str, object],
    base_url: str,
) -> list[str]:
    url = world.runtime.engine.url.render_as_string(hide_password=True)
    c = world.counts
    lines = [
        f"database      {url}",
        (
            f"history       {c.members} members, {c.accruals} till sales "
            f"({c.points_earned} points), {c.refunds} refunds, {c.redemptions} redemptions "
            f"({c.cancellations} cancelled, {c.declined} declined), {c.merges} merges, "
            f"{c.job_runs} job runs, {postings} postings; ledger and prepaid cards verified"
        ),
        *_commerce_lines(world),
        "staff logins  (username / role / password; POST /api/v1/auth/staff-token)",
    ]
    lines += [f"staff         {u} / {r} / {p}" for u, r, p in staff]
    lines.append("channel keys  (channel / institution / key; Authorization: Bearer <key>)")
    lines += [f"channel key   {ch} / {inst or '-'} / {key}" for ch, inst, key in keys]
    lines.append("demo member   (member_no / phone / password; POST /api/v1/auth/member-token)")
    lines.append(f"member        {demo.member_no} / {demo.phone} / {DEMO_PASSWORD}  ({demo.name})")
    lines.append(f"              available {balance['available']}, pending {balance['pending']}")
    return lines + _examples(world, keys, demo, base_url)


def _commerce_lines(world: World) -> list[str]:
    c = world.counts
    statuses = Counter(world.orders.values())
    by_status = ", ".join(f"{statuses[s]} {s}" for s in ORDER_STATUSES if statuses[s])
    by_channel = ", ".join(f"{channel} {n}" for channel, n in sorted(c.order_channels.items()))
    by_method = ", ".join(f"{m} {c.order_methods[m]}" for m in ORDER_METHODS if c.order_methods[m])
    return [
        (
            f"orders        {len(world.orders)} orders ({by_status}); "
            f"{c.pickups_expired} pickups expired uncollected, {c.unpaid_expired} never paid, "
            f"{c.orders_refused} refused (stock, purchase limits, points or card balance)"
        ),
        (
            f"order mix     by channel {by_channel}; paid {by_method}; "
            f"{c.philately_orders} philately"
        ),
        (
            f"bills         {c.bill_payments} bill payments ({c.bills_reversed} reversed the "
            f"same day, {c.bills_late} answered late and settled), {c.bills_declined} declined"
        ),
        f"mail          {c.mailings} mailings, {c.mail_events} tracking events",
        (
            f"subscriptions {c.subscriptions} subscriptions "
            f"({c.subscriptions_cancelled} cancelled mid-term)"
        ),
        f"cards         {c.cards} prepaid cards issued, {c.card_top_ups} top-ups",
    ]


def _examples(
    world: World, keys: Sequence[tuple[str, str | None, str]], demo: SimMember, base_url: str
) -> list[str]:
    """Curl calls to paste, in order; the shell variables carry answers to later calls."""
    api = f"{base_url}/api/v1"
    key = {channel: value for channel, _, value in keys}
    counter = f"-H 'Authorization: Bearer {key['counter']}'"
    app = f"-H 'Authorization: Bearer {key['app']}'"
    member = '-H "Authorization: Bearer $TOKEN"'
    json_header = "-H 'Content-Type: application/json'"
    moment = world.now.astimezone(SHANGHAI).replace(microsecond=0)
    stamp = f"{moment:%Y%m%d}"
    accrual = {
        "external_id": f"POS-{COUNTER_OUTLET}-{stamp}-DEMO01",
        "member": {"phone": demo.phone},
        "institution_code": COUNTER_OUTLET,
        "occurred_at": moment.isoformat(),
        "business_type": "goods",
        "lines": [
            {"sku": "MOONCAKE-PJL-01", "category": "food", "quantity": 2, "amount_fen": 25800}
        ],
        "total_fen": 25800,
        "payment_method": "cash",
    }
    login = {"phone": demo.phone, "password": DEMO_PASSWORD}
    redemption = {
        "external_id": f"APP-RD-{stamp}-DEMO01",
        "member_no": demo.member_no,
        "reward_code": "VOUCHER-MAILING-5",
        "quantity": 1,
    }
    order = {
        "external_id": f"APP-OD-{stamp}-DEMO01",
        "member_no": demo.member_no,
        "lines": [{"sku": EXAMPLE_SKU, "quantity": 1}],
        "fulfillment": {"type": "pickup", "outlet_code": COUNTER_OUTLET},
        "payment": {"method": "online"},
    }
    price = next(p.price_fen for p in catalogue.PRODUCTS if p.sku == EXAMPLE_SKU)
    payment = {
        "external_id": f"APP-PAY-{stamp}-DEMO01",
        "amount_fen": price,
        "method": "online",
        "transaction_ref": f"WX{moment:%Y%m%d%H%M%S}DEMO01",
    }
    verify = {"outlet_code": COUNTER_OUTLET, "pickup_code": "$CODE"}
    water = world.billers["water"]
    account = _example_account(demo)
    bill_query = {"biller_code": water, "account_no": account}
    bill_payment = {
        "external_id": f"POS-{COUNTER_OUTLET}-{stamp}-BILL01",
        "bill_id": "$BILL",
        "amount_fen": _amount_due(world, "water", account),
        "member": {"phone": demo.phone},
    }
    lines = [
        "try it       (with the server running)",
        "  # 1. a counter sale at the demo outlet earns points",
        f"  curl -s -X POST {api}/accruals {counter} {json_header} -d '{_json(accrual)}'",
        "  # 2. the member logs in",
        f"  TOKEN=$(curl -s -X POST {api}/auth/member-token {json_header} -d '{_json(login)}'"
        f" | {_read('access_token')})",
        "  # 3. balance, pending and expiring points",
        f"  curl -s {api}/members/{demo.member_no}/points {member}",
        "  # 4. spend 500 points on a mailing voucher",
        f"  curl -s -X POST {api}/redemptions {member} {json_header} -d '{_json(redemption)}'",
        "  # 5. the app orders a mooncake gift box to collect at the demo outlet, and pays online",
        f"  ORDER=$(curl -s -X POST {api}/orders {app} {json_header} -d '{_json(order)}'"
        f" | {_read('order_no')})",
        f'  CODE=$(curl -s -X POST "{api}/orders/$ORDER/payments" {app} {json_header}'
        f" -d '{_json(payment)}' | {_read('pickup_code')})",
        "  # 6. the counter hands it over on the pickup code; the member's orders and timeline",
        f"  curl -s -X POST {api}/pickups/verify {counter} {json_header} -d {_shell_json(verify)}",
        f"  curl -s {api}/members/{demo.member_no}/orders {member}",
        f"  curl -s {api}/members/{demo.member_no}/activity {member}",
        "  # 7. the member's water bill, looked up and paid at the counter",
        f"  BILL=$(curl -s -X POST {api}/bills/query {counter} {json_header}"
        f" -d '{_json(bill_query)}' | {_read('bill_id')})",
        f"  curl -s -X POST {api}/bill-payments {counter} {json_header}"
        f" -d {_shell_json(bill_payment)}",
    ]
    tracked = demo.owner().mailings or world.mailings
    if tracked:
        lines += [
            "  # 8. anyone with a tracking number follows the item",
            f"  curl -s {api}/mailings/{tracked[0]}",
        ]
    return lines


def _json(body: object) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(", ", ": "))


def _shell_json(body: object) -> str:
    """The body in double quotes, so that the shell fills in the $VARIABLES in it."""
    return '"' + _json(body).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read(name: str) -> str:
    return f"python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{name}\"])'"


def _example_account(demo: SimMember) -> str:
    """A water account of the demo member's household that the sandbox bills without faults."""
    number = f"3100{demo.phone[-6:]}"
    return number[:-1] + "5" if number[-4:] in SANDBOX_FAULTS else number


def _amount_due(world: World, kind: str, account_no: str) -> int:
    """What the sandbox bills the account each month (the amount does not depend on the month)."""
    world.clock.moment = utcnow()
    biller = world.biller_for(bills.BillerInfo(world.billers[kind], "", kind, "sandbox"))
    bill = biller.query_bill(account_no)
    return bill.amount_due_fen if bill is not None else 0
