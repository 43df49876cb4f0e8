"""Till sales and the points side of the history: baskets, daily till reports, refunds,
redemptions and their cancellation, and the merge of duplicate registrations.

Counters, shops, the delivery channel and partners report their till sales at the end of
the day, one `accrue_many` batch per channel; a few goods sales are refunded within a week.
Members with points now and then spend them on a reward (a few cancel).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import crm
import points_engine
from common.db import read_session
from common.errors import DomainError
from memberhub.demo.people import TILL_CHANNELS, SimMember, pick
from memberhub.demo.seasons import festival_on
from memberhub.demo.world import CardCharge, Refund, TillSale, World
from storefront_api import catalogue, prepaid

# Goods categories each channel sells.
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
# Mail the delivery channel collects from homes: (till SKU, lowest fee, highest fee).
COLLECTED_MAIL = (("MAIL-LETTER", 120, 800), ("MAIL-PARCEL", 1200, 6000), ("MAIL-EMS", 2200, 9000))
# Partner services: (sku, lowest fen, highest fen).
SERVICES = (
    ("BANK-WEALTH-FEE", 20000, 120000),
    ("INSURANCE-PREMIUM", 30000, 150000),
    ("AIRLINE-TICKET-FEE", 10000, 60000),
)
EXTERNAL_PREFIX = {
    "counter": "POS",
    "retail": "RT",
    "web": "WEB",
    "app": "APP",
    "hotline": "HL",
    "distribution": "DLV",
    "partner": "PTN",
}
# How till sales are paid, and how often holders of a prepaid card use it at a till.
PAYMENT = {
    "counter": ("cash", "wechat_pay", "alipay", "unionpay"),
    "retail": ("wechat_pay", "alipay", "cash", "unionpay"),
    "distribution": ("cod", "online"),
    "partner": ("partner_settlement",),
}
CARD_AT_TILL = 0.6
REFUNDED = 0.02  # goods till sales brought back within a week
# Sales per `accrue_many` transaction: well under SQLite's limit on bound parameters.
TILL_BATCH = 2000
REDEMPTIONS_CANCELLED = 0.08
REDEEMING_CHANNELS = {"app": 0.75, "hotline": 0.15, "web": 0.1}


def basket(
    world: World,
    day: date,
    channel: str,
    business_type: str,
    offer: str | None = None,
    *,
    offer_only: bool = False,
) -> list[tuple[catalogue.ProductSeed, int]]:
    """What a member buys: one to three different products of the channel's categories.

    Festival gift boxes are on sale only in their season. A member acting on a festival's
    offer adds one of its gift boxes, or buys one or two and nothing else when the offer
    alone brought them (`offer_only`).
    """
    rng = world.rng
    chosen: dict[str, tuple[catalogue.ProductSeed, int]] = {}
    if not offer_only:
        season = festival_on(day)
        categories = {"stamps": 1.0} if business_type == "philately" else GOODS_CATEGORIES[channel]
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            offered = [
                product
                for product in world.products[pick(rng, categories)]
                if product.festival is None or product.festival == season
            ]
            product = rng.choice(offered)
            if product.sku not in chosen:
                chosen[product.sku] = (product, _quantity(rng, product))
    if offer is not None:
        gifts = world.products_by_festival[offer]
        for product in rng.sample(gifts, rng.choice((1, 1, 2)) if offer_only else 1):
            chosen.setdefault(product.sku, (product, _quantity(rng, product)))
    return list(chosen.values())


def _quantity(rng: random.Random, product: catalogue.ProductSeed) -> int:
    quantity = 1 if product.price_fen > 20000 else rng.choice((1, 1, 2, 3))
    return min(quantity, product.per_member_limit or quantity)


def sell_at_till(
    world: World,
    day: date,
    moment: datetime,
    person: SimMember,
    channel: str,
    business_type: str,
    institution: str,
    offer: str | None = None,
    *,
    offer_only: bool = False,
) -> None:
    """Ring a sale up; the channel reports it with the day's others at closing time."""
    rng = world.rng
    lines = _till_lines(world, day, channel, business_type, offer, offer_only)
    stamp = day.strftime("%Y%m%d")
    if channel in ("counter", "retail"):
        external_id = f"{EXTERNAL_PREFIX[channel]}-{institution}-{stamp}-{world.next_seq():07d}"
    else:
        external_id = f"{EXTERNAL_PREFIX[channel]}-{stamp}-{world.next_seq():07d}"
    total = sum(line.amount_fen for line in lines)
    card_charge = _pay_by_card(world, person, channel, external_id, total)
    command = points_engine.AccrualCommand(
        external_id=external_id,
        member=person.ref(rng, channel),
        institution_code=institution,
        occurred_at=moment,
        business_type=business_type,
        lines=tuple(lines),
        total_fen=total,
        payment_method="prepaid_card" if card_charge else rng.choice(PAYMENT[channel]),
    )
    world.tills.setdefault(channel, []).append(TillSale(command, person, card_charge))


def card_balance(world: World, card_no: str) -> int:
    with read_session(world.runtime.session_factory) as session:
        return prepaid.card_balance(session, card_no) or 0


