"""Members' accounts: opened, merged (and a merge undone), and their balances as answers
show them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from common.clock import business_date, utcnow
from common.errors import Conflict, NotFound
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    LedgerBook,
    MemberAccounts,
    new_txn_id,
)
from points_engine.commands import ADJUSTING_INSTITUTION, Balance
from points_engine.domain.accounts import LotStatus, PostingType

# -- members' accounts: open and merge ------------------------------------------------


def open_member_accounts(uow: UnitOfWork, member_id: int) -> None:
    LedgerBook(uow.session).open_member_accounts(member_id)


def open_accounts_for_members(uow: UnitOfWork, member_ids: Sequence[int]) -> None:
    """`open_member_accounts` for many new members, in a few statements."""
    LedgerBook(uow.session).open_accounts_for_members(member_ids)


@dataclass(frozen=True)
class PointsMerged:
    txn_id: str  # names the merge's record, which `unmerge_member_accounts` undoes
    points_moved: int


@dataclass(frozen=True)
class PointsUnmerged:
    """What undoing a merge gave back to the restored member.

    `used_by_survivor`: points of the returned lots that the survivor used while the two
    were merged (expiry and refunds of the restored member's own purchases excluded).
    They are not made good: they stay spent, and the answer names them and the
    survivor's redemptions that drew on the lots.
    """

    points_returned: int
    pending_returned: int
    used_by_survivor: int
    redemptions: tuple[tuple[str, int], ...]  # (redemption number, points of these lots)
    debt_returned: int
    balance: Balance
    survivor_balance: Balance


def merge_member_accounts(uow: UnitOfWork, absorbed_id: int, survivor_id: int) -> PointsMerged:
    """Move the absorbed member's points, lots and campaign totals to the survivor.

    Lots keep their expiry dates. A negative balance moves too and is settled against the
    survivor's lots. The absorbed accounts stay, closed, pointing at the survivor's. What
    moved is recorded, so that the merge can be undone.
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
    awards = {
        str(award.campaign_id): award.points
        for award in session.scalars(
            select(orm.CampaignAward).where(
                orm.CampaignAward.member_id == absorbed.member_id, orm.CampaignAward.points > 0
            )
        )
    }
    session.add(
        orm.AccountMerge(
            txn_id=txn,
            absorbed_member_id=absorbed.member_id,
            survivor_member_id=survivor.member_id,
            debt_covered=max(-absorbed.available.balance, 0),
            awards=awards,
        )
    )
    session.flush()
    _record_lots(session, txn, [absorbed.available.id, absorbed.pending.id])
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
    return PointsMerged(txn, moved)


def _record_lots(session: Session, txn: str, account_ids: Sequence[int]) -> None:
    reversed_so_far = (
        select(orm.Accrual.points_reversed)
        .where(orm.Accrual.id == orm.Lot.accrual_id)
        .scalar_subquery()
    )
    session.execute(
        insert(orm.MergedLot).from_select(
            [
                "merge_txn_id",
                "lot_id",
                "remaining_at_merge",
                "expired_at_merge",
                "reversed_at_merge",
            ],
            select(
                literal(txn),
                orm.Lot.id,
                orm.Lot.remaining,
                orm.Lot.expired,
                func.coalesce(reversed_so_far, 0),
            ).where(orm.Lot.account_id.in_(account_ids)),
        )
    )


def unmerge_member_accounts(uow: UnitOfWork, txn_id: str) -> PointsUnmerged:
    """Undo the merge `txn_id`: the absorbed member's accounts reopen and get back the
    lots the merge moved, as they stand now (with their own expiry), the debt the
    survivor paid for them, and their campaign totals.

    Raises NotFound (no such merge), Conflict (undone already; or the survivor has
    been merged into another member since, whose merge must be undone first).
    """
    session = uow.session
    book = LedgerBook(session)
    record = session.get(orm.AccountMerge, txn_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no merge record {txn_id!r}")
    if record.undone_txn_id is not None:
        raise Conflict("this merge has been undone already")
    locked = book.lock_own_accounts([record.absorbed_member_id, record.survivor_member_id])
    restored, survivor = locked[record.absorbed_member_id], locked[record.survivor_member_id]
    if survivor.available.status != "open":
        raise Conflict(
            "the survivor has been merged into another member since: undo that merge first"
        )
    rows = session.execute(
        select(orm.MergedLot, orm.Lot, func.coalesce(orm.Accrual.points_reversed, 0))
        .join(orm.Lot, orm.Lot.id == orm.MergedLot.lot_id)
        .outerjoin(orm.Accrual, orm.Accrual.id == orm.Lot.accrual_id)
        .where(orm.MergedLot.merge_txn_id == txn_id)
        .with_for_update(of=orm.Lot)
    ).all()
    home = {
        survivor.available.id: restored.available,
        survivor.pending.id: restored.pending,
    }
    returned = {restored.available.id: 0, restored.pending.id: 0}
    used = 0
    for merged, lot, reversed_now in rows:
        target = home[lot.account_id]
        lot.account_id = target.id
        if lot.status in (LotStatus.AVAILABLE.value, LotStatus.PENDING.value):
            returned[target.id] += lot.remaining
        used += max(
            0,
            (merged.remaining_at_merge - lot.remaining)
            - (lot.expired - merged.expired_at_merge)
            - (reversed_now - merged.reversed_at_merge),
        )
    for account in (restored.available, restored.pending):
        account.status = "open"
        account.merged_into_id = None
    txn = new_txn_id()
    reference = f"unmerge:{record.absorbed_member_id}<-{record.survivor_member_id}"
    now = utcnow()
    for source, target in (
        (survivor.available, restored.available),
        (survivor.pending, restored.pending),
    ):
        book.post(
            txn_id=txn,
            type=PostingType.MERGE,
            source=source,
            target=target,
            points=returned[target.id],
            reference=reference,
            occurred_at=now,
        )
    if record.debt_covered:
        _return_debt(book, restored, survivor, record.debt_covered, txn, reference, now)
    for campaign_id, points in record.awards.items():
        _move_award(session, int(campaign_id), survivor.member_id, restored.member_id, points)
    redemptions = session.execute(
        select(orm.Redemption.redemption_no, func.sum(orm.LotConsumption.points))
        .join(orm.LotConsumption, orm.LotConsumption.redemption_id == orm.Redemption.id)
        .join(orm.MergedLot, orm.MergedLot.lot_id == orm.LotConsumption.lot_id)
        .where(
            orm.MergedLot.merge_txn_id == txn_id,
            orm.Redemption.member_id != record.absorbed_member_id,
            orm.Redemption.status != "cancelled",
        )
        .group_by(orm.Redemption.redemption_no)
        .order_by(orm.Redemption.redemption_no)
    ).all()
    record.undone_txn_id = txn
    session.flush()
    return PointsUnmerged(
        points_returned=returned[restored.available.id],
        pending_returned=returned[restored.pending.id],
        used_by_survivor=used,
        redemptions=tuple((number, int(points)) for number, points in redemptions),
        debt_returned=record.debt_covered,
        balance=balance_of(restored),
        survivor_balance=balance_of(survivor),
    )


def _return_debt(
    book: LedgerBook,
    restored: MemberAccounts,
    survivor: MemberAccounts,
    debt: int,
    txn: str,
    reference: str,
    now: datetime,
) -> None:
    """The restored member owes its debt again; the survivor, whose lots paid it at the
    merge, gets the points back as a lot that expires like an adjustment's."""
    book.post(
        txn_id=txn,
        type=PostingType.MERGE,
        source=restored.available,
        target=survivor.available,
        points=debt,
        reference=reference,
        occurred_at=now,
    )
    book.add_unearned_lot(survivor.available, debt, business_date(now), ADJUSTING_INSTITUTION)
    book.settle_debt(restored.available)
    book.settle_debt(survivor.available)


def _move_award(session: Session, campaign_id: int, source: int, target: int, points: int) -> None:
    award = session.scalars(
        select(orm.CampaignAward).where(
            orm.CampaignAward.campaign_id == campaign_id, orm.CampaignAward.member_id == source
        )
    ).one_or_none()
    moved = min(points, award.points) if award is not None else 0
    if award is not None and moved > 0:
        award.points -= moved
        add_award(session, campaign_id, target, moved)


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
