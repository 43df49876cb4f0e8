"""Scheduled work: pending points released, lots expired, what is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, update

from common.clock import end_of_day, start_of_day
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    LedgerBook,
    MemberAccounts,
    new_txn_id,
)
from points_engine.commands import JobReport
from points_engine.domain.accounts import (
    LotStatus,
    PostingType,
)

# -- jobs -----------------------------------------------------------------------------


def release_due_pending(uow: UnitOfWork, lot_ids: Sequence[int], as_of: date) -> JobReport:
    """Make pending lots available once their return window has passed (idempotent)."""
    session = uow.session
    book = LedgerBook(session)
    released = points = 0
    for lot_id in lot_ids:
        owner_id = session.scalar(
            select(orm.Account.member_id)
            .join(orm.Lot, orm.Lot.account_id == orm.Account.id)
            .where(orm.Lot.id == lot_id)
        )
        assert owner_id is not None
        accounts = book.lock_member(owner_id)
        lot = session.scalars(
            select(orm.Lot)
            .where(orm.Lot.id == lot_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if lot.status != LotStatus.PENDING.value or lot.available_on > as_of:
            continue
        points += _release_lot(book, accounts, lot)
        released += 1
    return JobReport(released_lots=released, released_points=points)


def _release_lot(book: LedgerBook, accounts: MemberAccounts, lot: orm.Lot) -> int:
    """Move one pending lot to available (paying any debt first); returns its points."""
    in_debt = accounts.available.balance < 0
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.RELEASE,
        source=accounts.pending,
        target=accounts.available,
        points=lot.remaining,
        reference=f"release:lot:{lot.id}",
        occurred_at=start_of_day(lot.available_on),
    )
    lot.account_id = accounts.available.id
    lot.status = LotStatus.AVAILABLE.value
    if lot.accrual_id is not None:
        book.session.execute(
            update(orm.Accrual)
            .where(orm.Accrual.id == lot.accrual_id, orm.Accrual.status == "pending")
            .values(status="available")
        )
    released = lot.remaining
    # A debt is paid from the released points afterwards; they were released all the same.
    if in_debt:
        book.settle_debt(accounts.available)
    return released


def schedule_release(
    uow: UnitOfWork, channel: str, external_id: str, available_on: date, as_of: date
) -> int:
    """Set when a held accrual's pending points become available; release now if due.

    Used when an order is collected or delivered: the return window starts then.
    Returns the points
    released now; an unknown accrual or one with nothing pending releases nothing.
    """
    session = uow.session
    accrual_id, member_id = session.execute(
        select(orm.Accrual.id, orm.Accrual.member_id).where(
            orm.Accrual.channel == channel, orm.Accrual.external_id == external_id
        )
    ).one_or_none() or (None, None)
    if accrual_id is None or member_id is None:
        return 0
    book = LedgerBook(session)
    accounts = book.lock_member(member_id)
    accrual = session.get(orm.Accrual, accrual_id)
    assert accrual is not None
    lots = session.scalars(
        select(orm.Lot)
        .where(orm.Lot.accrual_id == accrual_id, orm.Lot.status == LotStatus.PENDING.value)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    released = 0
    for lot in lots:
        lot.available_on = available_on
        if available_on <= as_of:
            released += _release_lot(book, accounts, lot)
    if accrual.status == "pending":
        accrual.available_on = available_on
    session.flush()
    return released


def expire_due_lots(uow: UnitOfWork, account_id: int, as_of: date) -> JobReport:
    """Post the unspent rest of one account's lots that expired before `as_of` (idempotent)."""
    session = uow.session
    book = LedgerBook(session)
    member_id = session.scalar(select(orm.Account.member_id).where(orm.Account.id == account_id))
    assert member_id is not None
    accounts = book.lock_member(member_id)
    lots = list(
        session.scalars(
            select(orm.Lot)
            .where(
                orm.Lot.account_id == accounts.available.id,
                orm.Lot.status == LotStatus.AVAILABLE.value,
                orm.Lot.expires_on < as_of,
            )
            .order_by(orm.Lot.expires_on, orm.Lot.id)
        )
    )
    expiry = book.expiry_account()
    txn = new_txn_id()
    expired_points = 0
    for lot in lots:
        book.post(
            txn_id=txn,
            type=PostingType.EXPIRY,
            source=accounts.available,
            target=expiry,
            points=lot.remaining,
            reference=f"expiry:lot:{lot.id}",
            occurred_at=end_of_day(lot.expires_on),
            breakdown={"lot_id": lot.id, "expires_on": lot.expires_on.isoformat()},
        )
        expired_points += lot.remaining
        lot.expired += lot.remaining
        lot.remaining = 0
        lot.status = LotStatus.EXPIRED.value
    return JobReport(expired_lots=len(lots), expired_points=expired_points)


def due_pending_lots(uow: UnitOfWork, as_of: date) -> list[int]:
    return list(
        uow.session.scalars(
            select(orm.Lot.id)
            .where(orm.Lot.status == LotStatus.PENDING.value, orm.Lot.available_on <= as_of)
            .order_by(orm.Lot.id)
        )
    )


def accounts_with_expiring_lots(uow: UnitOfWork, as_of: date) -> list[int]:
    return list(
        uow.session.scalars(
            select(orm.Lot.account_id)
            .where(orm.Lot.status == LotStatus.AVAILABLE.value, orm.Lot.expires_on < as_of)
            .distinct()
            .order_by(orm.Lot.account_id)
        )
    )