def _pay_by_card(
    world: World, person: SimMember, channel: str, external_id: str, amount: int
) -> CardCharge | None:
    """A card holder pays at a counter or shop till with the card, when it holds enough."""
    card_no = person.owner().prepaid_card
    if (
        card_no is None
        or channel not in TILL_CHANNELS
        or world.rng.random() >= CARD_AT_TILL
        or card_balance(world, card_no) < amount
    ):
        return None
    command = prepaid.PaymentCommand(
        f"{external_id}-PC", card_no, amount, pin=person.owner().prepaid_pin
    )
    with world.transaction() as uow:
        body = prepaid.take_card_payment(
            uow, command, channel=channel, pin_secret=world.runtime.settings.secret_key
        ).body
    world.counts.card_payments += 1
    return CardCharge(card_no, str(body["charge_no"]))


def _till_lines(
    world: World,
    day: date,
    channel: str,
    business_type: str,
    offer: str | None,
    offer_only: bool,
) -> list[points_engine.AccrualLine]:
    rng = world.rng

    def priced(sku: str, low: int, high: int) -> points_engine.AccrualLine:
        return points_engine.AccrualLine(sku, 1, rng.randrange(low, high + 1, 10))

    if business_type == "mailing":
        return [priced(*rng.choice(COLLECTED_MAIL)) for _ in range(rng.choice((1, 1, 2)))]
    if business_type == "service":
        return [priced(*rng.choice(SERVICES))]
    return [
        points_engine.AccrualLine(
            product.sku, quantity, product.price_fen * quantity, product.category
        )
        for product, quantity in basket(
            world, day, channel, business_type, offer, offer_only=offer_only
        )
    ]


def report_tills(world: World, day: date) -> None:
    """Each channel's end-of-day report of its till sales, a transaction per `TILL_BATCH`."""
    for channel in sorted(world.tills):
        sales = world.tills[channel]
        for first in range(0, len(sales), TILL_BATCH):
            _report(world, day, channel, sales[first : first + TILL_BATCH])
    world.tills.clear()


def _report(world: World, day: date, channel: str, sales: Sequence[TillSale]) -> None:
    rng = world.rng
    with world.transaction() as uow:
        outcomes = points_engine.accrue_many(
            uow, world.directory, channel, [sale.command for sale in sales], _any_sale
        )
    for sale, outcome in zip(sales, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            raise outcome
        points = outcome.body.points
        world.counts.accruals += 1
        world.counts.points_earned += points
        sale.person.owner().points_estimate += points
        command = sale.command
        if command.business_type == "goods" and rng.random() < REFUNDED and day >= world.start:
            lines = command.lines
            full = len(lines) == 1 or rng.random() < 0.6
            amount = command.total_fen if full else rng.choice(lines).amount_fen
            world.plan(
                day + timedelta(days=rng.randint(1, 6)),
                Refund(channel, command.external_id, amount, sale.card_charge),
            )


def _any_sale(command: points_engine.AccrualCommand) -> None:
    """The demo's own channels may report every sale (the API checks keys per institution)."""


def refund(world: World, event: Refund) -> None:
    """The till takes goods back: the points go, and card money goes back to the card."""
    external_id = f"RF-{event.original_external_id}"
    command = points_engine.RefundCommand(external_id, event.original_external_id, event.amount_fen)
    with world.transaction() as uow:
        points_engine.refund_purchase(uow, event.channel, command)
    if event.card_charge is not None:
        card_no, charge_no = event.card_charge.card_no, event.card_charge.charge_no
        back = prepaid.PaymentRefundCommand(external_id, card_no, charge_no, event.amount_fen)
        with world.transaction() as uow:
            prepaid.refund_card_payment(uow, back, channel=event.channel)
    world.counts.refunds += 1


def merge_duplicates(world: World, people: Sequence[SimMember]) -> None:
    for person in people:
        if person.duplicate_of is None or person.merged:
            continue
        with world.transaction() as uow:
            crm.merge_members(uow, person.duplicate_of.member_no, person.member_no)
        person.merged = True
        # The household's card and bill accounts now belong to the surviving record.
        original = person.duplicate_of
        if original.prepaid_card is None:
            original.prepaid_card, original.prepaid_pin = person.prepaid_card, person.prepaid_pin
        original.bill_accounts = {**person.bill_accounts, **original.bill_accounts}
        original.points_estimate += person.points_estimate
        world.counts.merges += 1


def merge_by_mistake(world: World, people: Sequence[SimMember]) -> str | None:
    """A clerk merges two different members who share a name. Both go on shopping (the
    absorbed one's card now earns for the other) until the mistake is found and an
    admin undoes it (`undo_merge`). Returns the merge's number."""
    ordinary = [p for p in people[len(people) // 2 :] if p.duplicate_of is None and p.member_no]
    if len(ordinary) < 2:
        return None
    survivor, absorbed = ordinary[0], ordinary[1]
    with world.transaction() as uow:
        merged = crm.merge_members(uow, survivor.member_no, absorbed.member_no)
    world.counts.merges += 1
    return str(merged["merge_no"])


def undo_merge(world: World, merge_no: str) -> None:
    with world.transaction() as uow:
        undone = crm.unmerge_members(uow, merge_no, by="staff:admin")
    world.counts.unmerges += 1
    world.counts.unmerged_points_spent += undone["spent_by_survivor"]["points"]
