"""Synthetic members: who they are, and when they come (a buy-till-you-die process).

Each member buys at their own rate while active and may stop for good after any purchase,
the process BG/NBD models assume: rates are gamma distributed across members (a few come
every week, most a few times a year), and the chance of stopping after a purchase is beta
distributed (many stop after one or two). Counter regulars, mostly older members, come more
often and stop less. About a third join during a year of history (fewer in a shorter one),
with a purchase; the others joined in the three years before it, and two in five of their
purchases of the 400 days before it (at most two each) are recorded as till sales, so that
tiers start from a real year and points earned the year before expire on the 31 December
inside the history.

A festival campaign's offer reaches treated members (those not in its holdout group, as
`points_engine.in_holdout` decides): it adds one of the festival's gift boxes to some of
what they buy in the season anyway, and brings some back for the gift boxes alone (an
extra visit, more likely the more often they buy). Holdout members buy gift boxes only as
part of their usual shopping, so the difference is the campaign's true effect.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import points_engine
from common.clock import SHANGHAI
from common.organisation import InstitutionView
from memberhub.demo.seasons import Season

# -- who they are -----------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛顾毛龚邵钱严施翁倪"
)
# Shanghai's own frequent surnames (沈, 顾, 陆, 钱, 施, 倪...) weigh a little more.
_LOCAL = set("张王陈朱徐沈顾陆钱施倪周吴")
_SURNAME_WEIGHTS = list(itertools.accumulate(3.0 if s in _LOCAL else 1.0 for s in SURNAMES))
# Given names by generation and sex, space-separated.
GIVEN: dict[str, dict[str, list[str]]] = {
    generation: {sex: names.split() for sex, names in by_sex.items()}
    for generation, by_sex in {
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
    }.items()
}
# Mainland mobile number prefixes.
_MOBILE_PREFIXES = (
    range(130, 140),
    range(150, 154),
    range(155, 160),
    range(180, 190),
    (166, 173, 175, 176, 177, 191, 198, 199),
)
MOBILE_PREFIXES = tuple(str(prefix) for group in _MOBILE_PREFIXES for prefix in group)

# Channel mixes of each persona.
PERSONAS: dict[str, dict[str, float]] = {
    "counter_regular": {
        "counter": 0.63,
        "retail": 0.27,
        "distribution": 0.04,
        "hotline": 0.03,
        "app": 0.03,
    },
    "online": {"retail": 0.6, "counter": 0.2, "app": 0.1, "web": 0.05, "partner": 0.05},
    "mixed": {
        "counter": 0.38,
        "retail": 0.46,
        "app": 0.06,
        "web": 0.03,
        "distribution": 0.03,
        "hotline": 0.02,
        "partner": 0.02,
    },
    # The printed demo member, whose history shows every flow.
    "showcase": {"counter": 0.4, "app": 0.3, "web": 0.15, "retail": 0.15},
}
# What the demo member does in the first days of the history, at a counter and in the app.
SHOWCASE_ERRANDS = (
    ("counter", "mailing"),
    ("app", "bill_payment"),
    ("app", "goods"),
    ("counter", "bill_payment"),
    ("web", "goods"),
    ("web", "subscription"),
)
# Where members who are not counter regulars sign up (with a purchase there).
REGISTRATION = {"counter": 0.7, "app": 0.3}
TILL_CHANNELS = ("counter", "retail")
OPENING_HOURS = {
    "counter": (8.5, 17.5),
    "retail": (9.0, 21.0),
    "distribution": (9.0, 18.0),
    "hotline": (8.0, 20.0),
    "web": (7.0, 24.0),
    "app": (7.0, 24.0),
    "partner": (9.0, 22.0),
}

# -- how they behave --------------------------------------------------------------------------

RATE_SHAPE = 0.6  # gamma shape of purchase rates: well below 1, so a long tail of regulars
MEAN_PURCHASES_PER_YEAR = 3.0  # while active
DROPOUT_BETA = (0.9, 4.0)  # chance of stopping after a purchase: mean 0.18
REGULAR_RATE = 1.6  # counter regulars come more often...
REGULAR_DROPOUT = 0.6  # ...and stop less
JOINING_PER_YEAR = 0.35  # of the members, the share that joins in a year of history
TENURE_DAYS = 3 * 365  # the others joined up to three years before it
PREHISTORY_DAYS = 400  # how far back their purchases are recorded (as till sales)
PREHISTORY_KEPT = 0.4  # of those, the share the old system's records still hold...
PREHISTORY_CAP = 2  # ...and at most this many per member
OFFER_PULL = 0.4  # a treated member's goods purchases in season that take the offer's gift
RESPONSE = 0.15  # the offer brings them back: chance 1 - exp(-RESPONSE x rate x season days)
MERGES = 2  # duplicate registrations, merged into the original part-way through
DEMO_RATE = 0.4  # the printed demo member buys about every other day
DEMO_PASSWORD = "pujiang-2026"
COUNTER_OUTLET = "SH-HP-0001"  # the demo member's post office, and the counter key's


@dataclass(frozen=True)
class HeldVoucher:
    """A voucher the member holds, as the demo remembers it to spend it on an order."""

    code: str
    value_fen: int
    min_spend_fen: int
    valid_until: date
    applies_to: str | None

    def fits(self, day: date, business_type: str, spend_fen: int) -> bool:
        return (
            self.valid_until >= day
            and self.applies_to in (None, business_type)
            and self.min_spend_fen <= spend_fen
        )


@dataclass(slots=True, eq=False)
class SimMember:
    name: str
    phone: str
    card_no: str | None
    birthday: date
    home: InstitutionView
    persona: str
    rate: float  # purchases per day while active
    dropout: float  # chance of stopping for good after each purchase
    registered_at: datetime
    registration_channel: str
    marketing_consent: bool
    redeem_propensity: float
    stops_on: int | None = None  # day index after which the member never comes again
    password: str | None = None
    wants_card: bool = False
    member_no: str = ""
    member_id: int = 0
    duplicate_of: SimMember | None = None
    merged: bool = False
    address: str = ""
    prepaid_card: str | None = None
    prepaid_pin: str | None = None
    points_estimate: int = 0  # earned minus spent as far as the demo knows, pending included
    bill_accounts: dict[str, str] = field(default_factory=dict)
    mailings: list[str] = field(default_factory=list)
    vouchers: list[HeldVoucher] = field(default_factory=list)

    def take_voucher(
        self, day: date, business_type: str, spend_fen: int, rng: random.Random, remembered: float
    ) -> HeldVoucher | None:
        """The most valuable voucher that fits the purchase, if the member remembers it
        (with chance `remembered`); it leaves the member's wallet."""
        self.vouchers = [v for v in self.vouchers if v.valid_until >= day]
        fitting = [v for v in self.vouchers if v.fits(day, business_type, spend_fen)]
        if not fitting or rng.random() >= remembered:
            return None
        chosen = max(fitting, key=lambda v: v.value_fen)
        self.vouchers.remove(chosen)
        return chosen

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


