"""Read side of prepaid cards: a card's balance and details, its entries, a member's activity."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

import points_engine
from common.clock import as_utc
from common.ownership import Owner
from common.unit_of_work import UnitOfWork
from storefront_api.activity import ActivityEntry
from storefront_api.prepaid import domain
from storefront_api.prepaid.domain import EntryKind
from storefront_api.prepaid.orm import Card, Entry

ACTIVITY_TITLES = {
    EntryKind.ISSUE: "储值卡开卡",
    EntryKind.TOP_UP: "储值卡充值",
    EntryKind.CHARGE: "储值卡消费",
    EntryKind.REFUND: "储值卡退款",
}


def card_balance(session: Session, card_no: str) -> int | None:
    """The card's balance in fen, or None when there is no such card."""
    balance = session.scalar(select(Card.balance_fen).where(Card.card_no == card_no))
    return None if balance is None else int(balance)


def describe_card(
    uow: UnitOfWork, directory: points_engine.MemberDirectory, card_no: str
) -> dict[str, Any]:
    """The card's public details; raises MalformedCardNo or UnknownCard."""
    domain.check_card_no(card_no)
    card = uow.session.scalars(select(Card).where(Card.card_no == card_no)).one_or_none()
    if card is None:
        raise domain.UnknownCard("no prepaid card with this number")
    return card_body(uow, directory, card)


def card_body(
    uow: UnitOfWork, directory: points_engine.MemberDirectory, card: Card
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "card_no": card.card_no,
        "balance_fen": card.balance_fen,
        "status": card.status,
    }
    if card.member_id is not None:
        body["member_no"] = holder_member_no(uow, directory, card.member_id)
    body["institution_code"] = card.institution_code
    body["issued_at"] = as_utc(card.created_at).isoformat()
    return body


def holder_member_no(
    uow: UnitOfWork, directory: points_engine.MemberDirectory, member_id: int
) -> str:
    """The member number a card's holder goes by now: the survivor's, if they were merged."""
    recorded = directory.by_id(uow, member_id)
    return directory.resolve(
        uow, points_engine.MemberRef(member_no=recorded.member_no), "member"
    ).member_no


def card_transactions(
    session: Session, card_no: str, before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """The card's entries, newest first, with amounts signed as the card sees them.

    Each item carries its `id` for paging; a refund names the charge it gives back.
    """
    charge = aliased(Entry)
    query = (
        select(Entry, charge.entry_no)
        .join(Card, Card.id == Entry.card_id)
        .outerjoin(charge, charge.id == Entry.refund_of_id)
        .where(Card.card_no == card_no)
        .order_by(Entry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Entry.id < before_id)
    items = []
    for entry, charge_no in session.execute(query):
        item: dict[str, Any] = {
            "id": entry.id,
            "entry_no": entry.entry_no,
            "kind": entry.kind,
            "amount_fen": domain.CARD_SIGN[EntryKind(entry.kind)] * entry.amount_fen,
            "balance_after": entry.balance_after,
            "channel": entry.channel,
            "reference": entry.reference,
            "created_at": as_utc(entry.created_at).isoformat(),
        }
        if charge_no is not None:
            item["charge_no"] = charge_no
        if entry.description is not None:
            item["description"] = entry.description
        items.append(item)
    return items


def member_activity(session: Session, member_id: int) -> list[ActivityEntry]:
    """Every entry on the cards registered to this member id, newest first.

    `amount_fen` is the change of the card's balance; `reference` the entry's number.
    Cards stay registered to the member id they were issued to: after a merge, ask
    for the absorbed member's id as well.
    """
    rows = session.execute(
        select(Entry, Card.card_no)
        .join(Card, Card.id == Entry.card_id)
        .where(Card.member_id == member_id)
        .order_by(Entry.id.desc())
    )
    return [
        ActivityEntry(
            occurred_at=as_utc(entry.created_at),
            kind="prepaid_card",
            reference=entry.entry_no,
            title=f"{ACTIVITY_TITLES[EntryKind(entry.kind)]} 尾号{card_no[-4:]}",
            channel=entry.channel,
            amount_fen=domain.CARD_SIGN[EntryKind(entry.kind)] * entry.amount_fen,
        )
        for entry, card_no in rows
    ]


def card_owner(session: Session, card_no: str) -> Owner | None:
    """The holder and the channel and institution that issued the card."""
    row = session.execute(
        select(Card.member_id, Card.issued_channel, Card.institution_code).where(
            Card.card_no == card_no
        )
    ).one_or_none()
    return None if row is None else Owner(row[0], row[1], row[2])


def charge_owner(session: Session, charge_no: str) -> Owner | None:
    """The holder, and the channel and outlet that took the charge."""
    row = session.execute(
        select(Card.member_id, Entry.channel, Entry.institution_code)
        .join(Card, Card.id == Entry.card_id)
        .where(Entry.entry_no == charge_no, Entry.kind == EntryKind.CHARGE)
    ).one_or_none()
    return None if row is None else Owner(row[0], row[1], row[2])
