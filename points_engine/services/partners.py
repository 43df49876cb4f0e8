"""Points that cross to and from partners: spent into a partner's currency (airline miles)
and bought in from a partner's programme (bank reward points).

Spending out is a redemption of the partner's reward (FIFO by expiry, lots recorded), so
a line the partner rejects gives exactly those points back to those lots through
`cancel_redemption`. Buying in posts from the partner's account and opens a lot; those
points are not accruals, so they never count towards a tier.
"""

from __future__ import annotations

from datetime import date

from common.clock import utcnow
from common.codes import COMPANY_CODE
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import LedgerBook, new_txn_id
from points_engine.commands import Balance
from points_engine.domain.accounts import PostingType, reward_account
from points_engine.services.accounts import balance_of
from points_engine.services.shared import as_of_day


def credit_from_partner(
    uow: UnitOfWork,
    *,
    member_id: int,
    partner_reward_code: str,
    points: int,
    reference: str,
    as_of: date | None = None,
) -> Balance:
    """Post `points` from the partner's account to the member, in a new lot that expires
    like any other (end of next year); pays a points debt first. Returns the balance."""
    if points <= 0:
        raise ValueError("a partner credit is a positive number of points")
    session = uow.session
    book = LedgerBook(session)
    accounts = book.lock_member(member_id)
    day = as_of_day(as_of)
    in_debt = accounts.available.balance < 0
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.PARTNER_IN,
        source=book.system_account(*reward_account(partner_reward_code, "partner_miles")),
        target=accounts.available,
        points=points,
        reference=reference,
        occurred_at=utcnow(),
    )
    book.add_unearned_lot(accounts.available, points, day, COMPANY_CODE)
    if in_debt:
        book.settle_debt(accounts.available)
    session.flush()
    return balance_of(accounts)


def ensure_partner_reward(uow: UnitOfWork, code: str, name: str, name_en: str) -> None:
    """The hidden reward a partner's exchanges redeem (and its partner account): not in
    the catalogue and not redeemable on its own (inactive), like the order-points one."""
    session = uow.session
    if session.get(orm.Reward, code) is None:
        session.add(
            orm.Reward(
                code=code,
                name=name,
                name_en=name_en,
                kind="partner_miles",
                points_cost=1,
                cash_fen=0,
                stock=None,
                active=False,
            )
        )
        session.flush()
    LedgerBook(session).system_account(*reward_account(code, "partner_miles"))
