"""The demo run: a fresh database, its members, last year's sales, then the history day by day.

Each day the jobs run first (weekly), campaigns launch ten days before their season, the
day's visits and the follow-ups planned for it happen in time order on the simulated clock,
and at closing time every till channel reports its sales in one batch.
"""

from __future__ import annotations

import dataclasses
import gc
import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from tqdm import tqdm

import crm
import points_engine
from common.clock import business_date, simulated_time, utcnow
from common.db import read_session
from common.errors import Conflict, DomainError
from common.organisation import list_institutions
from common.settings import load_settings
from common.unit_of_work import transaction
from memberhub.demo import (
    finance,
    ordering,
    partner_exchange,
    post_office,
    rewarding,
    sales,
    seasons,
    summary,
)
from memberhub.demo.people import (
    COUNTER_OUTLET,
    OFFER_PULL,
    PREHISTORY_DAYS,
    Plan,
    Planned,
    SimMember,
    Visit,
    at,
    make_members,
    moment_in,
    pick,
    plan_responses,
)
from memberhub.demo.reporting import save_demo_views
from memberhub.demo.world import (
    Cancel,
    FollowUp,
    MailScan,
    OrderStep,
    Refund,
    SubscriptionCancel,
    World,
)
from memberhub.operations import prepare_database, run_due_jobs
from memberhub.runtime import Runtime, build_runtime
from storefront_api import bills, catalogue, orders, prepaid, subscriptions
from storefront_api.auth import create_api_key, create_staff_user

STAFF = (("admin", "admin"), ("marketer", "marketer"), ("finance", "finance"))
KEYS = (
    ("web", None, "online mall"),
    ("app", None, "China Post app"),
    ("hotline", None, "11185 call centre"),
    ("partner", None, "partners"),
    ("distribution", None, "delivery & pickup"),
    ("counter", COUNTER_OUTLET, "counter POS"),
    ("retail", "store", "chain store till"),
)
JOB_EVERY_DAYS = 7
UNDO_AFTER_DAYS = 7  # how long a wrong merge stands before an admin undoes it
JOB_HOUR = 1.0  # the scheduled jobs run at night
CAMPAIGN_HOUR = 9.0
CLOSING_HOUR = 22.0  # when the tills report the day's sales
REGISTRATION_BATCH = 2000
# Business-type mixes of each channel's visits.
BUSINESS_MIX: dict[str, dict[str, float]] = {
    "counter": {
        "goods": 0.55,
        "philately": 0.16,
        "service": 0.16,
        "mailing": 0.07,
        "bill_payment": 0.04,
        "subscription": 0.02,
    },
    "retail": {"goods": 1.0},
    "web": {"goods": 0.9, "philately": 0.06, "subscription": 0.04},
    "app": {"bill_payment": 0.58, "goods": 0.28, "philately": 0.08, "subscription": 0.06},
    "hotline": {"goods": 0.6, "subscription": 0.35, "philately": 0.05},
    "distribution": {"mailing": 0.6, "goods": 0.4},
    "partner": {"service": 1.0},
}
# The rule version the demo's marketer schedules halfway through the history.
PHILATELY_YEAR = points_engine.RuleVersionCommand(
    code="BASE-PHILATELY",
    effective_from=date.max,  # replaced by the day after it is scheduled
    business_type="philately",
    points=2,
    per_fen=100,
    description="集邮年：集邮业务每1元积2分",
    description_en="Year of philately: 2 points per yuan",
)
# What last year's till sales were.
LAST_YEAR_MIX = {"goods": 0.8, "philately": 0.2}
# Where a member drawn by a festival offer buys the gift boxes, by the channel they came to.
FESTIVAL_CHANNEL = {"partner": "app"}


class DemoRefused(Conflict):
    code = "demo-refused"
    title = "Demo data would overwrite a database in use"


