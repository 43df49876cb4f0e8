"""Voucher use cases: issue a redemption's vouchers, take one off an order or a counter
sale (once, whoever races for it), give it back when the purchase is undone, and void
the vouchers of a cancelled redemption.

A voucher is taken by one conditional UPDATE (`issued` → `used`): of any number of
parallel attempts on one code exactly one changes the row, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

import crm
import points_engine
from common import idempotency
from common.clock import business_date, utcnow
from common.errors import NotFound
from common.idempotency import Written
from common.ownership import Owner
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from storefront_api.vouchers.domain import (
    UseStatus,
    VoucherAlreadyUsed,
    VoucherNotUsable,
    VoucherStatus,
    VoucherTerms,
    amount_off,
    new_code,
    normalise,
    shown,
)
from storefront_api.vouchers.orm import Voucher, VoucherUse


class UnknownVoucherUse(NotFound):
    code = "unknown-voucher-use"
    title = "Unknown voucher use"


@dataclass(frozen=True)
class VoucherView:
    code: str
    reward_code: str
    value_fen: int
    min_spend_fen: int
    applies_to: str | None
    biller_kind: str | None
    valid_from: date
    valid_until: date
    status: str  # issued, used, void, or expired (issued but past its last day)


@dataclass(frozen=True)
class CounterUse:
    """A till asks to take a voucher off a sale before it charges the member."""

    external_id: str
    voucher_code: str
    member: points_engine.MemberRef
    institution_code: str
    business_type: str
    spend_fen: int


@dataclass(frozen=True)
class VoucherUsed:
    use_no: str
    voucher_code: str
    value_fen: int
    spend_fen: int
    applied_fen: int
    amount_due_fen: int
    status: str


def issue_vouchers(
    session: Session,
    *,
    member_id: int,
    redemption_no: str,
    reward_code: str,
    terms: VoucherTerms,
    quantity: int,
    now: datetime,
) -> list[VoucherView]:
    """One voucher per unit redeemed, valid from the day of the redemption."""
    today = business_date(now)
    vouchers = [
        Voucher(
            code=new_code(),
            member_id=member_id,
            redemption_no=redemption_no,
            reward_code=reward_code,
            value_fen=terms.value_fen,
            min_spend_fen=terms.min_spend_fen,
            applies_to=terms.applies_to,
            biller_kind=terms.biller_kind,
            valid_from=today,
            valid_until=terms.valid_until(today),
            status=VoucherStatus.ISSUED.value,
            created_at=now,
            updated_at=now,
        )
        for _ in range(quantity)
    ]
    session.add_all(vouchers)
    session.flush()
    return [voucher_view(v, today) for v in vouchers]


def redemption_vouchers(session: Session, redemption_no: str, today: date) -> list[VoucherView]:
    found = session.scalars(
        select(Voucher).where(Voucher.redemption_no == redemption_no).order_by(Voucher.id)
    )
    return [voucher_view(v, today) for v in found]


def member_vouchers(session: Session, member_id: int, today: date) -> list[VoucherView]:
    """The member's vouchers (with those of members merged into them), usable ones first
    (soonest last day first), then the rest."""
    found = session.scalars(
        select(Voucher)
        .where(Voucher.member_id.in_(crm.queries.member_ids_merged_into(session, member_id)))
        .order_by(Voucher.id.desc())
    )
    views = [voucher_view(v, today) for v in found]
    return sorted(views, key=lambda v: (v.status != VoucherStatus.ISSUED, v.valid_until))


def void_vouchers(session: Session, redemption_no: str, now: datetime) -> int:
    """Void a redemption's vouchers before its points go back. Raises VoucherAlreadyUsed
    when one of them is used (give it back first: cancel the order or the counter use)."""
    vouchers = session.scalars(
        select(Voucher)
        .where(Voucher.redemption_no == redemption_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    used = [v for v in vouchers if v.status == VoucherStatus.USED]
    if used:
        raise VoucherAlreadyUsed(
            f"voucher {shown(used[0].code)} of this redemption has been used; "
            "cancel the purchase it paid for first"
        )
    for voucher in vouchers:
        voucher.status = VoucherStatus.VOID.value
        voucher.updated_at = now
    return len(vouchers)


def take_voucher(
    session: Session,
    *,
    code: str,
    member_id: int | None,
    channel: str,
    institution_code: str | None,
    order_no: str | None,
    spend_by_business_type: dict[str, int],
    now: datetime,
    field: str,
    bill_payment_no: str | None = None,
    biller_kind: str | None = None,
) -> VoucherUse:
    """Take a voucher off a purchase: the member's own, within its dates, on a spend it
    applies to (of `spend_by_business_type`) of at least its minimum. Raises
    VoucherNotUsable (naming `field`), VoucherAlreadyUsed (it is used, perhaps by a
    request racing this one)."""
    voucher = session.scalars(select(Voucher).where(Voucher.code == normalise(code))).one_or_none()
    if voucher is None or not _holds(session, member_id, voucher):
        raise VoucherNotUsable.field(field, "no voucher of this member has this code")
    today = business_date(now)
    if voucher.status == VoucherStatus.VOID:
        raise VoucherNotUsable.field(field, "the voucher was cancelled with its redemption")
    if not voucher.valid_from <= today <= voucher.valid_until:
        raise VoucherNotUsable.field(
            field,
            f"valid from {voucher.valid_from.isoformat()} to {voucher.valid_until.isoformat()}",
        )
    if voucher.applies_to is None:
        eligible_fen = sum(spend_by_business_type.values())
    elif voucher.applies_to in spend_by_business_type:
        eligible_fen = spend_by_business_type[voucher.applies_to]
    else:
        raise VoucherNotUsable.field(field, f"applies to {voucher.applies_to} only")
    if voucher.biller_kind is not None and voucher.biller_kind != biller_kind:
        raise VoucherNotUsable.field(field, f"pays towards {voucher.biller_kind} bills only")
    applied = amount_off(voucher.value_fen, voucher.min_spend_fen, eligible_fen, field)
    taken = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == VoucherStatus.ISSUED.value)
        .values(status=VoucherStatus.USED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise VoucherAlreadyUsed(f"voucher {shown(voucher.code)} has been used")
    use = VoucherUse(
        use_no=public_no("VU"),
        voucher_id=voucher.id,
        channel=channel,
        institution_code=institution_code,
        order_no=order_no,
        bill_payment_no=bill_payment_no,
        business_type=voucher.applies_to,
        spend_fen=eligible_fen,
        applied_fen=applied,
        status=UseStatus.APPLIED.value,
        created_at=now,
    )
    session.add(use)
    session.flush()
    return use


def _holds(session: Session, member_id: int | None, voucher: Voucher) -> bool:
    """Whether the member holds the voucher: it was issued to them, or to a member merged
    into them (records keep the member id they were written with)."""
    if member_id is None:
        return False
    return voucher.member_id == member_id or voucher.member_id in (
        crm.queries.member_ids_merged_into(session, member_id)
    )


def give_back(session: Session, use: VoucherUse, now: datetime) -> None:
    """The purchase is undone: the voucher is the member's again (until its last day)."""
    if use.status == UseStatus.RETURNED:
        return
    use.status = UseStatus.RETURNED.value
    use.returned_at = now
    session.execute(
        update(Voucher)
        .where(Voucher.id == use.voucher_id, Voucher.status == VoucherStatus.USED.value)
        .values(status=VoucherStatus.ISSUED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def give_back_for_order(session: Session, order_no: str, now: datetime) -> None:
    _give_back_applied(session, VoucherUse.order_no == order_no, now)


def _give_back_applied(session: Session, purchase: ColumnElement[bool], now: datetime) -> None:
    """Give back every voucher still applied to the purchase `purchase` picks out."""
    applied = select(VoucherUse).where(purchase, VoucherUse.status == UseStatus.APPLIED.value)
    for use in session.scalars(applied):
        give_back(session, use, now)


def take_bill_credit(
    session: Session,
    *,
    code: str | None,
    member_id: int,
    channel: str,
    institution_code: str | None,
    payment_no: str,
    biller_kind: str,
    amount_fen: int,
    now: datetime,
    field: str,
) -> VoucherUse | None:
    """A bill credit towards a payment: the one `code` names, or else the member's usable
    credit for this kind of bill that runs out soonest (None when they have none)."""
    if code is None:
        today = business_date(now)
        code = session.scalars(
            select(Voucher.code)
            .where(
                Voucher.member_id.in_(crm.queries.member_ids_merged_into(session, member_id)),
                Voucher.status == VoucherStatus.ISSUED.value,
                Voucher.applies_to == "bill_payment",
                Voucher.valid_from <= today,
                Voucher.valid_until >= today,
                Voucher.min_spend_fen <= amount_fen,
                (Voucher.biller_kind.is_(None)) | (Voucher.biller_kind == biller_kind),
            )
            .order_by(Voucher.valid_until, Voucher.id)
            .limit(1)
        ).first()
        if code is None:
            return None
    return take_voucher(
        session,
        code=code,
        member_id=member_id,
        channel=channel,
        institution_code=institution_code,
        order_no=None,
        spend_by_business_type={"bill_payment": amount_fen},
        now=now,
        field=field,
        bill_payment_no=payment_no,
        biller_kind=biller_kind,
    )


def give_back_for_bill(session: Session, payment_no: str, now: datetime) -> None:
    """The bill was never paid (declined, never received) or was reversed: the credit is
    the member's again."""
    _give_back_applied(session, VoucherUse.bill_payment_no == payment_no, now)


def use_at_counter(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    *,
    channel: str,
    command: CounterUse,
    now: datetime | None = None,
) -> Written[VoucherUsed]:
    """Take a voucher off a till sale, once per the channel's external_id; the till then
    charges `amount_due_fen` and reports the sale at that amount."""
    now = now or utcnow()

    def effect() -> VoucherUsed:
        member = directory.resolve(uow, command.member, "member")
        use = take_voucher(
            uow.session,
            code=command.voucher_code,
            member_id=member.member_id,
            channel=channel,
            institution_code=command.institution_code,
            order_no=None,
            spend_by_business_type={command.business_type: command.spend_fen},
            now=now,
            field="voucher_code",
        )
        return _used(uow.session, use)

    return idempotency.once(
        uow.session,
        idempotency.Key(f"channel:{channel}", "voucher_use", command.external_id),
        command,
        effect,
        kind=VoucherUsed,
    )


def cancel_use(uow: UnitOfWork, use_no: str, now: datetime | None = None) -> VoucherUsed:
    """The till voided the sale: the voucher goes back to the member. Cancelling a
    returned use again answers the same."""
    use = uow.session.scalars(
        select(VoucherUse)
        .where(VoucherUse.use_no == use_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if use is None or use.order_no is not None:
        # An order's voucher comes back when the order is cancelled, not here.
        raise UnknownVoucherUse(f"no counter use {use_no!r}")
    give_back(uow.session, use, now or utcnow())
    uow.session.flush()
    return _used(uow.session, use)


def use_owner(session: Session, use_no: str) -> Owner | None:
    row = session.execute(
        select(Voucher.member_id, VoucherUse.channel, VoucherUse.institution_code)
        .join(Voucher, Voucher.id == VoucherUse.voucher_id)
        .where(VoucherUse.use_no == use_no)
    ).one_or_none()
    return None if row is None else Owner(int(row[0]), row[1], row[2])


def order_voucher(session: Session, order_no: str) -> tuple[str, int] | None:
    """The code (shown masked but for its last four) and amount of an order's voucher."""
    row = session.execute(
        select(Voucher.code, VoucherUse.applied_fen)
        .join(Voucher, Voucher.id == VoucherUse.voucher_id)
        .where(VoucherUse.order_no == order_no)
        .order_by(VoucherUse.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else (row[0], int(row[1]))


def voucher_view(voucher: Voucher, today: date) -> VoucherView:
    status = voucher.status
    if status == VoucherStatus.ISSUED and voucher.valid_until < today:
        status = "expired"
    return VoucherView(
        code=shown(voucher.code),
        reward_code=voucher.reward_code,
        value_fen=voucher.value_fen,
        min_spend_fen=voucher.min_spend_fen,
        applies_to=voucher.applies_to,
        biller_kind=voucher.biller_kind,
        valid_from=voucher.valid_from,
        valid_until=voucher.valid_until,
        status=status,
    )


def _used(session: Session, use: VoucherUse) -> VoucherUsed:
    voucher = session.get(Voucher, use.voucher_id)
    assert voucher is not None
    return VoucherUsed(
        use_no=use.use_no,
        voucher_code=shown(voucher.code),
        value_fen=voucher.value_fen,
        spend_fen=use.spend_fen,
        applied_fen=use.applied_fen,
        amount_due_fen=use.spend_fen - use.applied_fen,
        status=use.status,
    )
