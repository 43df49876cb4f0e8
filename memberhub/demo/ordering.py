"""Orders and prepaid cards in the history, each step through its use case.

Goods and stamps bought on the web, in the app, by phone or from the delivery channel,
and gift boxes pre-ordered at a counter, are orders: collected at a post office with their
pickup code (about one in twelve never is, and the weekly job expires it) or shipped and
delivered; paid online, on delivery, by prepaid card or partly with points; a few are
cancelled, returned or never paid. Members buy prepaid cards at counters and in the app
and top them up when they run low.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import points_engine
from common.db import read_session
from memberhub.demo.people import COUNTER_OUTLET, HeldVoucher, SimMember, pick
from memberhub.demo.sales import EXTERNAL_PREFIX, basket, card_balance
from memberhub.demo.world import OrderStep, World
from storefront_api import catalogue, orders, prepaid

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
COUNTER_PREORDER = 0.05
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
# Business hours a follow-up happens in.
FOLLOW_UP_HOURS = {"verify": "counter", "ship": "distribution", "deliver": "distribution"}

# Prepaid cards: sold at counters and as e-cards in the app, topped up when they run low.
CARD_SALE = {"counter": 0.04, "app": 0.02}
CARD_AMOUNTS_FEN = (20_000, 50_000, 50_000, 100_000, 200_000)
CARD_TOP_UP = 0.5
CARD_LOW_FEN = 30_000
# Holders of a card pay with it this many times more often than the channel's mix says.
CARD_HOLDER_PREFERENCE = 8.0
# A member holding a voucher that fits the order remembers to use it this often.
VOUCHER_REMEMBERED = 0.7


def is_order(rng: random.Random, channel: str, business_type: str) -> bool:
    if channel == "counter":
        return business_type == "goods" and rng.random() < COUNTER_PREORDER
    return channel in ORDERING_CHANNELS and business_type in ("goods", "philately")


def place(
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
    """Place an order, pay it online when that is how it is paid, and plan what comes next."""
    owner = person.owner()
    lines = basket(world, day, channel, business_type, offer, offer_only=offer_only)
    if not lines:
        return
    total = sum(product.price_fen * quantity for product, quantity in lines)
    fulfilment, outlet_code, address = fulfilment_for(world, person, channel, institution)
    voucher = _voucher_for(world, day, owner, total)
    off = min(voucher.value_fen, total) if voucher is not None else 0
    method, points, card_no = _payment(world, day, owner, channel, total - off)
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
        card_pin=owner.prepaid_pin if card_no is not None else None,
        voucher_code=voucher.code if voucher is not None else None,
    )
    caller = customer(world, person, channel, institution)
    try:
        with world.transaction() as uow:
            body = orders.place_order(uow, world.context, caller, command, now=moment).body
    except (
        catalogue.OutOfStock,
        catalogue.PerMemberLimitReached,
        points_engine.InsufficientPoints,
        prepaid.InsufficientBalance,
    ):
        world.counts.orders_refused += 1
        if voucher is not None:
            owner.vouchers.append(voucher)
        return
    if voucher is not None:
        world.counts.vouchers_used += 1
    order_no = str(body["order_no"])
    world.orders[order_no] = str(body["status"])
    world.counts.order_channels[channel] += 1
    world.counts.order_methods[method] += 1
    if business_type == "philately":
        world.counts.philately_orders += 1
    if fulfilment == "delivery":
        fee = int(body["delivery_fee_fen"])
        world.counts.deliveries += 1
        world.counts.free_deliveries += fee == 0
        world.counts.delivery_fees_fen += fee
    if points:
        owner.points_estimate -= int(body["points_used"])
    carry_on(world, day, moment, person, channel, method, body)


def carry_on(
    world: World,
    day: date,
    moment: datetime,
    person: SimMember,
    channel: str,
    method: str,
    body: dict[str, Any],
) -> None:
    """Pay a placed order online when that is how it is paid, and plan what comes next."""
    rng = world.rng
    owner = person.owner()
    order_no = str(body["order_no"])
    fulfilment = str(body["fulfillment"]["type"])
    outlet_code = body["fulfillment"].get("outlet_code")
    if body["status"] == orders.OrderStatus.CREATED and method in ("online", "points_cash"):
        paid_at = moment + timedelta(minutes=rng.randint(1, 15))
        if rng.random() < UNPAID or paid_at > world.now:
            return
        body = _pay(world, channel, order_no, int(body["payable_fen"]), paid_at)
    if method != "cod":
        owner.points_estimate += int(body["payable_fen"]) // 100
    code = body.get("pickup_code")
    step = OrderStep(
        "", order_no, person, channel, outlet_code, str(code) if code is not None else None
    )
    if fulfilment == "pickup":
        draw = rng.random()
        if draw < UNCOLLECTED:
            return
        if draw < UNCOLLECTED + CANCELLED:
            world.plan(day + timedelta(days=rng.randint(1, 3)), replace(step, action="cancel"))
        else:
            delay = timedelta(days=rng.choice(PICKUP_DELAYS))
            world.plan(day + delay, replace(step, action="verify"))
    elif rng.random() < CANCELLED:
        world.plan(day + timedelta(days=1), replace(step, action="cancel"))
    else:
        world.plan(day + timedelta(days=rng.randint(1, 2)), replace(step, action="ship"))


def _voucher_for(world: World, day: date, owner: SimMember, total: int) -> HeldVoucher | None:
    """A voucher the member remembers to use on this order, if one fits it."""
    return owner.take_voucher(day, "goods", total, world.rng, VOUCHER_REMEMBERED)


def fulfilment_for(
    world: World, person: SimMember, channel: str, institution: str
) -> tuple[str, str | None, str | None]:
    """(pickup or delivery, the outlet, the address): collected near home, or delivered there."""
    rng = world.rng
    if channel == "counter":
        return "pickup", institution, None
    if rng.random() < PICKUP_SHARE[channel]:
        near = person.home.code if rng.random() < 0.85 else rng.choice(world.outlets).code
        return "pickup", near, None
    return "delivery", None, address(world, person)


def address(world: World, person: SimMember) -> str:
    """A home address in the street of the member's post office (its number dropped)."""
    if not person.address:
        rng = world.rng
        street = person.home.address.rstrip("0123456789号") or "上海市"
        person.address = (
            f"{street}{rng.randint(1, 999)}弄{rng.randint(1, 60)}号"
            f"{rng.randint(1, 25)}0{rng.randint(1, 4)}室"
        )
    return person.address