class DemoLedgerBreach(DomainError):
    code = "ledger-breach"
    title = "The generated history breaks a ledger invariant"


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
    # A SQLite file is deleted above and regenerated from the seed: nothing to keep safe.
    runtime = build_runtime(settings, scratch_sqlite=settings.is_sqlite)
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
    world, staff, keys = _world(runtime, rng, start, last, now)
    plan = Plan()
    people = make_members(rng, members, start, days, world.outlets, plan)
    _register(world, people, show)
    found = list(seasons.seasons_starting(start, last))
    campaigns = [seasons.campaign_command(s, members) for s in found]
    world.offers = [(s, c.code, c.holdout_pct) for s, c in zip(found, campaigns, strict=True)]
    world.counts.responses = plan_responses(rng, people, world.offers, start, days, plan)
    # The members and their planned visits live until the end: set them (and the modules
    # loaded so far) aside from the cyclic garbage collector, whose full collections would
    # otherwise walk them again and again while the history allocates.
    gc.freeze()
    try:
        _sell_last_year(world, plan, show)
        launches: dict[int, list[points_engine.CampaignCommand]] = {}
        for command in campaigns:
            launch = max((command.starts_on - start).days - seasons.CAMPAIGN_LEAD_DAYS, 0)
            launches.setdefault(launch, []).append(command)
        _simulate(world, people, plan, days, launches, show)
        # Once more at the end of the last day (now, when that is today).
        with simulated_time(min(now, at(last, CLOSING_HOUR))):
            _run_jobs(world, last)
    finally:
        gc.unfreeze()  # a caller that keeps running (a test) collects them as before
    _read_back_outcomes(world)

    factory = runtime.session_factory
    with read_session(factory) as session:
        breaches = points_engine.find_breaches(session) + prepaid.find_breaches(session)
        postings = points_engine.queries.posting_count(session)
        report = [
            (row.code, row.holdout_pct, row.budget_points, row.budget_points - remaining)
            for row, remaining in points_engine.queries.list_campaigns(session)
        ]
    if breaches:
        raise DemoLedgerBreach("; ".join(str(b) for b in breaches))
    demo = next(p for p in people if p.password is not None)
    with read_session(factory) as session:
        balance = points_engine.queries.points_summary(session, demo.member_id, last)
    exchanges = partner_exchange.exchange_with_partners(runtime, last)
    books = finance.close_books(runtime, start, last, runtime.settings.var_dir / "clearing", show)
    save_demo_views(runtime)
    printed = summary.lines(world, postings, report, staff, keys, demo, balance, base_url)
    return [*printed, exchanges, books]


def _world(
    runtime: Runtime, rng: random.Random, start: date, last: date, now: datetime
) -> tuple[World, list[tuple[str, str, str]], list[tuple[str, str | None, str]]]:
    """The world of the run, and its staff logins and channel keys."""
    factory = runtime.session_factory
    with read_session(factory) as session:
        tree = list_institutions(session, None, 100_000)
        rewards = [
            (r.code, r.points_cost, r.kind) for r in points_engine.queries.list_rewards(session)
        ]
        billers = {b["kind"]: b["code"] for b in bills.list_billers(session)}
        press_titles = [t["code"] for t in subscriptions.list_press_titles(session)]
    outlets = [i for i in tree if i.kind == "outlet"]
    stores = [i for i in tree if i.kind == "store"]
    store = next((s for s in stores if s.code.startswith("SH-HP-")), stores[0])
    staff = []
    for username, role in STAFF:
        with transaction(factory) as uow:
            staff.append((username, role, create_staff_user(uow, username, role)))
    keys = []
    for channel, institution, label in KEYS:
        bound = store.code if institution == "store" else institution
        with transaction(factory) as uow:
            keys.append((channel, bound, create_api_key(uow, channel, bound, label)))
    products: dict[str, list[catalogue.ProductSeed]] = {}
    by_festival: dict[str, list[catalogue.ProductSeed]] = {}
    for product in catalogue.PRODUCTS:
        products.setdefault(product.category, []).append(product)
        if product.festival is not None:
            by_festival.setdefault(product.festival, []).append(product)
    directory = crm.CrmMemberDirectory()
    world = World(
        rng=rng,
        runtime=runtime,
        start=start,
        end=last,
        now=now,
        outlets=outlets,
        stores=stores,
        rewards=rewards,
        directory=directory,
        context=orders.OrderContext.from_settings(directory, runtime.settings),
        # The history names the demo's keys as the actors of order steps, as the API would.
        actors={channel: f"channel:{channel}:{key.split('_', 2)[1]}" for channel, _, key in keys},
        biller_for=bills.sandbox_billers(factory),
        billers=billers,
        products=products,
        products_by_festival=by_festival,
        press_titles=press_titles,
    )
    return world, staff, keys


