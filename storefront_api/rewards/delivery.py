"""What a redemption delivers: the points are spent in the ledger and, in the same
transaction, the member gets what they paid for:

- a voucher or bill-credit reward: its vouchers (a bill credit pays towards the
  member's next bill of its kind);
- a goods reward: an order through the order flow, collected at an outlet or delivered,
  whose points the redemption paid and whose cash part (if any) is paid like any
  order's before it is issued;
- a partner reward (airline miles): an exchange line to the partner for the member's
  number in its programme, settled by the day's file like any exchange.

A replayed redemption answers what the first one delivered. Cancelling a redemption
voids its unused vouchers before the points go back, and is refused while one of them
is used, while its goods order stands (cancel the order: that gives the points back) or
once its exchange line is on its way to the partner (a rejection gives them back).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import points_engine
from common import idempotency
from common.clock import business_date, utcnow
from common.codes import VALUE_KINDS
from common.errors import Conflict, InconsistentFields
from common.idempotency import Written
from common.unit_of_work import UnitOfWork
from storefront_api import orders, partners, vouchers
from storefront_api.vouchers import VoucherView

FINAL_ORDER_STATUSES = ("cancelled", "expired", "refunded")


class RewardUnderway(Conflict):
    code = "reward-underway"
    title = "The reward is on its way"


@dataclass(frozen=True)
class Fulfilment:
    """Where a goods reward goes, and how its cash part is paid (online, or cod)."""

    type: str  # pickup or delivery
    outlet_code: str | None = None
    address: str | None = None
    payment_method: str = "online"


@dataclass(frozen=True)
class RedeemRequest:
    redemption: points_engine.RedemptionCommand
    fulfilment: Fulfilment | None = None
    partner_member_no: str | None = None


@dataclass(frozen=True)
class Redeemer:
    """Who redeems: `scope` keys idempotency; `ledger_channel` is the key's channel (None
    when the member redeems themself); `caller` places a goods reward's order."""

    scope: str
    ledger_channel: str | None
    institution_code: str | None
    caller: orders.Caller


@dataclass(frozen=True)
class Delivered:
    redemption_id: str
    member_no: str
    reward_code: str
    quantity: int
    points_spent: int
    cash_fen: int
    status: str
    balance: points_engine.Balance
    vouchers: list[VoucherView] = field(default_factory=list)
    order: dict[str, Any] | None = None
    exchange: partners.Exchange | None = None


def redeem(
    uow: UnitOfWork,
    context: orders.OrderContext,
    redeemer: Redeemer,
    request: RedeemRequest,
    *,
    as_of: date | None = None,
) -> Written[Delivered]:
    """Redeem a reward and deliver it, once per scope + external_id. Raises
    InconsistentFields (a goods reward without fulfilment, or fulfilment for another
    kind), what points_engine.redeem_reward raises, and what placing the order raises."""
    session = uow.session

    def effect() -> Delivered:
        reward = points_engine.queries.find_reward(session, request.redemption.reward_code)
        if reward is not None and reward.active:
            _check_request(reward.kind, request)
        written = points_engine.redeem_reward(
            uow,
            context.directory,
            request.redemption,
            scope=redeemer.scope,
            channel=redeemer.ledger_channel,
            institution_code=redeemer.institution_code,
            as_of=as_of,
        )
        redeemed = written.body
        now = utcnow()
        if written.replayed:  # redeemed before deliveries were recorded with it
            issued = vouchers.redemption_vouchers(
                session, redeemed.redemption_id, business_date(now)
            )
            return _delivered(redeemed, issued)
        assert reward is not None
        if reward.kind == "goods":
            assert request.fulfilment is not None
            order = _order(uow, context, redeemer, request, redeemed, reward.name, now)
            return _delivered(redeemed, order=order)
        if reward.kind == "partner_miles":
            assert request.partner_member_no is not None
            member = context.directory.resolve(
                uow, points_engine.MemberRef(member_no=redeemed.member_no), "member_no"
            )
            exchange = partners.deliver_reward(
                uow,
                member,
                redeemed,
                request.partner_member_no,
                external_id=request.redemption.external_id,
                channel=redeemer.ledger_channel,
                now=now,
            )
            return _delivered(redeemed, exchange=exchange)
        return _delivered(redeemed, _vouchers(uow, context, redeemed, reward, now))

    return idempotency.once(
        session,
        idempotency.Key(redeemer.scope, "reward", request.redemption.external_id),
        request,
        effect,
        kind=Delivered,
        stored=_without_pickup_code,
    )


