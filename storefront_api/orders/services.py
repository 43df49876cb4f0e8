"""Order use cases: place, pay, pick up, ship, deliver, cancel, return and expire orders.

Every use case locks the order row before it reads the status, moves it with
`next_status` (the one state machine) and records the change in the history; the
money, points and stock side effects of each step happen in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import crm
import points_engine
from common import idempotency
from common.clock import business_date, start_of_day, to_utc, utcnow
from common.codes import COMPANY_CODE, DELIVERY_FEE_SKU
from common.errors import (
    DomainError,
    InconsistentFields,
    Invalid,
    NotFound,
    RuleViolation,
    UnknownReference,
)
from common.idempotency import Written
from common.organisation import Institution
from common.settings import Settings
from common.sms import SandboxSmsSender, SmsSender
from common.unit_of_work import UnitOfWork
from storefront_api import catalogue, pickup, prepaid, vouchers
from storefront_api.orders.domain import (
    DELIVERY_BUSINESS_TYPE,
    DELIVERY_CATEGORY,
    DELIVERY_NAME,
    ORDER_CHANNELS,
    IllegalTransition,
    OrderEvent,
    OrderPolicy,
    OrderStatus,
    PaymentMethod,
    PaymentMismatch,
    allocate,
    next_status,
)
from storefront_api.orders.orm import Order, OrderLine, OrderPayment, OrderStatusChange
from storefront_api.orders.queries import order_body


class UnknownOrder(NotFound):
    code = "unknown-order"
    title = "Unknown order"


class ReturnWindowClosed(RuleViolation):
    code = "return-window-closed"
    title = "The return window has closed"


@dataclass(frozen=True)
class OrderContext:
    """What order use cases need from the composition root."""

    directory: points_engine.MemberDirectory
    policy: OrderPolicy
    secret: str
    sms: SmsSender

    @classmethod
    def from_settings(
        cls, directory: points_engine.MemberDirectory, settings: Settings
    ) -> OrderContext:
        return cls(
            directory,
            OrderPolicy(
                pickup_days=settings.pickup_days, delivery_fee_fen=settings.delivery_fee_fen
            ),
            settings.secret_key,
            SandboxSmsSender(settings.sms_outbox),
        )


@dataclass(frozen=True)
class Caller:
    """Who acts: `scope` keys idempotency (a channel or a member), `actor` goes in the history."""

    channel: str
    scope: str
    actor: str
    institution_code: str | None = None
    member_no: str | None = None


@dataclass(frozen=True)
class LineCommand:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlaceOrder:
    external_id: str
    member_no: str
    lines: tuple[LineCommand, ...]
    fulfilment: str
    payment_method: str
    outlet_code: str | None = None
    address: str | None = None
    points: int | None = None
    card_no: str | None = None
    card_pin: str | None = None
    voucher_code: str | None = None


@dataclass(frozen=True)
class RewardOrder:
    """A goods reward the member redeemed, to collect or have delivered: its redemption
    paid the points; the cash part (if any) is paid like any order's before it is issued."""

    redemption_no: str
    external_id: str
    member_no: str
    reward_code: str
    name: str
    quantity: int
    points: int
    cash_fen: int
    fulfilment: str
    payment_method: str  # online or cod, for the cash part
    outlet_code: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class PaymentCommand:
    external_id: str
    amount_fen: int
    method: str
    transaction_ref: str


def _new_order_no(now: datetime) -> str:
    return f"PO{business_date(now):%Y%m%d}{secrets.randbelow(10**10):010d}"


