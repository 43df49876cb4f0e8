"""Refunds: the points a purchase earned reversed in proportion to the money returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update

from common import idempotency
from common.clock import utcnow
from common.errors import (
    Invalid,
)
from common.idempotency import Written
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    LedgerBook,
    MemberAccounts,
    new_txn_id,
)
from points_engine.commands import RefundCommand, Refunded
from points_engine.domain.accounts import (
    LotStatus,
    PostingType,
)
from points_engine.domain.errors import (
    RefundExceedsOriginal,
    UnknownAccrual,
)
from points_engine.domain.lots import cumulative_reversal, split_proportionally
from points_engine.services.accounts import balance_of

# -- refund -------------------------------------------------------------------------


def refund_purchase(uow: UnitOfWork, channel: str, command: RefundCommand) -> Written[Refunded]:
    """Reverse an accrual's points in proportion to the refunded amount; once per
    channel + external_id.

    Pending points of that purchase go first, then its own available lot, then other
    lots FIFO by expiry; what the member already spent becomes a negative balance that
    blocks redemption. Raises UnknownAccrual, RefundExceedsOriginal, Conflict.
    """
    key = idempotency.Key(f"channel:{channel}", "refund", command.external_id)
    return idempotency.once(
        uow.session, key, command, lambda: _refund(uow, channel, command), kind=Refunded
    )


def _refund(uow: UnitOfWork, channel: str, command: RefundCommand) -> Refunded:
    if command.amount_fen <= 0:
        raise Invalid.field("amount_fen", "must be greater than 0")
    session = uow.session
    book = LedgerBook(session)
    accrual_id = session.scalar(
        select(orm.Accrual.id).where(
            orm.Accrual.channel == channel,
            orm.Accrual.external_id == command.original_external_id,
        )
    )
    if accrual_id is None:
        raise UnknownAccrual(
            f"no accrual {command.original_external_id!r} from channel {channel}",
            [Invalid.field("original_external_id", "no such accrual from this channel").errors[0]],
        )
    member_id = session.scalar(select(orm.Accrual.member_id).where(orm.Accrual.id == accrual_id))
    assert member_id is not None
    accounts = book.lock_member(member_id)
    accrual = session.scalars(
        select(orm.Accrual)
        .where(orm.Accrual.id == accrual_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    refundable = accrual.total_fen - accrual.refunded_fen
    if command.amount_fen > refundable:
        raise RefundExceedsOriginal(
            f"refund of {command.amount_fen} fen exceeds the {refundable} fen still refundable",
            Invalid.field("amount_fen", f"at most {refundable} fen can still be refunded").errors,
        )
    points = cumulative_reversal(
        accrual.points, accrual.total_fen, accrual.refunded_fen, command.amount_fen
    )
    refund = orm.Refund(
        refund_no=public_no("RF"),
        channel=channel,
        external_id=command.external_id,
        accrual_id=accrual.id,
        amount_fen=command.amount_fen,
        points_reversed=points,
        created_at=utcnow(),
    )
    session.add(refund)
    _reverse_accrual_points(book, accounts, accrual, points, f"refund:{refund.refund_no}")
    accrual.refunded_fen += command.amount_fen
    accrual.points_reversed += points
    if accrual.refunded_fen == accrual.total_fen:
        accrual.status = "refunded"
    session.flush()
    return Refunded(refund.refund_no, accrual.accrual_no, points, balance_of(accounts))


@dataclass
class _Origin:
    account: orm.Account
    left: int


def _reverse_accrual_points(
    book: LedgerBook, accounts: MemberAccounts, accrual: orm.Accrual, points: int, reference: str
) -> None:
    if points == 0:
        return
    session = book.session
    lot = session.scalars(select(orm.Lot).where(orm.Lot.accrual_id == accrual.id)).one_or_none()
    from_pending = from_expired = 0
    if lot is not None and lot.status == LotStatus.PENDING.value:
        from_pending = min(points, lot.remaining)
        lot.remaining -= from_pending
        if lot.remaining == 0:
            lot.status = LotStatus.REVERSED.value
    short = points - from_pending
    if short and lot is not None and lot.status == LotStatus.AVAILABLE.value:
        _, short = book.take_from_lots([lot], short)
    if short and lot is not None and lot.expired > 0:
        # Points of this purchase that already expired are not the member's to give
        # back a second time: the reversal takes them out of breakage instead.
        from_expired = min(short, lot.expired)
        lot.expired -= from_expired
        short -= from_expired
    if short:
        others = [
            other
            for other in book.spendable_lots(accounts.available, date.min)
            if lot is None or other.id != lot.id
        ]
        book.take_from_lots(others, short)

    sources: list[dict[str, Any]] = accrual.sources or []
    if sum(int(s["points"]) for s in sources) != accrual.points:
        raise RuntimeError(
            f"accrual {accrual.accrual_no} does not record where its points came from"
        )
    parts = split_proportionally(points, [int(s["points"]) for s in sources])
    txn = new_txn_id()
    expiry = book.expiry_account()
    # Each source gets its share back, drawn first from pending, then from breakage,
    # then from the member's available balance (which may go negative).
    origins = [
        _Origin(accounts.pending, from_pending),
        _Origin(expiry, from_expired),
        _Origin(accounts.available, points - from_pending - from_expired),
    ]
    for source, part in zip(sources, parts, strict=True):
        target = (
            book.lock(int(source["account_id"]))
            if "campaign_id" in source
            else (session.get(orm.Account, int(source["account_id"])))
        )
        assert target is not None
        wanted = part
        for origin in origins:
            amount = min(wanted, origin.left)
            origin.left -= amount
            wanted -= amount
            book.post(
                txn_id=txn,
                type=PostingType.REVERSAL,
                source=origin.account,
                target=target,
                points=amount,
                reference=reference,
                occurred_at=utcnow(),
                breakdown={"accrual_id": accrual.accrual_no},
            )
        if "campaign_id" in source and part:
            session.execute(
                update(orm.CampaignAward)
                .where(
                    orm.CampaignAward.campaign_id == int(source["campaign_id"]),
                    orm.CampaignAward.member_id == accounts.member_id,
                )
                .values(points=orm.CampaignAward.points - part)
            )