def _payment(
    world: World, day: date, owner: SimMember, channel: str, total: int
) -> tuple[str, int | None, str | None]:
    """(method, points, card_no): points_cash spends what the member has, up to the cap."""
    rng = world.rng
    weights = dict(ORDER_PAYMENT[channel])
    if owner.prepaid_card is not None:
        weights["prepaid_card"] = weights.get("prepaid_card", 0.0) * CARD_HOLDER_PREFERENCE
    method = pick(rng, weights)
    fallback = "cod" if channel == "counter" else "online"
    if method == "prepaid_card":
        card = owner.prepaid_card
        if card is not None and card_balance(world, card) >= total:
            return method, None, card
        return fallback, None, None
    if method == "points_cash":
        if owner.points_estimate < 100:
            return fallback, None, None
        with read_session(world.runtime.session_factory) as session:
            summary = points_engine.queries.points_summary(session, owner.member_id, day)
        owner.points_estimate = int(summary["available"]) + int(summary["pending"])
        policy = world.context.policy
        cap = total * policy.max_points_share_bp // 10_000 * policy.points_per_yuan // 100
        points = int(min(int(summary["available"]), cap) * rng.uniform(0.4, 1.0)) // 100 * 100
        if summary["negative_debt"] or points < 100:
            return fallback, None, None
        return method, points, None
    return method, None, None


def customer(world: World, person: SimMember, channel: str, institution: str) -> orders.Caller:
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
    with world.transaction() as uow:
        body = orders.pay_order(
            uow, world.context, _channel_caller(world, channel), order_no, command, now=at
        ).body
    world.orders[order_no] = str(body["status"])
    return body


def follow_up(world: World, day: date, moment: datetime, step: OrderStep) -> None:
    """Collect, ship, deliver, cancel or return an order, and plan the step after it."""
    rng = world.rng
    context = world.context
    if step.action == "verify":
        assert step.outlet_code is not None and step.pickup_code is not None
        caller = _channel_caller(world, "counter", step.outlet_code)
        body = orders.verify_pickup(
            world.uow, context, caller, step.outlet_code, step.pickup_code, now=moment
        )
    else:
        with world.transaction() as uow:
            if step.action == "ship":
                caller = _channel_caller(world, "distribution")
                body = orders.ship_order(uow, context, caller, step.order_no, now=moment)
            elif step.action == "deliver":
                caller = _channel_caller(world, "distribution")
                body = orders.deliver_order(uow, context, caller, step.order_no, now=moment)
            else:
                caller = customer(world, step.person, step.channel, step.outlet_code or "SH")
                if step.action == "cancel":
                    reason = rng.choice(CANCEL_REASONS)
                    body = orders.cancel_order(
                        uow, context, caller, step.order_no, reason, now=moment
                    )
                else:
                    reason = rng.choice(RETURN_REASONS)
                    body = orders.return_order(
                        uow, context, caller, step.order_no, reason, now=moment
                    )
    world.orders[step.order_no] = str(body["status"])
    if step.action == "ship":
        world.plan(day + timedelta(days=rng.randint(1, 3)), replace(step, action="deliver"))
    elif step.action in ("verify", "deliver") and rng.random() < RETURNED:
        world.plan(day + timedelta(days=rng.randint(1, 6)), replace(step, action="return"))


# -- prepaid cards ---------------------------------------------------------------------------


def card_desk(
    world: World, day: date, moment: datetime, person: SimMember, channel: str, institution: str
) -> None:
    """Now and then a member buys a prepaid card (at a counter, or an e-card in the app), or
    tops up one running low there."""
    rng = world.rng
    owner = person.owner()
    outlet = institution if channel == "counter" else None
    external_id = f"{EXTERNAL_PREFIX[channel]}-PC-{day:%Y%m%d}-{world.next_seq():07d}"
    if owner.prepaid_card is None:
        if rng.random() >= CARD_SALE[channel] and not person.wants_card:
            return
        command = prepaid.IssueCommand(
            external_id=external_id,
            amount_fen=rng.choice(CARD_AMOUNTS_FEN),
            member=person.ref(rng, channel),
            institution_code=outlet,
        )
        with world.transaction() as uow:
            body = prepaid.issue_card(
                uow,
                world.directory,
                command,
                scope=f"channel:{channel}",
                channel=channel,
                pin_secret=world.runtime.settings.secret_key,
                now=moment,
            ).body
        owner.prepaid_card = str(body["card_no"])
        owner.prepaid_pin = str(body["pin"])
        world.counts.cards += 1
    elif rng.random() < CARD_TOP_UP and card_balance(world, owner.prepaid_card) < CARD_LOW_FEN:
        top_up = prepaid.TopUpCommand(
            external_id, owner.prepaid_card, rng.choice(CARD_AMOUNTS_FEN[1:4])
        )
        with world.transaction() as uow:
            prepaid.top_up_card(uow, top_up, channel=channel, institution_code=outlet, now=moment)
        world.counts.card_top_ups += 1