@dataclass(slots=True, frozen=True, eq=False)
class Visit:
    """A member comes to a channel; `festival` when a campaign's offer brought them, `errand`
    when what they come for is set in advance (else the channel's mix decides)."""

    person: SimMember
    channel: str
    festival: str | None = None
    errand: str | None = None


# Visits by day index from the history's first day (negative: last year's till sales),
# each as (moment, sequence, visit) so that a day sorts by time and then by plan order.
Planned = tuple[datetime, int, Visit]


@dataclass
class Plan:
    by_day: dict[int, list[Planned]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, index: int, moment: datetime, visit: Visit) -> None:
        self.by_day.setdefault(index, []).append((moment, next(self.counter), visit))


def at(day: date, hours: float) -> datetime:
    """A Shanghai business day's hour as a UTC instant (what the services store)."""
    minute = min(int(hours * 60), 24 * 60 - 1)
    return (datetime.combine(day, time.min, SHANGHAI) + timedelta(minutes=minute)).astimezone(UTC)


def moment_in(
    rng: random.Random, day: date, channel: str, *, before_closing: float = 0
) -> datetime:
    """A random moment of the channel's opening hours, `before_closing` hours before it shuts."""
    opens, closes = OPENING_HOURS[channel]
    return at(day, rng.uniform(opens, closes - before_closing))


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# -- making them ------------------------------------------------------------------------------


