"""Members' accounts: opened, merged, and their balances as answers show them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from common.clock import utcnow
from common.errors import (
    Conflict,
)
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    LedgerBook,
    MemberAccounts,
    new_txn_id,
)
from points_engine.commands import Balance
from points_engine.domain.accounts import (
    PostingType,
)

# -- members' accounts: open and merge ------------------------------------------------


def open_member_accounts(uow: UnitOfWork, member_id: int) -> None:
    LedgerBook(uow.session).open_member_accounts(member_id)


def open_accounts_for_members(uow: UnitOfWork, member_ids: Sequence[int]) -> None:
    """`open_member_accounts` for many new members, in a few statements."""
    LedgerBook(uow.session).open_accounts_for_members(member_ids)


def merge_member_accounts(uow: UnitOfWork, absorbed_id: int, survivor_id: int) -> int:
    """Move the absorbed member's points, lots and campaign totals to the survivor.

    Lots keep their expiry dates. A negative balance moves too and is settled against the
    survivor's lots. The absorbed accounts stay, closed, pointing at the survivor's.
    Returns the points moved.
    """
    session = uow.session
    book = LedgerBook(session)
    locked = book.lock_members([absorbed_id, survivor_id])
    absorbed, survivor = locked[absorbed_id], locked[survivor_id]
    if absorbed.available.id == survivor.available.id:
        raise Conflict("the two members already share one points account")
    txn = new_txn_id()
    reference = f"merge:{absorbed_id}->{survivor_id}"
    now = utcnow()
    moved = absorbed.available.balance
    for source, target in (
        (absorbed.available, survivor.available),
        (absorbed.pending, survivor.pending),
    ):
        if source.balance > 0:
            book.post(
                txn_id=txn,
                type=PostingType.MERGE,
                source=source,
                target=target,
                points=source.balance,
                reference=reference,
                occurred_at=now,
            )
        elif source.balance < 0:
            book.post(
                txn_id=txn,
                type=PostingType.MERGE,
                source=target,
                target=source,
                points=-source.balance,
                reference=reference,
                occurred_at=now,
            )
        session.execute(
            update(orm.Lot).where(orm.Lot.account_id == source.id).values(account_id=target.id)
        )
        source.status = "merged"
        source.merged_into_id = target.id
    for award in session.scalars(
        select(orm.CampaignAward).where(orm.CampaignAward.member_id == absorbed.member_id)
    ).all():
        add_award(session, award.campaign_id, survivor.member_id, award.points)
        award.points = 0
    session.flush()
    session.expire_all()
    book.settle_debt(book.lock(survivor.available.id))
    return moved


def balance_of(accounts: MemberAccounts) -> Balance:
    return Balance.of(accounts.available.balance, accounts.pending.balance)


def add_award(session: Any, campaign_id: int, member_id: int, points: int) -> None:
    # The member's accounts are locked, so no other transaction updates this row now.
    session.flush()
    award = session.scalars(
        select(orm.CampaignAward).where(
            orm.CampaignAward.campaign_id == campaign_id,
            orm.CampaignAward.member_id == member_id,
        )
    ).one_or_none()
    if award is None:
        session.add(orm.CampaignAward(campaign_id=campaign_id, member_id=member_id, points=points))
    else:
        award.points += points
