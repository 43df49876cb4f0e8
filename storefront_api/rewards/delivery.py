"""What a redemption delivers: the points are spent in the ledger and, in the same
transaction, the member gets what they paid for (a voucher or bill-credit reward: its
vouchers; a bill credit pays towards the member's next bill of its kind).

A replayed redemption answers with the vouchers the first one issued; a cancelled
redemption voids its unused vouchers before the points go back, and is refused while
one of them is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import points_engine
from common.clock import business_date, utcnow
from common.codes import VALUE_KINDS
from common.idempotency import Written
from common.unit_of_work import UnitOfWork
from storefront_api import vouchers
from storefront_api.vouchers import VoucherView


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


def redeem(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    command: points_engine.RedemptionCommand,
    *,
    scope: str,
    channel: str | None,
    institution_code: str | None = None,
    as_of: date | None = None,
) -> Written[Delivered]:
    """Redeem a reward and deliver it. Raises what points_engine.redeem_reward raises."""
    written = points_engine.redeem_reward(
        uow,
        directory,
        command,
        scope=scope,
        channel=channel,
        institution_code=institution_code,
        as_of=as_of,
    )
    redeemed = written.body
    session = uow.session
    now = utcnow()
    if written.replayed:
        issued = vouchers.redemption_vouchers(session, redeemed.redemption_id, business_date(now))
    else:
        issued = _deliver(uow, directory, redeemed, now)
    return Written(
        Delivered(
            redemption_id=redeemed.redemption_id,
            member_no=redeemed.member_no,
            reward_code=redeemed.reward_code,
            quantity=redeemed.quantity,
            points_spent=redeemed.points_spent,
            cash_fen=redeemed.cash_fen,
            status=redeemed.status,
            balance=redeemed.balance,
            vouchers=issued,
        ),
        replayed=written.replayed,
    )


def _deliver(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    redeemed: points_engine.Redeemed,
    now: datetime,
) -> list[VoucherView]:
    reward = points_engine.queries.find_reward(uow.session, redeemed.reward_code)
    assert reward is not None
    if reward.kind not in VALUE_KINDS or reward.value_fen is None or reward.valid_days is None:
        return []
    member = directory.resolve(
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


def cancel(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    redemption_no: str,
    *,
    as_of: date | None = None,
) -> points_engine.RedemptionCancelled:
    """Cancel a redemption: its vouchers are voided, then its points go back. Raises
    VoucherAlreadyUsed and what points_engine.cancel_redemption raises."""
    vouchers.void_vouchers(uow.session, redemption_no, utcnow())
    return points_engine.cancel_redemption(uow, directory, redemption_no, as_of=as_of)
