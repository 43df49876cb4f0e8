"""Manual adjustments: a signed credit or debit by finance, against the adjustment account."""

from __future__ import annotations

from datetime import date

from common import idempotency
from common.clock import utcnow
from common.errors import (
    Invalid,
)
from common.idempotency import Written
from common.unit_of_work import UnitOfWork
from points_engine.adapters.book import (
    LedgerBook,
    new_txn_id,
)
from points_engine.commands import (
    ADJUSTING_INSTITUTION,
    Adjusted,
    AdjustmentCommand,
    MemberDirectory,
    MemberInfo,
    MemberRef,
)
from points_engine.domain.accounts import (
    PostingType,
)
from points_engine.domain.errors import (
    InsufficientPoints,
)
from points_engine.services.accounts import balance_of
from points_engine.services.shared import as_of_day

# -- manual adjustments -------------------------------------------------------------


def adjust_points(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: AdjustmentCommand,
    *,
    actor: str,
    as_of: date | None = None,
) -> Written[Adjusted]:
    """Credit or debit a member by hand (goodwill, corrections), against the adjustment account.

    A credit becomes a lot that expires like earned points; a debit spends lots FIFO by
    expiry and never makes a debt. Idempotent per actor + external_id. Raises Invalid
    (zero points, blank reason, unknown member), InsufficientPoints, Conflict.
    """
    if command.points == 0:
        raise Invalid.field("points", "must not be 0")
    if not command.reason.strip():
        raise Invalid.field("reason", "must say why")
    member = directory.resolve(uow, MemberRef(member_no=command.member_no), "member_no")
    key = idempotency.Key(f"staff:{actor}", "adjustment", command.external_id)
    return idempotency.once(
        uow.session,
        key,
        command,
        lambda: _adjust(uow, directory, command, member, actor, as_of),
        kind=Adjusted,
    )


def _adjust(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: AdjustmentCommand,
    member: MemberInfo,
    actor: str,
    as_of: date | None,
) -> Adjusted:
    session = uow.session
    book = LedgerBook(session)
    accounts = book.lock_member(member.member_id)
    if accounts.member_id != member.member_id:
        member = directory.by_id(uow, accounts.member_id)
    day = as_of_day(as_of)
    now = utcnow()
    reference = f"adjustment:{command.external_id}"
    breakdown = {"reason": command.reason.strip(), "by": actor}
    if command.points > 0:
        in_debt = accounts.available.balance < 0
        book.post(
            txn_id=new_txn_id(),
            type=PostingType.ADJUSTMENT,
            source=book.adjustment_account(),
            target=accounts.available,
            points=command.points,
            reference=reference,
            occurred_at=now,
            breakdown=breakdown,
        )
        book.add_unearned_lot(accounts.available, command.points, day, ADJUSTING_INSTITUTION)
        if in_debt:
            book.settle_debt(accounts.available)
    else:
        wanted = -command.points
        lots = book.spendable_lots(accounts.available, day)
        spendable = sum(lot.remaining for lot in lots)
        if spendable < wanted:
            raise InsufficientPoints(
                f"cannot take {wanted} points: {spendable} available",
                Invalid.field("points", f"at most {spendable} points can be taken").errors,
            )
        book.take_from_lots(lots, wanted)
        book.post(
            txn_id=new_txn_id(),
            type=PostingType.ADJUSTMENT,
            source=accounts.available,
            target=book.adjustment_account(),
            points=wanted,
            reference=reference,
            occurred_at=now,
            breakdown=breakdown,
        )
    session.flush()
    return Adjusted(member.member_no, command.points, command.reason.strip(), balance_of(accounts))
