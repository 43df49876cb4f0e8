"""Read side of orders: one order with its history, a member's orders, timeline entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import as_utc
from common.codes import DELIVERY_FEE_SKU
from common.ownership import Owner
from storefront_api.activity import ActivityEntry
from storefront_api.orders.orm import Order, OrderPayment, OrderStatusChange
from storefront_api.pickup import pickup_code_of


def order_body(session: Session, order: Order, *, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_no": order.order_no,
        "status": order.status,
        "channel": order.channel,
        "external_id": order.external_id,
        "fulfillment": (
            {"type": "pickup", "outlet_code": order.outlet_code}
            if order.fulfilment == "pickup"
            else {"type": "delivery", "address": order.address}
        ),
        "payment_method": order.payment_method,
        "total_fen": order.total_fen,
        "points_used": order.points_used,
        "points_offset_fen": order.points_offset_fen,
        "voucher_fen": order.voucher_fen,
        "payable_fen": order.payable_fen,
        "paid_fen": order.paid_fen,
        "delivery_fee_fen": sum(
            line.amount_fen for line in order.lines if line.sku == DELIVERY_FEE_SKU
        ),
        "created_at": order.created_at.isoformat(),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price_fen": line.unit_price_fen,
                "amount_fen": line.amount_fen,
            }
            for line in order.lines
        ],
    }
    if order.pickup_expires_on is not None:
        body["pickup_expires_on"] = order.pickup_expires_on.isoformat()
    if order.reward_code is not None:
        body["reward_code"] = order.reward_code
    if not detail:
        return body
    code = pickup_code_of(session, order.id) if order.fulfilment == "pickup" else None
    if code is not None:
        body["pickup"] = {
            "outlet_code": code.outlet_code,
            "expires_on": code.expires_on.isoformat(),
            "used_at": code.used_at.isoformat() if code.used_at else None,
        }
    body["payments"] = [
        {
            "method": p.method,
            "amount_fen": p.amount_fen,
            "refunded_fen": p.refunded_fen,
            "transaction_ref": p.transaction_ref,
            "created_at": p.created_at.isoformat(),
        }
        for p in session.scalars(
            select(OrderPayment).where(OrderPayment.order_id == order.id).order_by(OrderPayment.id)
        )
    ]
    body["history"] = [
        {
            "from": change.from_status,
            "to": change.to_status,
            "at": change.occurred_at.isoformat(),
            "by": change.actor,
            **({"reason": change.reason} if change.reason else {}),
        }
        for change in session.scalars(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order.id)
            .order_by(OrderStatusChange.id)
        )
    ]
    return body


def find_order(session: Session, order_no: str) -> Order | None:
    return session.scalars(select(Order).where(Order.order_no == order_no)).one_or_none()


def member_orders(
    session: Session, member_ids: Sequence[int], *, before_id: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Orders of these member ids from every channel, newest first; the cursor is an order id."""
    query = (
        select(Order)
        .where(Order.member_id.in_(member_ids))
        .order_by(Order.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(Order.id < before_id)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return [order_body(session, row, detail=False) for row in rows], (
        rows[-1].id if more and rows else None
    )


def member_activity(session: Session, member_ids: Sequence[int]) -> list[ActivityEntry]:
    """One entry per order status change of these members' orders."""
    rows = session.execute(
        select(Order.order_no, Order.channel, Order.total_fen, OrderStatusChange)
        .join(OrderStatusChange, OrderStatusChange.order_id == Order.id)
        .where(Order.member_id.in_(member_ids))
    ).all()
    return [
        ActivityEntry(
            occurred_at=as_utc(change.occurred_at),
            kind="order",
            reference=order_no,
            title=change.reason or f"order {change.to_status}",
            status=change.to_status,
            channel=channel,
            amount_fen=total if change.to_status == "created" else None,
        )
        for order_no, channel, total, change in rows
    ]


def order_owner(session: Session, order_no: str) -> Owner | None:
    row = session.execute(
        select(Order.member_id, Order.channel, Order.institution_code, Order.outlet_code).where(
            Order.order_no == order_no
        )
    ).one_or_none()
    return None if row is None else Owner(int(row[0]), row[1], row[2], row[3])