def _check_request(kind: str, request: RedeemRequest) -> None:
    if kind == "goods" and request.fulfilment is None:
        raise InconsistentFields.field(
            "fulfillment", "a goods reward says where to collect or deliver it"
        )
    if kind != "goods" and request.fulfilment is not None:
        raise InconsistentFields.field("fulfillment", f"a {kind} reward is not delivered")
    if kind == "partner_miles" and request.partner_member_no is None:
        raise InconsistentFields.field(
            "partner_member_no", "a partner reward needs the member's number with the partner"
        )
    if kind != "partner_miles" and request.partner_member_no is not None:
        raise InconsistentFields.field("partner_member_no", "only partner rewards take it")


def _order(
    uow: UnitOfWork,
    context: orders.OrderContext,
    redeemer: Redeemer,
    request: RedeemRequest,
    redeemed: points_engine.Redeemed,
    name: str,
    now: datetime,
) -> dict[str, Any]:
    fulfilment = request.fulfilment
    assert fulfilment is not None
    return orders.place_reward_order(
        uow,
        context,
        redeemer.caller,
        orders.RewardOrder(
            redemption_no=redeemed.redemption_id,
            external_id=request.redemption.external_id,
            member_no=redeemed.member_no,
            reward_code=redeemed.reward_code,
            name=name,
            quantity=redeemed.quantity,
            points=redeemed.points_spent,
            cash_fen=redeemed.cash_fen,
            fulfilment=fulfilment.type,
            payment_method=fulfilment.payment_method,
            outlet_code=fulfilment.outlet_code,
            address=fulfilment.address,
        ),
        now=now,
    )


def _vouchers(
    uow: UnitOfWork,
    context: orders.OrderContext,
    redeemed: points_engine.Redeemed,
    reward: Any,
    now: datetime,
) -> list[VoucherView]:
    if reward.kind not in VALUE_KINDS or reward.value_fen is None or reward.valid_days is None:
        return []
    member = context.directory.resolve(
        uow, points_engine.MemberRef(member_no=redeemed.member_no), "member_no"
    )
    return vouchers.issue_vouchers(
        uow.session,
        member_id=member.member_id,
        redemption_no=redeemed.redemption_id,
        reward_code=reward.code,
        terms=vouchers.VoucherTerms(
            reward.value_fen,
            reward.min_spend_fen,
            reward.valid_days,
            reward.applies_to,
            reward.biller_kind,
        ),
        quantity=redeemed.quantity,
        now=now,
    )


def _delivered(
    redeemed: points_engine.Redeemed,
    issued: list[VoucherView] | None = None,
    *,
    order: dict[str, Any] | None = None,
    exchange: partners.Exchange | None = None,
) -> Delivered:
    return Delivered(
        redemption_id=redeemed.redemption_id,
        member_no=redeemed.member_no,
        reward_code=redeemed.reward_code,
        quantity=redeemed.quantity,
        points_spent=redeemed.points_spent,
        cash_fen=redeemed.cash_fen,
        status=redeemed.status,
        balance=redeemed.balance,
        vouchers=issued or [],
        order=order,
        exchange=exchange,
    )


def _without_pickup_code(delivered: Delivered) -> Delivered:
    # The pickup code is shown once, in the answer that created it (as for any order).
    if delivered.order is None or "pickup_code" not in delivered.order:
        return delivered
    order = {k: v for k, v in delivered.order.items() if k != "pickup_code"}
    return dataclasses.replace(delivered, order=order)


def cancel(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    redemption_no: str,
    *,
    as_of: date | None = None,
) -> points_engine.RedemptionCancelled:
    """Cancel a redemption: its vouchers are voided, then its points go back. Raises
    RewardUnderway, VoucherAlreadyUsed and what points_engine.cancel_redemption raises."""
    order = orders.order_of_redemption(uow.session, redemption_no)
    if order is not None and order[1] not in FINAL_ORDER_STATUSES:
        raise RewardUnderway(
            f"the reward is delivered by order {order[0]}: cancel or return the order, "
            "which gives the points back"
        )
    line = partners.exchange_of_redemption(uow.session, redemption_no)
    if line is not None and line[1] != partners.ExchangeStatus.REJECTED:
        raise RewardUnderway(
            f"the reward went to the partner as exchange line {line[0]}; only the "
            "partner's rejection gives the points back"
        )
    vouchers.void_vouchers(uow.session, redemption_no, utcnow())
    return points_engine.cancel_redemption(uow, directory, redemption_no, as_of=as_of)
