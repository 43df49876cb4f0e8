"""Read side of subscriptions: titles, one subscription, a member's subscription activity."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import as_utc
from common.ownership import Owner
from storefront_api.activity import ActivityEntry
from storefront_api.subscriptions.domain import Status, Term, UnknownSubscription
from storefront_api.subscriptions.orm import PressTitle, Subscription

TERM_LABELS = {Term.MONTHLY: "月订", Term.QUARTERLY: "季订", Term.ANNUAL: "年订"}


def press_title_body(title: PressTitle) -> dict[str, Any]:
    return {
        "code": title.code,
        "name": title.name,
        "name_en": title.name_en,
        "publisher": title.publisher,
        "frequency": title.frequency,
        "monthly_price_fen": title.monthly_price_fen,
    }


def list_press_titles(session: Session) -> list[dict[str, Any]]:
    """Titles on sale, by code."""
    return [
        press_title_body(title)
        for title in session.scalars(
            select(PressTitle).where(PressTitle.active).order_by(PressTitle.code)
        )
    ]


def subscription_body(row: Subscription, title: PressTitle) -> dict[str, Any]:
    delivery: dict[str, Any] = {"type": row.delivery_type}
    if row.delivery_address is not None:
        delivery["address"] = row.delivery_address
    if row.outlet_code is not None:
        delivery["outlet_code"] = row.outlet_code
    body: dict[str, Any] = {
        "subscription_no": row.subscription_no,
        "status": row.status,
        "member_no": row.member_no,
        "channel": row.channel,
        "title_code": title.code,
        "title_name": title.name,
        "term": row.term,
        "months": row.months,
        "monthly_price_fen": row.monthly_price_fen,
        "total_fen": row.total_fen,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "delivery": delivery,
        "payment_method": row.payment_method,
        "points": row.points,
    }
    if row.status == Status.CANCELLED:
        assert row.cancelled_on is not None
        body["cancelled_on"] = row.cancelled_on.isoformat()
        body["refund_fen"] = row.refund_fen
        body["points_reversed"] = row.points_reversed
    return body


def find_subscription(session: Session, subscription_no: str) -> dict[str, Any]:
    """The subscription's body. Raises UnknownSubscription."""
    found = session.execute(
        select(Subscription, PressTitle)
        .join(PressTitle, PressTitle.code == Subscription.title_code)
        .where(Subscription.subscription_no == subscription_no)
    ).one_or_none()
    if found is None:
        raise UnknownSubscription(f"no subscription {subscription_no!r}")
    row, title = found
    return subscription_body(row, title)


def member_activity(session: Session, member_id: int) -> list[ActivityEntry]:
    """The member's subscriptions, newest first: each sale, and each cancellation's refund.

    Amounts and points are signed from the member's side: a sale pays (negative fen)
    and earns points; a cancellation refunds fen and gives points back.
    """
    entries: list[ActivityEntry] = []
    for row, title in session.execute(
        select(Subscription, PressTitle)
        .join(PressTitle, PressTitle.code == Subscription.title_code)
        .where(Subscription.member_id == member_id)
    ):
        label = TERM_LABELS.get(Term(row.term), row.term)
        entries.append(
            ActivityEntry(
                occurred_at=as_utc(row.created_at),
                kind="subscription",
                reference=row.subscription_no,
                title=f"订阅《{title.name}》{label} {row.starts_on}至{row.ends_on}",
                status=row.status,
                channel=row.channel,
                amount_fen=-row.total_fen,
                points=row.points,
            )
        )
        if row.cancelled_at is not None:
            entries.append(
                ActivityEntry(
                    occurred_at=as_utc(row.cancelled_at),
                    kind="subscription",
                    reference=row.subscription_no,
                    title=f"退订《{title.name}》{row.cancelled_on}后停投",
                    status=Status.CANCELLED.value,
                    channel=row.channel,
                    amount_fen=row.refund_fen,
                    points=-row.points_reversed,
                )
            )
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)
    return entries


def subscription_owner(session: Session, subscription_no: str) -> Owner | None:
    row = session.execute(
        select(Subscription.member_id, Subscription.channel, Subscription.institution_code).where(
            Subscription.subscription_no == subscription_no
        )
    ).one_or_none()
    return None if row is None else Owner(int(row[0]), row[1], row[2])