def _register(world: World, people: Sequence[SimMember], show: bool) -> None:
    """Everyone is registered up front, in the order and at the moment they joined."""
    bar = tqdm(total=len(people), desc="members", unit="member", disable=not show)
    for first in range(0, len(people), REGISTRATION_BATCH):
        batch = people[first : first + REGISTRATION_BATCH]
        commands = [
            crm.RegisterCommand(
                phone=person.phone,
                name=person.name,
                password=person.password,
                card_no=person.card_no,
                birthday=person.birthday,
                marketing_consent=person.marketing_consent,
                channel=person.registration_channel,
                institution_code=(
                    person.home.code if person.registration_channel == "counter" else None
                ),
            )
            for person in batch
        ]
        with simulated_time(batch[-1].registered_at), world.transaction() as uow:
            infos = crm.register_members(
                uow, commands, registered_at=[p.registered_at for p in batch]
            )
        for person, info in zip(batch, infos, strict=True):
            person.member_no, person.member_id = info.member_no, info.member_id
        bar.update(len(batch))
    bar.close()
    world.counts.members = len(people)
    world.counts.joined_before = sum(p.registered_at < at(world.start, 0.0) for p in people)


def _sell_last_year(world: World, plan: Plan, show: bool) -> None:
    """The till sales of the days before the history, reported a week at a time."""
    rng = world.rng
    weeks = range(-PREHISTORY_DAYS, 0, JOB_EVERY_DAYS)
    for first in tqdm(weeks, desc="last year", unit="week", disable=not show):
        day = world.start
        for index in range(first, min(first + JOB_EVERY_DAYS, 0)):
            day = world.start + timedelta(days=index)
            for moment, _, visit in sorted(plan.by_day.pop(index, []), key=_when):
                business_type = pick(rng, LAST_YEAR_MIX)
                institution = _institution(world, visit.person, visit.channel)
                sales.sell_at_till(
                    world, day, moment, visit.person, visit.channel, business_type, institution
                )
                world.counts.prehistory_sales += 1
        with simulated_time(at(day, CLOSING_HOUR)):
            sales.report_tills(world, day)