def make_members(
    rng: random.Random,
    count: int,
    start: date,
    days: int,
    outlets: Sequence[InstitutionView],
    plan: Plan,
) -> list[SimMember]:
    """`count` members, their registration and their visits, in order of registration.

    The first is the printed demo member (a regular who never stops); the last `MERGES`
    are duplicate registrations of the members after it.
    """
    phones: set[str] = set()
    cards: set[str] = set()
    merges = min(MERGES, count // 5)
    people = [_member(rng, start, days, outlets, phones, cards) for _ in range(count - merges)]
    demo = people[0]
    demo.password = DEMO_PASSWORD
    demo.persona, demo.rate, demo.dropout = "showcase", DEMO_RATE, 0.0
    demo.wants_card = True
    demo.redeem_propensity = 0.1
    demo.home = next((o for o in outlets if o.code == COUNTER_OUTLET), demo.home)
    demo.registered_at = at(start - timedelta(days=200), 10.0)
    # Duplicate registrations: the same person signed up again at a counter with a new
    # phone and a card; they are merged into the original part-way through.
    for original in people[1 : 1 + merges]:
        original.dropout = 0.0
        people.append(
            SimMember(
                name=original.name,
                phone=_unique(rng, phones, _phone),
                card_no=_unique(rng, cards, _card),
                birthday=original.birthday,
                home=original.home,
                persona="counter_regular",
                rate=max(original.rate, 0.1),
                dropout=0.0,
                registered_at=at(start - timedelta(days=rng.randint(30, 300)), 11.0),
                registration_channel="counter",
                marketing_consent=False,
                redeem_propensity=0.0,
                duplicate_of=original,
            )
        )
    for index, (channel, errand) in enumerate(SHOWCASE_ERRANDS[: max(days - 1, 0)]):
        moment = moment_in(rng, start + timedelta(days=index), channel)
        plan.add(index, moment, Visit(demo, channel, errand=errand))
    for person in people:
        _plan_purchases(rng, person, start, days, plan)
    people.sort(key=lambda p: p.registered_at)
    return people


def _member(
    rng: random.Random,
    start: date,
    days: int,
    outlets: Sequence[InstitutionView],
    phones: set[str],
    cards: set[str],
) -> SimMember:
    birthday = _birthday(rng)
    if birthday.year < 1966:
        persona = "counter_regular"
    elif birthday.year >= 1990:
        persona = rng.choices(("online", "mixed", "counter_regular"), (5, 4, 1))[0]
    else:
        persona = rng.choices(("online", "mixed", "counter_regular"), (3, 5, 2))[0]
    rate = rng.gammavariate(RATE_SHAPE, MEAN_PURCHASES_PER_YEAR / RATE_SHAPE) / 365
    dropout = rng.betavariate(*DROPOUT_BETA)
    if persona == "counter_regular":
        rate, dropout = rate * REGULAR_RATE, dropout * REGULAR_DROPOUT
    channel = "counter" if persona == "counter_regular" else pick(rng, REGISTRATION)
    if rng.random() < min(JOINING_PER_YEAR * days / 365, 0.6):
        joined = start + timedelta(days=rng.randrange(days))
    else:
        joined = start - timedelta(days=rng.randint(30, TENURE_DAYS))
    return SimMember(
        name=_name(rng, birthday),
        phone=_unique(rng, phones, _phone),
        card_no=_unique(rng, cards, _card) if rng.random() < 0.35 else None,
        birthday=birthday,
        home=rng.choice(outlets),
        persona=persona,
        rate=min(rate, 0.8),
        dropout=dropout,
        # Early enough to buy something after signing up the same day.
        registered_at=moment_in(rng, joined, channel, before_closing=0.5),
        registration_channel=channel,
        marketing_consent=rng.random() < 0.55,
        redeem_propensity=rng.betavariate(1.0, 20.0),
    )


def _plan_purchases(
    rng: random.Random, person: SimMember, start: date, days: int, plan: Plan
) -> None:
    """Purchases from the day they join: exponential gaps at their rate, each possibly the last.

    Members join with a purchase. Of those before the history, some of the last
    `PREHISTORY_DAYS` are recorded (at most `PREHISTORY_CAP`), as till sales.
    """
    joined = (person.registered_at.astimezone(SHANGHAI).date() - start).days
    index, recorded_before = joined, 0
    while index < days:
        recorded = index >= 0 or (
            index >= -PREHISTORY_DAYS
            and recorded_before < PREHISTORY_CAP
            and rng.random() < PREHISTORY_KEPT
        )
        if recorded:
            if index == joined:  # where they signed up, minutes later
                channel = person.registration_channel
                moment = person.registered_at + timedelta(minutes=rng.randint(3, 25))
            else:
                channel = pick(rng, PERSONAS[person.persona])
                moment = moment_in(rng, start + timedelta(days=index), channel)
            if index < 0:
                channel = channel if channel in TILL_CHANNELS else "counter"
                recorded_before += 1
            plan.add(index, moment, Visit(person, channel))
        if rng.random() < person.dropout:
            person.stops_on = index
            return
        if person.rate <= 0:
            return
        index += max(1, round(rng.expovariate(person.rate)))


def plan_responses(
    rng: random.Random,
    people: Iterable[SimMember],
    seasons: Sequence[tuple[Season, str, int]],
    start: date,
    days: int,
    plan: Plan,
) -> int:
    """Extra visits of treated members for each season's gift boxes; returns how many.

    `seasons` are (season, campaign code, holdout %). Only members active during the
    season respond; the member ids must be known (after registration).
    """
    planned = 0
    for found, code, holdout_pct in seasons:
        first = (found.starts_on - start).days
        last = min((found.ends_on - start).days, days - 1)
        for person in people:
            if person.duplicate_of is not None:
                continue
            joined = (person.registered_at.astimezone(SHANGHAI).date() - start).days
            until = last if person.stops_on is None else min(last, person.stops_on)
            since = max(first, joined, 0)
            if since > until:
                continue
            if points_engine.in_holdout(code, person.member_id, holdout_pct):
                continue
            if rng.random() >= 1 - math.exp(-RESPONSE * person.rate * found.days):
                continue
            index = rng.randint(since, until)
            channel = pick(rng, PERSONAS[person.persona])
            day = start + timedelta(days=index)
            moment = moment_in(rng, day, channel)
            if index == joined:
                moment = max(moment, person.registered_at + timedelta(minutes=30))
            plan.add(index, moment, Visit(person, channel, found.festival))
            planned += 1
    return planned


def _unique(rng: random.Random, taken: set[str], make: Callable[[random.Random], str]) -> str:
    while True:
        value = make(rng)
        if value not in taken:
            taken.add(value)
            return value


def _phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _card(rng: random.Random) -> str:
    return "622188" + f"{rng.randrange(10**10):010d}"


def _name(rng: random.Random, birthday: date) -> str:
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
    generation = "old" if birthday.year < 1966 else "mid" if birthday.year < 1990 else "young"
    return surname + rng.choice(GIVEN[generation][rng.choice("mf")])


def _birthday(rng: random.Random) -> date:
    year = int(rng.triangular(1945, 2005, 1972))
    return date(year, rng.randint(1, 12), rng.randint(1, 28))