def _record(
    session: Session,
    order: Order,
    to: OrderStatus,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    session.add(
        OrderStatusChange(
            order_id=order.id,
            from_status=order.status,
            to_status=to.value,
            actor=actor,
            reason=reason,
            occurred_at=now,
        )
    )
    order.status = to.value
    order.updated_at = now


def _move(
    session: Session,
    order: Order,
    event: OrderEvent,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    _record(session, order, next_status(OrderStatus(order.status), event), actor, now, reason)


def _locked_order(session: Session, order_no: str) -> Order:
    order = session.scalars(
        select(Order)
        .where(Order.order_no == order_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise UnknownOrder(f"no order {order_no!r}")
    return order


def _check_place(session: Session, caller: Caller, command: PlaceOrder) -> None:
    if not command.lines:
        raise Invalid.field("lines", "an order needs at least one line")
    seen: set[str] = set()
    for index, line in enumerate(command.lines):
        if line.quantity <= 0:
            raise Invalid.field(f"lines[{index}].quantity", "must be greater than 0")
        if line.sku in seen:
            raise InconsistentFields.field(
                f"lines[{index}].sku", "appears twice; give one line per SKU"
            )
        seen.add(line.sku)
    _check_fulfilment(session, command.fulfilment, command.outlet_code, command.address)
    method = command.payment_method
    if method not in tuple(PaymentMethod):
        raise Invalid.field("payment.method", "must be online, cod, prepaid_card or points_cash")
    if command.points is not None and method != PaymentMethod.POINTS_CASH:
        raise InconsistentFields.field("payment.points", "only points_cash orders spend points")
    if method == PaymentMethod.POINTS_CASH and command.points is None:
        raise InconsistentFields.field(
            "payment.points", "points_cash orders say how many points to use"
        )
    if method == PaymentMethod.PREPAID_CARD and not command.card_no:
        raise InconsistentFields.field("payment.card_no", "prepaid_card orders name the card")
    if command.card_no is not None and method != PaymentMethod.PREPAID_CARD:
        raise InconsistentFields.field("payment.card_no", "only prepaid_card orders name a card")
    if command.card_pin is not None and method != PaymentMethod.PREPAID_CARD:
        raise InconsistentFields.field(
            "payment.card_pin", "only prepaid_card orders give a card PIN"
        )


def _check_fulfilment(
    session: Session, fulfilment: str, outlet_code: str | None, address: str | None
) -> None:
    if fulfilment == "pickup":
        outlet = session.get(Institution, outlet_code or "")
        if outlet is None or outlet.kind != "outlet":
            raise UnknownReference.field("fulfillment.outlet_code", "not a post office outlet")
    elif fulfilment == "delivery":
        if not address:
            raise Invalid.field("fulfillment.address", "a delivery order needs an address")
    else:
        raise Invalid.field("fulfillment.type", "must be pickup or delivery")


def place_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    command: PlaceOrder,
    *,
    now: datetime | None = None,
) -> Written[dict[str, Any]]:
    """Take an order: price it, take the member's voucher off it, reserve stock and member
    limits, take points and card money.

    Prepaid-card orders are paid at once; cash-on-delivery pickup orders wait at the
    outlet at once (paid there); online and points_cash orders wait for a payment.
    A card payment needs the card's PIN unless the member pays with a card registered
    to them. Raises Invalid (naming the field), UnknownProduct, OutOfStock,
    PerMemberLimitReached, InsufficientPoints, VoucherNotUsable, VoucherAlreadyUsed,
    prepaid card errors (WrongPin, Throttled after too many wrong PINs), Conflict.
    """
    now = to_utc(now) if now is not None else utcnow()
    session = uow.session
    _check_place(session, caller, command)
    if command.payment_method == PaymentMethod.PREPAID_CARD and command.card_no is not None:
        # First, before anything is written: a wrong PIN is counted and committed alone.
        proof = _card_proof(session, context, caller, command)
        if proof is not None:
            prepaid.verify_card_pin(uow, command.card_no, proof, "payment.card_no")

    def effect() -> dict[str, Any]:
        member = context.directory.resolve(
            uow, points_engine.MemberRef(member_no=command.member_no), "member_no"
        )
        products = []
        for index, line in enumerate(command.lines):
            product = catalogue.get_product(session, line.sku)
            if product is None or not product.active:
                raise catalogue.UnknownProduct(
                    f"no product {line.sku!r}",
                    Invalid.field(f"lines[{index}].sku", "unknown SKU").errors,
                )
            products.append(product)
        ranks = catalogue.tier_ranks(session) if any(p.member_prices for p in products) else {}
        # What the member pays a unit: the list price or their tier's member price.
        prices = [catalogue.price_for(product, member.tier, ranks) for product in products]
        fee = _delivery_fee(session, context.policy, command.fulfilment, member.tier)
        total = fee + sum(
            price * line.quantity for price, line in zip(prices, command.lines, strict=True)
        )
        order_no = _new_order_no(now)
        voucher_fen = 0
        if command.voucher_code is not None:
            spend: dict[str, int] = {}
            for product, price, line in zip(products, prices, command.lines, strict=True):
                amount = price * line.quantity
                spend[product.business_type] = spend.get(product.business_type, 0) + amount
            voucher_fen = vouchers.take_voucher(
                session,
                code=command.voucher_code,
                member_id=member.member_id,
                channel=caller.channel,
                institution_code=caller.institution_code,
                order_no=order_no,
                spend_by_business_type=spend,
                now=now,
                field="payment.voucher_code",
            ).applied_fen
        points_used = offset = 0
        if command.payment_method == PaymentMethod.POINTS_CASH:
            assert command.points is not None
            split = context.policy.split_points_cash(
                total - voucher_fen, command.points, "payment.points"
            )
            points_used, offset = split.points_used, split.offset_fen
        for index, (product, line) in enumerate(zip(products, command.lines, strict=True)):
            catalogue.reserve_stock(
                session, product, line.quantity, member.member_id, f"lines[{index}].quantity"
            )
        order = _open_order(
            session,
            caller,
            now,
            order_no=order_no,
            member_id=member.member_id,
            external_id=command.external_id,
            fulfilment=command.fulfilment,
            outlet_code=command.outlet_code,
            address=command.address,
            payment_method=command.payment_method,
            lines=[
                _Line(
                    product.sku,
                    product.name,
                    product.category,
                    product.business_type,
                    line.quantity,
                    price,
                )
                for product, price, line in zip(products, prices, command.lines, strict=True)
            ]
            + (
                [
                    _Line(
                        DELIVERY_FEE_SKU,
                        DELIVERY_NAME,
                        DELIVERY_CATEGORY,
                        DELIVERY_BUSINESS_TYPE,
                        quantity=1,
                        unit_price_fen=fee,
                    )
                ]
                if fee
                else []
            ),
            card_no=command.card_no,
            points_used=points_used,
            points_offset_fen=offset,
            voucher_fen=voucher_fen,
            payable_fen=total - voucher_fen - offset,
        )
        if points_used:
            order.points_redemption_no = points_engine.pay_with_points(
                uow,
                member_id=member.member_id,
                points=points_used,
                cash_fen=offset,
                reference=f"order:{order.order_no}",
                channel=caller.channel,
                as_of=business_date(now),
            )
        code = None
        if order.payable_fen == 0:
            # The voucher and points paid for all of it: nothing is left to collect.
            code = _mark_paid(uow, context, order, caller, now)
        elif command.payment_method == PaymentMethod.PREPAID_CARD:
            assert command.card_no is not None
            charge_no = prepaid.charge_card(
                uow,
                card_no=command.card_no,
                amount_fen=order.payable_fen,
                reference=f"order:{order.order_no}",
                channel=caller.channel,
                field="payment.card_no",
                now=now,
            )
            _add_payment(
                session,
                order,
                caller,
                None,
                PaymentMethod.PREPAID_CARD,
                order.payable_fen,
                charge_no,
                now,
            )
            code = _mark_paid(uow, context, order, caller, now)
        elif command.payment_method == PaymentMethod.COD and command.fulfilment == "pickup":
            code = _await_pickup(uow, context, order, caller.actor, now)
        session.flush()
        return _with_code(order_body(session, order), code)

    key = idempotency.Key(caller.scope, "order", command.external_id)
    return idempotency.once(
        session,
        key,  # The PIN is no part of what makes two orders the same one, and no digest of
        # it may be stored with the idempotency record.
        replace(command, card_pin=None),
        effect,
        kind=dict[str, Any],
        stored=_without_code,
    )


def _delivery_fee(session: Session, policy: OrderPolicy, fulfilment: str, tier: str) -> int:
    """The fee a delivered order adds: none for a pickup, none where the member's tier
    has free delivery."""
    if fulfilment != "delivery":
        return 0
    free = {t["code"] for t in crm.queries.tiers(session) if t["free_delivery"]}
    return 0 if tier in free else policy.delivery_fee_fen


def place_reward_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    reward: RewardOrder,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The order that delivers a goods reward, in the redemption's transaction (whose
    idempotency covers it). Priced as a points_cash order: the points at their worth
    and the cash part; with no cash part it is paid at once. Cancelling or expiring it
    cancels the redemption, so the points and the reward's stock go back.

    Raises Invalid naming `fulfillment.*` or `payment_method`.
    """
    now = to_utc(now) if now is not None else utcnow()
    session = uow.session
    if caller.channel not in ORDER_CHANNELS:
        raise InconsistentFields.field(
            "fulfillment", f"the {caller.channel} channel takes no orders for goods rewards"
        )
    _check_fulfilment(session, reward.fulfilment, reward.outlet_code, reward.address)
    if reward.payment_method not in (PaymentMethod.ONLINE, PaymentMethod.COD):
        raise Invalid.field("payment_method", "must be online or cod")
    member = context.directory.resolve(
        uow, points_engine.MemberRef(member_no=reward.member_no), "member_no"
    )
    worth = reward.points * 100 // context.policy.points_per_yuan
    total = worth + reward.cash_fen
    order = _open_order(
        session,
        caller,
        now,
        order_no=_new_order_no(now),
        member_id=member.member_id,
        external_id=reward.external_id,
        fulfilment=reward.fulfilment,
        outlet_code=reward.outlet_code,
        address=reward.address,
        payment_method=reward.payment_method,
        # One line of the whole worth: its unit price is what one unit is worth.
        lines=[
            _Line(
                reward.reward_code,
                reward.name,
                "other",
                "goods",
                reward.quantity,
                total // reward.quantity,
                amount_fen=total,
            )
        ],
        points_used=reward.points,
        points_offset_fen=worth,
        voucher_fen=0,
        payable_fen=reward.cash_fen,
        points_redemption_no=reward.redemption_no,
        reward_code=reward.reward_code,
    )
    code = None
    if order.payable_fen == 0:
        code = _mark_paid(uow, context, order, caller, now)
    elif reward.payment_method == PaymentMethod.COD and reward.fulfilment == "pickup":
        code = _await_pickup(uow, context, order, caller.actor, now)
    session.flush()
    return _with_code(order_body(session, order), code)


@dataclass(frozen=True)
class _Line:
    sku: str
    name: str
    category: str
    business_type: str
    quantity: int
    unit_price_fen: int
    amount_fen: int | None = None  # unit price x quantity unless given


def _open_order(
    session: Session,
    caller: Caller,
    now: datetime,
    *,
    order_no: str,
    member_id: int,
    external_id: str,
    fulfilment: str,
    outlet_code: str | None,
    address: str | None,
    payment_method: str,
    lines: Sequence[_Line],
    **amounts: Any,
) -> Order:
    """A new order in `created` with its first history row and its lines, flushed; its
    total is the lines' sum. `amounts`: the other columns (points, voucher, payable)."""
    priced = [
        (
            line,
            line.amount_fen if line.amount_fen is not None else line.unit_price_fen * line.quantity,
        )
        for line in lines
    ]
    order = Order(
        order_no=order_no,
        member_id=member_id,
        channel=caller.channel,
        external_id=external_id,
        institution_code=outlet_code or caller.institution_code or COMPANY_CODE,
        fulfilment=fulfilment,
        outlet_code=outlet_code if fulfilment == "pickup" else None,
        address=address if fulfilment == "delivery" else None,
        payment_method=payment_method,
        status=OrderStatus.CREATED.value,
        total_fen=sum(amount for _, amount in priced),
        paid_fen=0,
        accruals=[],
        created_at=now,
        updated_at=now,
        **amounts,
    )
    session.add(order)
    session.flush()
    session.add(
        OrderStatusChange(
            order_id=order.id,
            from_status=None,
            to_status=OrderStatus.CREATED.value,
            actor=caller.actor,
            reason=None,
            occurred_at=now,
        )
    )
    session.add_all(
        OrderLine(
            order_id=order.id,
            sku=line.sku,
            name=line.name,
            category=line.category,
            business_type=line.business_type,
            quantity=line.quantity,
            unit_price_fen=line.unit_price_fen,
            amount_fen=amount,
        )
        for line, amount in priced
    )
    session.flush()
    session.refresh(order, ["lines"])
    return order


def order_of_redemption(session: Session, redemption_no: str) -> tuple[str, str] | None:
    """(order_no, status) of the order delivering a redemption's goods reward, if any."""
    row = session.execute(
        select(Order.order_no, Order.status).where(
            Order.points_redemption_no == redemption_no, Order.reward_code.is_not(None)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def _without_code(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "pickup_code"}


def _with_code(body: dict[str, Any], code: str | None) -> dict[str, Any]:
    # The code is shown once, in the answer that created it; only its hash is stored,
    # so a replayed request gets the stored body without it (see reissue_pickup_code).
    return {**body, "pickup_code": code} if code is not None else body


def _card_proof(
    session: Session, context: OrderContext, caller: Caller, command: PlaceOrder
) -> prepaid.PinProof | None:
    """A member paying with a card registered to them has proven who they are by their
    token; anyone else (a channel, or a member with someone else's card) shows the PIN."""
    assert command.card_no is not None
    holder = prepaid.queries.card_owner(session, command.card_no)
    if (
        caller.member_no is not None
        and holder is not None
        and holder.member_id is not None
        and crm.queries.same_member(session, caller.member_no, holder.member_id)
    ):
        return None
    return prepaid.PinProof(command.card_pin, context.secret, "payment.card_pin")


def _add_payment(
    session: Session,
    order: Order,
    caller: Caller,
    external_id: str | None,
    method: str,
    amount: int,
    reference: str | None,
    now: datetime,
) -> None:
    session.add(
        OrderPayment(
            order_id=order.id,
            channel=caller.channel,
            external_id=external_id,
            method=method,
            amount_fen=amount,
            refunded_fen=0,
            transaction_ref=reference,
            created_at=now,
            updated_at=now,
        )
    )
    order.paid_fen += amount


def _await_pickup(
    uow: UnitOfWork, context: OrderContext, order: Order, actor: str, now: datetime
) -> str:
    assert order.outlet_code is not None
    _move(uow.session, order, OrderEvent.AWAIT_PICKUP, actor, now)
    order.pickup_expires_on = business_date(now) + timedelta(days=context.policy.pickup_days)
    return pickup.issue_code(
        uow.session, order.id, order.outlet_code, order.pickup_expires_on, context.secret, now
    )


def _mark_paid(
    uow: UnitOfWork, context: OrderContext, order: Order, caller: Caller, now: datetime
) -> str | None:
    """Paid: earn the cash part's points (held pending) and, for pickup, wait at the outlet."""
    _move(uow.session, order, OrderEvent.PAY, caller.actor, now)
    order.paid_at = now
    if order.fulfilment == "pickup":
        code = _await_pickup(uow, context, order, caller.actor, now)
        assert order.pickup_expires_on is not None
        hold = order.pickup_expires_on + timedelta(days=1)
    else:
        code = None
        hold = business_date(now) + timedelta(days=30 + context.policy.delivery_return_days)
    _earn(uow, context, order, now, hold)
    return code


def _earn(uow: UnitOfWork, context: OrderContext, order: Order, now: datetime, hold: date) -> None:
    """Accrue the money actually paid (not the points part), one accrual per business type.

    The cash is shared over the lines in proportion to their amounts (largest
    remainder, so no fen is lost); the points stay pending until fulfilment moves
    their date with `schedule_release`, or until `hold` if nothing does.
    """
    shares = allocate(order.payable_fen, [line.amount_fen for line in order.lines])
    member_no = context.directory.by_id(uow, order.member_id).member_no
    groups: dict[str, list[points_engine.AccrualLine]] = {}
    for line, share in zip(order.lines, shares, strict=True):
        if share > 0:
            groups.setdefault(line.business_type, []).append(
                points_engine.AccrualLine(line.sku, line.quantity, share, line.category)
            )
    accruals = list(order.accruals or [])
    for business_type, lines in groups.items():
        external_id = f"order:{order.order_no}:{business_type}"
        points_engine.accrue_points(
            uow,
            context.directory,
            order.channel,
            points_engine.AccrualCommand(
                external_id=external_id,
                member=points_engine.MemberRef(member_no=member_no),
                institution_code=order.institution_code,
                occurred_at=now,
                business_type=business_type,
                lines=tuple(lines),
                total_fen=sum(line.amount_fen for line in lines),
                payment_method=order.payment_method,
                held_until=hold,
            ),
        )
        accruals.append(
            {"external_id": external_id, "amount_fen": sum(li.amount_fen for li in lines)}
        )
    order.accruals = accruals


def pay_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    command: PaymentCommand,
    *,
    now: datetime | None = None,
) -> Written[dict[str, Any]]:
    """Record an online payment of exactly the amount payable; idempotent per external_id.

    Raises UnknownOrder, Invalid (method, amount), IllegalTransition (already paid,
    cancelled, expired), Conflict (external_id reused with another payload).
    """
    now = to_utc(now) if now is not None else utcnow()
    session = uow.session

    def effect() -> dict[str, Any]:
        order = _locked_order(session, order_no)
        if command.method != PaymentMethod.ONLINE:
            raise Invalid.field(
                "method",
                "cash on delivery is collected at pickup or delivery and prepaid cards are "
                "charged when the order is placed; this endpoint takes online payments",
            )
        if order.payment_method not in (PaymentMethod.ONLINE, PaymentMethod.POINTS_CASH):
            raise PaymentMismatch.field("method", f"this order is paid by {order.payment_method}")
        next_status(OrderStatus(order.status), OrderEvent.PAY)
        if command.amount_fen != order.payable_fen:
            raise PaymentMismatch.field(
                "amount_fen", f"must be exactly the {order.payable_fen} fen payable"
            )
        _add_payment(
            session,
            order,
            caller,
            command.external_id,
            PaymentMethod.ONLINE,
            command.amount_fen,
            command.transaction_ref,
            now,
        )
        code = _mark_paid(uow, context, order, caller, now)
        session.flush()
        return _with_code(order_body(session, order), code)

    key = idempotency.Key(caller.scope, "order_payment", command.external_id)
    return idempotency.once(
        session,
        key,
        {"order_no": order_no, **asdict(command)},
        effect,
        kind=dict[str, Any],
        stored=_without_code,
    )


def reissue_pickup_code(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A new pickup code for an order still waiting at its outlet; the old one stops working.

    The code goes by SMS, once committed, to the member's phone and only to the member:
    a channel that asks for it (a lost SMS reported at the hotline) gets the order
    without the code, so whoever hands goods over at a counter can never also mint the
    code for them. The member themself also sees it in the answer.
    """
    now = to_utc(now) if now is not None else utcnow()
    session = uow.session
    order = _locked_order(session, order_no)
    if order.status != OrderStatus.READY_FOR_PICKUP:
        raise pickup.PickupCodeUsed(f"order {order_no} is {order.status}, not waiting for pickup")
    assert order.outlet_code is not None and order.pickup_expires_on is not None
    code = pickup.issue_code(
        session, order.id, order.outlet_code, order.pickup_expires_on, context.secret, now
    )
    session.add(
        OrderStatusChange(
            order_id=order.id,
            from_status=order.status,
            to_status=order.status,
            actor=caller.actor,
            reason="pickup code reissued",
            occurred_at=now,
        )
    )
    body = order_body(session, order)
    phone = crm.queries.phone_of(session, order.member_id)
    message = (
        f"您的订单 {order.order_no} 取件码 {code}，请在 {order.pickup_expires_on} 前"
        f"到 {order.outlet_code} 领取。"
    )
    uow.after_commit(lambda: context.sms.send(phone, message, code=code))
    return _with_code(body, code) if caller.member_no is not None else body


def verify_pickup(
    new_uow: Callable[[], UnitOfWork],
    context: OrderContext,
    caller: Caller,
    outlet_code: str,
    code: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Hand over an order at its outlet: the code is used once, points become available.

    The attempt is counted against the outlet first, in a transaction of its own, and
    a right code gives it back (see pickup.count_attempt). Cash-on-delivery orders are
    paid here (the counter collects the amount payable) and earn their points now.
    Raises Throttled, UnknownPickupCode, PickupCodeUsed, PickupCodeExpired,
    IllegalTransition (cancelled meanwhile).
    """
    now = to_utc(now) if now is not None else utcnow()
    with new_uow() as uow:
        pickup.count_attempt(uow.session, outlet_code, now)
        uow.commit()
    try:
        return _hand_over(new_uow, context, caller, outlet_code, code, now)
    except pickup.UnknownPickupCode:
        raise
    except DomainError:
        # The code was right (used, expired, or the order cancelled meanwhile): only
        # unknown codes count as guesses.
        with new_uow() as uow:
            pickup.give_back_attempt(uow.session, outlet_code)
            uow.commit()
        raise


def _hand_over(
    new_uow: Callable[[], UnitOfWork],
    context: OrderContext,
    caller: Caller,
    outlet_code: str,
    code: str,
    now: datetime,
) -> dict[str, Any]:
    today = business_date(now)
    with new_uow() as uow:
        session = uow.session
        match = pickup.check_code(
            session, code=code, outlet_code=outlet_code, secret=context.secret, today=today
        )
        order = session.scalars(
            select(Order)
            .where(Order.id == match.order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        _move(session, order, OrderEvent.PICK_UP, caller.actor, now)
        if order.payment_method == PaymentMethod.COD:
            _add_payment(
                session, order, caller, None, PaymentMethod.COD, order.payable_fen, None, now
            )
            order.paid_at = now
            _earn(uow, context, order, now, today)
        pickup.mark_used(session, order.id, now)
        order.fulfilled_at = now
        # Collected in person and inspected at the counter: no return window to wait for.
        for accrual in order.accruals or []:
            points_engine.schedule_release(uow, order.channel, accrual["external_id"], today, today)
        session.flush()
        body = order_body(session, order)
        uow.commit()
        return body


def ship_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Hand a delivery order to the courier (paid, or cash on delivery)."""
    now = to_utc(now) if now is not None else utcnow()
    session = uow.session
    order = _locked_order(session, order_no)
    if order.fulfilment != "delivery":
        raise IllegalTransition(
            f"order {order_no} is a pickup order: it is collected at its outlet, not shipped"
        )
    if order.status == OrderStatus.CREATED and order.payment_method != PaymentMethod.COD:
        raise RuleViolation(f"order {order_no} is not paid yet")
    _move(session, order, OrderEvent.SHIP, caller.actor, now)
    session.flush()
    return order_body(session, order)


def deliver_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Delivered: cash on delivery is collected; points become available after the return window."""
    now = to_utc(now) if now is not None else utcnow()
    today = business_date(now)
    session = uow.session
    order = _locked_order(session, order_no)
    _move(session, order, OrderEvent.DELIVER, caller.actor, now)
    release_on = today + timedelta(days=context.policy.delivery_return_days)
    if order.payment_method == PaymentMethod.COD:
        _add_payment(session, order, caller, None, PaymentMethod.COD, order.payable_fen, None, now)
        order.paid_at = now
        _earn(uow, context, order, now, release_on)
    order.fulfilled_at = now
    for accrual in order.accruals or []:
        points_engine.schedule_release(
            uow, order.channel, accrual["external_id"], release_on, today
        )
    session.flush()
    return order_body(session, order)


def cancel_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Cancel before pickup or shipping: money back to where it came from, points used
    returned, points earned reversed, stock released. Raises UnknownOrder,
    IllegalTransition (picked up, shipped, already final)."""
    return _take_back(uow, context, caller, order_no, OrderEvent.CANCEL, reason, now)


def return_order(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Take back a collected or delivered order within the return window, unwound as a
    cancel. Raises what cancel_order raises and ReturnWindowClosed."""
    return _take_back(uow, context, caller, order_no, OrderEvent.RETURN, reason, now)


def _take_back(
    uow: UnitOfWork,
    context: OrderContext,
    caller: Caller,
    order_no: str,
    event: OrderEvent,
    reason: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    now = to_utc(now) if now is not None else utcnow()
    session = uow.session
    order = _locked_order(session, order_no)
    next_status(OrderStatus(order.status), event)
    if event is OrderEvent.RETURN:
        assert order.fulfilled_at is not None
        last_day = business_date(order.fulfilled_at) + timedelta(
            days=context.policy.delivery_return_days
        )
        if business_date(now) > last_day:
            raise ReturnWindowClosed(f"returns were accepted until {last_day.isoformat()}")
    _move(session, order, event, caller.actor, now, reason)
    _unwind(uow, context, order, now)
    session.flush()
    return order_body(session, order)


def _unwind(uow: UnitOfWork, context: OrderContext, order: Order, now: datetime) -> None:
    """Undo an order's money, points and stock (cancel, return, expiry)."""
    session = uow.session
    today = business_date(now)
    payments = session.scalars(select(OrderPayment).where(OrderPayment.order_id == order.id)).all()
    for payment in payments:
        left = payment.amount_fen - payment.refunded_fen
        if left <= 0:
            continue
        if payment.method == PaymentMethod.PREPAID_CARD:
            prepaid.refund_card_charge(
                uow,
                reference=f"order:{order.order_no}",
                amount_fen=left,
                channel=order.channel,
                now=now,
            )
        payment.refunded_fen += left
        payment.updated_at = now
    if order.points_redemption_no is not None:
        points_engine.cancel_redemption(
            uow, context.directory, order.points_redemption_no, as_of=today
        )
    for accrual in order.accruals or []:
        points_engine.refund_purchase(
            uow,
            order.channel,
            points_engine.RefundCommand(
                external_id=f"{accrual['external_id']}:{order.status}",
                original_external_id=accrual["external_id"],
                amount_fen=accrual["amount_fen"],
            ),
        )
    if order.voucher_fen:
        vouchers.give_back_for_order(session, order.order_no, now)
    if order.reward_code is None:  # a reward's stock came back with its redemption
        for line in order.lines:
            catalogue.release_stock(session, line.sku, line.quantity, order.member_id)


def expire_due_orders(
    uow_factory: Callable[[], UnitOfWork],
    context: OrderContext,
    as_of: date,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Expire uncollected pickups (past their last day) and unpaid orders; one transaction each.

    Idempotent: an order already expired, collected or cancelled is left alone.
    """
    with uow_factory() as uow:
        # Whole days: an order placed late yesterday still has today to be paid.
        unpaid_before = start_of_day(as_of - timedelta(days=context.policy.unpaid_days))
        due = list(
            uow.session.scalars(
                select(Order.order_no).where(
                    (
                        (Order.status == OrderStatus.READY_FOR_PICKUP.value)
                        & (Order.pickup_expires_on < as_of)
                    )
                    | (
                        (Order.status == OrderStatus.CREATED.value)
                        & (Order.payment_method != PaymentMethod.COD.value)
                        & (Order.created_at < unpaid_before)
                    )
                )
            )
        )
    expired = 0
    moment = start_of_day(as_of)
    for order_no in due:
        with uow_factory() as uow:
            order = _locked_order(uow.session, order_no)
            status = OrderStatus(order.status)
            if status not in (OrderStatus.CREATED, OrderStatus.READY_FOR_PICKUP):
                continue
            _move(
                uow.session,
                order,
                OrderEvent.EXPIRE,
                "job:expire-orders",
                moment,
                "not collected in time"
                if status == OrderStatus.READY_FOR_PICKUP
                else "not paid in time",
            )
            _unwind(uow, context, order, moment)
            uow.commit()
            expired += 1
        if progress is not None:
            progress(1)
    return expired