def _simulate(
    world: World,
    people: Sequence[SimMember],
    plan: Plan,
    days: int,
    launches: dict[int, list[points_engine.CampaignCommand]],
    show: bool,
) -> None:
    merge_day = max(days * 3 // 5, 1) if days > 1 else None
    # A wrong merge of that day is found and undone a week later (or on the last day).
    undo_day = min(merge_day + UNDO_AFTER_DAYS, days - 1) if merge_day is not None else None
    wrong_merge: str | None = None
    # Halfway, a marketer raises the philately rate from the next day (a dated version).
    rule_day = days // 2 if days > 2 else None
    bar = tqdm(range(days), desc="days", unit="day", disable=not show)
    for index in bar:
        day = world.start + timedelta(days=index)
        if index and index % JOB_EVERY_DAYS == 0:
            with simulated_time(at(day, JOB_HOUR)):
                # Tiers are reviewed in the first week of each month.
                _run_jobs(world, day, tiers=day.day <= JOB_EVERY_DAYS)
        for command in launches.get(index, []):
            with simulated_time(at(day, CAMPAIGN_HOUR)), world.transaction() as uow:
                points_engine.create_campaign(uow, command)
        if index == merge_day:
            with simulated_time(at(day, CAMPAIGN_HOUR)):
                sales.merge_duplicates(world, people)
                wrong_merge = sales.merge_by_mistake(world, people)
        if index == rule_day:
            with simulated_time(at(day, CAMPAIGN_HOUR)), world.transaction() as uow:
                points_engine.schedule_rule_version(
                    uow,
                    dataclasses.replace(PHILATELY_YEAR, effective_from=day + timedelta(days=1)),
                    day,
                    "staff:marketer",
                )
        events: list[tuple[datetime, int, Visit | FollowUp]] = list(plan.by_day.pop(index, []))
        for follow_up in world.later.pop(day, []):
            events.append((_follow_up_moment(world, day, follow_up), world.next_seq(), follow_up))
        for moment, _, event in sorted(events, key=_when):
            if moment > world.now:
                continue  # the rest of today has not happened yet
            with simulated_time(moment):
                _handle(world, day, moment, event)
        if index == undo_day and wrong_merge is not None:
            with simulated_time(min(at(day, CLOSING_HOUR - 1), world.now)):
                sales.undo_merge(world, wrong_merge)
        with simulated_time(min(at(day, CLOSING_HOUR), world.now)):
            sales.report_tills(world, day)
        if show:
            c = world.counts
            bar.set_postfix(
                visits=c.visits, sales=c.accruals, orders=len(world.orders), refresh=False
            )
    bar.close()


def _when(event: Planned | tuple[datetime, int, Visit | FollowUp]) -> tuple[datetime, int]:
    return event[0], event[1]


def _follow_up_moment(world: World, day: date, follow_up: FollowUp) -> datetime:
    if isinstance(follow_up, MailScan):
        return follow_up.at
    if isinstance(follow_up, OrderStep):
        return moment_in(world.rng, day, ordering.FOLLOW_UP_HOURS.get(follow_up.action, "app"))
    return moment_in(world.rng, day, "web")


def _run_jobs(world: World, day: date, *, tiers: bool = True) -> None:
    report = run_due_jobs(world.runtime, day, tiers=tiers)
    world.counts.job_runs += 1
    world.counts.expired_lots += report["expired_lots"]
    world.counts.expired_points += report["expired_points"]
    world.counts.birthday_bonuses += report["birthday_bonuses"]
    world.counts.birthday_points += report["birthday_points"]


def _handle(world: World, day: date, moment: datetime, event: Visit | FollowUp) -> None:
    if isinstance(event, Visit):
        _visit(world, day, moment, event)
    elif isinstance(event, Refund):
        sales.refund(world, event)
    elif isinstance(event, Cancel):
        rewarding.cancel_redemption(world, day, event)
    elif isinstance(event, OrderStep):
        ordering.follow_up(world, day, moment, event)
    elif isinstance(event, MailScan):
        post_office.scan(world, event)
    elif isinstance(event, SubscriptionCancel):
        post_office.cancel_subscription(world, moment, event)


def _visit(world: World, day: date, moment: datetime, visit: Visit) -> None:
    """One visit: a till sale, an order, a bill, mail or a subscription, by channel and mix."""
    rng = world.rng
    person, festival = visit.person, visit.festival
    channel = FESTIVAL_CHANNEL.get(visit.channel, visit.channel) if festival else visit.channel
    world.counts.visits += 1
    business_type = visit.errand or ("goods" if festival else pick(rng, BUSINESS_MIX[channel]))
    offer = festival or (_offer_taken(world, day, person) if business_type == "goods" else None)
    institution = _institution(world, person, channel)
    if channel in ordering.CARD_SALE:
        ordering.card_desk(world, day, moment, person, channel, institution)
    if business_type == "mailing" and channel == "counter":
        post_office.post_mail(world, day, moment, person, institution)
    elif business_type == "bill_payment":
        post_office.pay_bill(world, day, moment, person, channel, institution)
    elif business_type == "subscription":
        post_office.subscribe(world, day, moment, person, channel, institution)
    elif ordering.is_order(rng, channel, business_type):
        ordering.place(
            world,
            day,
            moment,
            person,
            channel,
            business_type,
            institution,
            offer,
            offer_only=festival is not None,
        )
    else:
        sales.sell_at_till(
            world,
            day,
            moment,
            person,
            channel,
            business_type,
            institution,
            offer,
            offer_only=festival is not None,
        )
    owner = person.owner()
    if owner.points_estimate >= world.cheapest_reward and rng.random() < person.redeem_propensity:
        rewarding.redeem(world, day, moment, person)


def _offer_taken(world: World, day: date, person: SimMember) -> str | None:
    """The festival whose running offer a treated member acts on in this purchase, if any."""
    member_id = person.owner().member_id
    for found, code, holdout_pct in world.offers:
        if day in found and not points_engine.in_holdout(code, member_id, holdout_pct):
            return found.festival if world.rng.random() < OFFER_PULL else None
    return None


def _institution(world: World, person: SimMember, channel: str) -> str:
    rng = world.rng
    if channel == "counter":
        return person.home.code if rng.random() < 0.8 else rng.choice(world.outlets).code
    if channel == "retail":
        near = [s for s in world.stores if s.parent_code == person.home.parent_code]
        return rng.choice(near or world.stores).code
    if channel == "distribution":
        return person.home.code
    return "SH"


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
            receipt = bills.payment_receipt(session, payment_no)
            if receipt.status == bills.PaymentStatus.PAID:
                world.counts.bills_late += 1
