"""`memberhub demo`: a fresh database with a seeded, realistic history, written through use cases.

Everything is created by the same service functions the API calls (registration, accrual,
refund, redemption, cancellation, merge, campaigns, keys, staff); nothing is inserted with
SQL. One `random.Random(seed)` drives every choice, so the same seed and end date give the
same history: members, purchases, points, refunds and redemptions, with only generated
secrets, member numbers and record ids differing.

How members behave: each has a purchase rate per day drawn from a lognormal (a few buy
often, most rarely), a persona that decides their channels, a day they join and, for many,
a day they stop coming. Purchases are Poisson per day; some goods are refunded within a
week, members with points now and then redeem them (a few cancel), and two duplicate
registrations are merged into their originals part-way through. The scheduled jobs
(pending points release, expiry, tier review) run every simulated week and once for today.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

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
    "press": (
        Product("PRESS-XINMIN-12M", "press", 36000),
        Product("PRESS-JIEFANG-12M", "press", 38400),
        Product("PRESS-READER-12M", "press", 9600),
        Product("PRESS-WENHUI-6M", "press", 17400),
    ),
}
# Mailing fees, bill amounts and partner services: (sku, lowest fen, highest fen).
MAIL_SERVICES = (
    ("MAIL-LETTER", 120, 800),
    ("MAIL-REGISTERED", 500, 1500),
    ("MAIL-PARCEL", 1200, 6000),
    ("MAIL-EMS", 2200, 9000),
)
BILLS = (
    ("BILL-WATER", 3000, 15000),
    ("BILL-ELECTRICITY", 8000, 60000),
    ("BILL-GAS", 4000, 30000),
    ("BILL-BROADBAND", 9900, 19900),
    ("BILL-LANDLINE", 2000, 6000),
)
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
    "web": {"goods": 0.9, "subscription": 0.1},
    "app": {"goods": 0.58, "bill_payment": 0.32, "subscription": 0.05, "philately": 0.05},
    "hotline": {"goods": 0.6, "subscription": 0.4},
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
PAYMENT = {
    "counter": ("cash", "wechat_pay", "alipay", "unionpay"),
    "retail": ("wechat_pay", "alipay", "cash", "prepaid_card"),
    "web": ("online",),
    "app": ("online",),
    "hotline": ("cod", "online"),
    "distribution": ("cod", "online"),
    "partner": ("partner_settlement",),
}


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


Event = Purchase | Refund | Cancel


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
    directory: crm.CrmMemberDirectory = field(default_factory=crm.CrmMemberDirectory)
    counts: Counts = field(default_factory=Counts)
    seq: int = 0
    later: dict[date, list[Refund | Cancel]] = field(default_factory=dict)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


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
    world = World(rng, runtime, start, last, now, outlets, stores, rewards, mid_autumn)
    people = _sim_members(rng, members, days, outlets)
    _register(world, people, show)
    _simulate(world, people, days, show)
    run_due_jobs(runtime, last)
    world.counts.job_runs += 1

    with read_session(factory) as session:
        breaches = points_engine.find_breaches(session)
        postings = points_engine.queries.posting_count(session)
    if breaches:
        raise DemoLedgerBreach("; ".join(str(b) for b in breaches))
    demo = people[0]
    with read_session(factory) as session:
        balance = points_engine.queries.points_summary(session, demo.member_id, last)
    return _lines(runtime, world.counts, postings, staff, keys, demo, balance, now, base_url)


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
            events.append((_moment(world, day, "web"), world.next_seq(), follow_up))
        for moment, _, event in sorted(events, key=lambda e: (e[0], e[1])):
            if moment > world.now:
                continue  # the rest of today has not happened yet
            _handle(world, day, moment, event)


def _moment(world: World, day: date, channel: str) -> datetime:
    opens, closes = OPENING_HOURS[channel]
    minute = min(int(world.rng.uniform(opens, closes) * 60), 24 * 60 - 1)
    return datetime.combine(day, time.min, SHANGHAI) + timedelta(minutes=minute)


def _handle(world: World, day: date, moment: datetime, event: Event) -> None:
    factory = world.runtime.session_factory
    if isinstance(event, Purchase):
        _purchase(world, day, moment, event.person, event.channel)
        if world.rng.random() < event.person.redeem_propensity * 0.5:
            _redeem(world, day, event.person)
    elif isinstance(event, Refund):
        command = points_engine.RefundCommand(
            f"RF-{event.original_external_id}", event.original_external_id, event.amount_fen
        )
        with UnitOfWork(factory) as uow:
            points_engine.refund_purchase(uow, event.channel, command)
        world.counts.refunds += 1
    else:
        with UnitOfWork(factory) as uow:
            points_engine.cancel_redemption(uow, world.directory, event.redemption_no, as_of=day)
        world.counts.cancellations += 1


def _purchase(world: World, day: date, moment: datetime, person: SimMember, channel: str) -> None:
    rng = world.rng
    business_type = _pick(rng, BUSINESS_MIX[channel])
    lines = _lines_for(world, day, channel, business_type)
    institution = _institution(world, person, channel, business_type)
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
    with UnitOfWork(world.runtime.session_factory) as uow:
        body = points_engine.accrue_points(uow, world.directory, channel, command).body
    world.counts.accruals += 1
    world.counts.points_earned += int(body["points"])
    refund_chance = 0.07 if channel in ("web", "app", "hotline", "distribution") else 0.02
    if business_type == "goods" and rng.random() < refund_chance:
        full = len(lines) == 1 or rng.random() < 0.6
        amount = command.total_fen if full else rng.choice(lines).amount_fen
        when = day + timedelta(days=rng.randint(1, 6))
        if when <= world.end:
            world.later.setdefault(when, []).append(Refund(channel, external_id, amount))


def _lines_for(
    world: World, day: date, channel: str, business_type: str
) -> list[points_engine.AccrualLine]:
    rng = world.rng

    def priced(options: Sequence[tuple[str, int, int]]) -> points_engine.AccrualLine:
        sku, low, high = rng.choice(options)
        return points_engine.AccrualLine(sku, 1, rng.randrange(low, high + 1, 10))

    if business_type == "mailing":
        return [priced(MAIL_SERVICES) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    if business_type == "bill_payment":
        return [priced(BILLS)]
    if business_type == "service":
        return [priced(SERVICES)]
    if business_type == "subscription":
        categories = {"press": 1.0}
    elif business_type == "philately":
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
    if channel in ("web", "app") and business_type == "goods" and rng.random() < 0.4:
        return person.home.code  # ordered online, collected at the member's post office
    return "SH"


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
        when = day + timedelta(days=rng.randint(1, 3))
        if when <= world.end:
            world.later.setdefault(when, []).append(Cancel(str(body["redemption_id"])))


def _merge_duplicates(world: World, people: Sequence[SimMember]) -> None:
    for person in people:
        if person.duplicate_of is None or person.merged:
            continue
        with UnitOfWork(world.runtime.session_factory) as uow:
            crm.merge_members(uow, person.duplicate_of.member_no, person.member_no)
        person.merged = True
        world.counts.merges += 1


# -- what the CLI prints --------------------------------------------------------------------


def _lines(
    runtime: Runtime,
    counts: Counts,
    postings: int,
    staff: Sequence[tuple[str, str, str]],
    keys: Sequence[tuple[str, str | None, str]],
    demo: SimMember,
    balance: dict[str, object],
    now: datetime,
    base_url: str,
) -> list[str]:
    api = f"{base_url}/api/v1"
    url = runtime.engine.url.render_as_string(hide_password=True)
    c = counts
    lines = [
        f"database      {url}",
        (
            f"history       {c.members} members, {c.accruals} purchases "
            f"({c.points_earned} points), {c.refunds} refunds, {c.redemptions} redemptions "
            f"({c.cancellations} cancelled, {c.declined} declined), {c.merges} merges, "
            f"{c.job_runs} job runs, {postings} postings; ledger verified"
        ),
        "staff logins  (username / role / password; POST /api/v1/auth/staff-token)",
    ]
    lines += [f"staff         {u} / {r} / {p}" for u, r, p in staff]
    lines.append("channel keys  (channel / institution / key; Authorization: Bearer <key>)")
    lines += [f"channel key   {ch} / {inst or '-'} / {key}" for ch, inst, key in keys]
    lines.append("demo member   (member_no / phone / password; POST /api/v1/auth/member-token)")
    lines.append(f"member        {demo.member_no} / {demo.phone} / {DEMO_PASSWORD}  ({demo.name})")
    lines.append(f"              available {balance['available']}, pending {balance['pending']}")
    counter_key = next(key for ch, _, key in keys if ch == "counter")
    moment = now.astimezone(SHANGHAI).replace(microsecond=0)
    accrual = {
        "external_id": f"POS-{COUNTER_OUTLET}-{moment:%Y%m%d}-DEMO01",
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
        "external_id": f"APP-RD-{moment:%Y%m%d}-DEMO01",
        "member_no": demo.member_no,
        "reward_code": "VOUCHER-MAILING-5",
        "quantity": 1,
    }
    json_header = "-H 'Content-Type: application/json'"
    lines += [
        "try it       (with the server running)",
        "  # 1. a counter sale at the demo outlet earns points",
        f"  curl -s -X POST {api}/accruals -H 'Authorization: Bearer {counter_key}' "
        f"{json_header} -d '{_json(accrual)}'",
        "  # 2. the member logs in",
        f"  TOKEN=$(curl -s -X POST {api}/auth/member-token {json_header} -d '{_json(login)}'"
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        "  # 3. balance, pending and expiring points",
        f'  curl -s {api}/members/{demo.member_no}/points -H "Authorization: Bearer $TOKEN"',
        "  # 4. spend 500 points on a mailing voucher",
        f'  curl -s -X POST {api}/redemptions -H "Authorization: Bearer $TOKEN" '
        f"{json_header} -d '{_json(redemption)}'",
    ]
    return lines


def _json(body: object) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(", ", ": "))
