"""Spending points: redemptions of rewards, points as payment, cancellations; the catalogue."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from common import idempotency
from common.clock import utcnow
from common.codes import BILLER_KINDS, BUSINESS_TYPES, REWARD_KINDS, VALUE_KINDS
from common.errors import (
    Conflict,
    InconsistentFields,
    Invalid,
    NotFound,
    UnknownReference,
)
from common.idempotency import Written
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import (
    LedgerBook,
    new_txn_id,
)
from points_engine.commands import (
    MemberDirectory,
    MemberRef,
    Redeemed,
    RedemptionCancelled,
    RedemptionCommand,
    RewardView,
)
from points_engine.domain.accounts import (
    ORDER_POINTS_REWARD,
    LotStatus,
    PostingType,
    reward_account,
)
from points_engine.domain.errors import (
    AlreadyCancelled,
    InsufficientPoints,
    OutOfStock,
    PointsDebtOutstanding,
    UnknownReward,
)
from points_engine.services.accounts import balance_of
from points_engine.services.shared import as_of_day

# -- rewards and redemption --------------------------------------------------------


def redeem_reward(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: RedemptionCommand,
    *,
    scope: str,
    channel: str | None,
    institution_code: str | None = None,
    as_of: date | None = None,
) -> Written[Redeemed]:
    """Spend points on a reward, consuming lots FIFO by expiry; once per scope +
    external_id.

    `channel` and `institution_code` are the key that redeemed for the member (None
    when the member did it themself); only they may cancel it later.

    Raises UnknownReward, InsufficientPoints, PointsDebtOutstanding, OutOfStock.
    """
    return idempotency.once(
        uow.session,
        idempotency.Key(scope, "redemption", command.external_id),
        command,
        lambda: _redeem(uow, directory, command, channel, institution_code, as_of),
        kind=Redeemed,
    )


def _redeem(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: RedemptionCommand,
    channel: str | None,
    institution_code: str | None,
    as_of: date | None,
) -> Redeemed:
    if command.quantity <= 0:
        raise Invalid.field("quantity", "must be greater than 0")
    session = uow.session
    book = LedgerBook(session)
    day = as_of_day(as_of)
    reward = session.get(orm.Reward, command.reward_code)
    if reward is None or not reward.active:
        raise UnknownReward(
            f"unknown reward {command.reward_code!r}",
            Invalid.field("reward_code", "unknown reward").errors,
        )
    member = directory.resolve(uow, MemberRef(member_no=command.member_no), "member_no")
    accounts = book.lock_member(member.member_id)
    cost = reward.points_cost * command.quantity
    if accounts.available.balance < 0:
        raise PointsDebtOutstanding(
            f"the member owes {-accounts.available.balance} points from refunds; "
            "redemption is blocked until the balance is back to zero"
        )
    lots = book.spendable_lots(accounts.available, day)
    spendable = sum(lot.remaining for lot in lots)
    if spendable < cost:
        raise InsufficientPoints(
            f"{cost} points needed, {spendable} available",
            Invalid.field("quantity", f"{cost} points needed, {spendable} available").errors,
        )
    reward = session.scalars(
        select(orm.Reward)
        .where(orm.Reward.code == reward.code)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if reward.stock is not None:
        if reward.stock < command.quantity:
            raise OutOfStock(f"only {reward.stock} of {reward.code} left")
        reward.stock -= command.quantity
    takes, short = book.take_from_lots(lots, cost)
    assert short == 0
    redemption = orm.Redemption(
        redemption_no=public_no("RD"),
        member_id=accounts.member_id,
        reward_code=reward.code,
        quantity=command.quantity,
        points_spent=cost,
        cash_fen=reward.cash_fen * command.quantity,
        status="completed",
        channel=channel,
        institution_code=institution_code,
        created_at=utcnow(),
    )
    session.add(redemption)
    session.flush()
    session.add_all(
        orm.LotConsumption(redemption_id=redemption.id, lot_id=t.lot_id, points=t.points)
        for t in takes
    )
    target = book.system_account(*reward_account(reward.code, reward.kind))
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.REDEMPTION,
        source=accounts.available,
        target=target,
        points=cost,
        reference=f"redemption:{redemption.redemption_no}",
        occurred_at=redemption.created_at,
        breakdown={"reward_code": reward.code, "quantity": command.quantity},
    )
    session.flush()
    return Redeemed(
        redemption_id=redemption.redemption_no,
        member_no=member.member_no,
        reward_code=reward.code,
        quantity=command.quantity,
        points_spent=cost,
        cash_fen=redemption.cash_fen,
        status=redemption.status,
        balance=balance_of(accounts),
    )


def pay_with_points(
    uow: UnitOfWork,
    *,
    member_id: int,
    points: int,
    cash_fen: int,
    reference: str,
    channel: str | None,
    field: str = "payment.points",
    as_of: date | None = None,
    reward_code: str = ORDER_POINTS_REWARD,
) -> str:
    """Spend points as part of an order's payment (FIFO by expiry); returns the redemption number.

    Recorded as a redemption of the hidden ORDER-POINTS reward (or of `reward_code`: a
    partner's, for points exchanged into its currency), so `cancel_redemption` gives the
    points back to the lots they came from. Raises PointsDebtOutstanding,
    InsufficientPoints (naming `field`).
    """
    session = uow.session
    book = LedgerBook(session)
    accounts = book.lock_member(member_id)
    if accounts.available.balance < 0:
        raise PointsDebtOutstanding(
            f"the member owes {-accounts.available.balance} points from refunds; "
            "paying with points is blocked until the balance is back to zero"
        )
    lots = book.spendable_lots(accounts.available, as_of_day(as_of))
    spendable = sum(lot.remaining for lot in lots)
    if spendable < points:
        raise InsufficientPoints(
            f"{points} points needed, {spendable} available",
            Invalid.field(field, f"{points} points needed, {spendable} available").errors,
        )
    kind = "voucher"
    if reward_code != ORDER_POINTS_REWARD:
        reward = session.get(orm.Reward, reward_code)
        if reward is None:
            raise UnknownReward(f"unknown reward {reward_code!r}")
        kind = reward.kind
    takes, short = book.take_from_lots(lots, points)
    assert short == 0
    redemption = orm.Redemption(
        redemption_no=public_no("RD"),
        member_id=member_id,
        reward_code=reward_code,
        quantity=points,
        points_spent=points,
        cash_fen=cash_fen,
        status="completed",
        channel=channel,
        created_at=utcnow(),
    )
    session.add(redemption)
    session.flush()
    session.add_all(
        orm.LotConsumption(redemption_id=redemption.id, lot_id=t.lot_id, points=t.points)
        for t in takes
    )
    book.post(
        txn_id=new_txn_id(),
        type=PostingType.REDEMPTION,
        source=accounts.available,
        target=book.system_account(*reward_account(reward_code, kind)),
        points=points,
        reference=f"redemption:{redemption.redemption_no}",
        occurred_at=redemption.created_at,
        breakdown={"reward_code": reward_code, "for": reference},
    )
    session.flush()
    return redemption.redemption_no


def cancel_redemption(
    uow: UnitOfWork,
    directory: MemberDirectory,
    redemption_no: str,
    *,
    as_of: date | None = None,
) -> RedemptionCancelled:
    """Give a redemption's points back to the lots they came from.

    Points of a lot that has expired since go to the expiry account instead. Raises
    NotFound, AlreadyCancelled.
    """
    session = uow.session
    book = LedgerBook(session)
    day = as_of_day(as_of)
    found = session.scalars(
        select(orm.Redemption).where(orm.Redemption.redemption_no == redemption_no)
    ).one_or_none()
    if found is None:
        raise NotFound(f"unknown redemption {redemption_no!r}")
    consumptions = list(
        session.scalars(
            select(orm.LotConsumption).where(orm.LotConsumption.redemption_id == found.id)
        )
    )
    lot_ids = [c.lot_id for c in consumptions]
    # A lot may belong to another member now: a merge undone since gave it back to the
    # member it came from, and its points go back to them.
    lot_owners = set(
        session.scalars(
            select(orm.Account.member_id)
            .join(orm.Lot, orm.Lot.account_id == orm.Account.id)
            .where(orm.Lot.id.in_(lot_ids))
            .distinct()
        )
    )
    locked = book.lock_members({found.member_id, *(m for m in lot_owners if m is not None)})
    owner = locked[found.member_id]
    redemption = session.scalars(
        select(orm.Redemption)
        .where(orm.Redemption.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if redemption.status == "cancelled":
        raise AlreadyCancelled(f"redemption {redemption_no} is already cancelled")
    holders = {accounts.available.id: accounts for accounts in locked.values()}
    returned_to: dict[int, int] = {}
    returned = expired = 0
    lots = {
        lot.id: lot
        for lot in session.scalars(
            select(orm.Lot).where(orm.Lot.id.in_(lot_ids)).execution_options(populate_existing=True)
        )
    }  # read once their holders are locked
    for consumption in consumptions:
        lot = lots[consumption.lot_id]
        if lot.status == LotStatus.EXPIRED.value or lot.expires_on < day:
            expired += consumption.points
        else:
            lot.remaining += consumption.points
            returned += consumption.points
            returned_to[lot.account_id] = returned_to.get(lot.account_id, 0) + consumption.points
    if not returned_to.keys() <= holders.keys():
        raise Conflict("the redemption's lots changed hands meanwhile: try again")
    reward = session.scalars(
        select(orm.Reward).where(orm.Reward.code == redemption.reward_code).with_for_update()
    ).one()
    source = book.system_account(*reward_account(reward.code, reward.kind))
    txn = new_txn_id()
    reference = f"redemption_cancel:{redemption.redemption_no}"
    in_debt = {account_id for account_id, held in holders.items() if held.available.balance < 0}
    now = utcnow()
    for account_id, points in sorted(returned_to.items()):
        book.post(
            txn_id=txn,
            type=PostingType.REDEMPTION_CANCEL,
            source=source,
            target=holders[account_id].available,
            points=points,
            reference=reference,
            occurred_at=now,
        )
    book.post(
        txn_id=txn,
        type=PostingType.EXPIRY,
        source=source,
        target=book.expiry_account(),
        points=expired,
        reference=reference,
        occurred_at=now,
        breakdown={"reason": "lot expired before the redemption was cancelled"},
    )
    for account_id in sorted(in_debt & returned_to.keys()):
        book.settle_debt(holders[account_id].available)
    if reward.stock is not None:
        reward.stock += redemption.quantity
    redemption.status = "cancelled"
    redemption.cancelled_at = now
    session.flush()
    member = directory.by_id(uow, owner.member_id)
    return RedemptionCancelled(
        redemption_id=redemption.redemption_no,
        member_no=member.member_no,
        status="cancelled",
        points_returned=returned,
        points_expired=expired,
        balance=balance_of(owner),
    )


def add_reward(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    name_en: str,
    kind: str,
    points_cost: int,
    cash_fen: int,
    stock: int | None,
    value_fen: int | None = None,
    min_spend_fen: int = 0,
    valid_days: int | None = None,
    applies_to: str | None = None,
    biller_kind: str | None = None,
) -> RewardView:
    """Add a reward to the catalogue. A voucher or bill credit says what it is worth and
    for how many days; other kinds do not. Raises Invalid, InconsistentFields, Conflict
    (code taken)."""
    if kind not in REWARD_KINDS:
        raise Invalid.field("kind", f"must be one of {', '.join(REWARD_KINDS)}")
    if points_cost <= 0:
        raise Invalid.field("points_cost", "must be greater than 0")
    if cash_fen < 0:
        raise Invalid.field("cash_fen", "must not be negative")
    if stock is not None and stock < 0:
        raise Invalid.field("stock", "must not be negative")
    _check_terms(kind, value_fen, min_spend_fen, valid_days, applies_to, biller_kind)
    if kind == "bill_credit":
        applies_to = "bill_payment"
    if uow.session.get(orm.Reward, code) is not None:
        raise Conflict(f"reward {code!r} already exists")
    reward = orm.Reward(
        code=code,
        name=name,
        name_en=name_en,
        kind=kind,
        points_cost=points_cost,
        cash_fen=cash_fen,
        stock=stock,
        active=True,
        value_fen=value_fen,
        min_spend_fen=min_spend_fen,
        valid_days=valid_days,
        applies_to=applies_to,
        biller_kind=biller_kind,
    )
    uow.session.add(reward)
    LedgerBook(uow.session).system_account(*reward_account(code, kind))
    return reward_view(reward)


def _check_terms(
    kind: str,
    value_fen: int | None,
    min_spend_fen: int,
    valid_days: int | None,
    applies_to: str | None,
    biller_kind: str | None,
) -> None:
    if biller_kind is not None and kind != "bill_credit":
        raise InconsistentFields.field("biller_kind", "only bill_credit rewards have it")
    if biller_kind is not None and biller_kind not in BILLER_KINDS:
        raise UnknownReference.field("biller_kind", "unknown kind of bill")
    if kind == "bill_credit" and applies_to not in (None, "bill_payment"):
        raise InconsistentFields.field("applies_to", "a bill credit applies to bill payments")
    if kind in VALUE_KINDS:
        if value_fen is None:
            raise InconsistentFields.field("value_fen", f"a {kind} reward says what it is worth")
        if valid_days is None:
            raise InconsistentFields.field(
                "valid_days", f"a {kind} reward says for how many days it is valid"
            )
        if value_fen <= 0:
            raise Invalid.field("value_fen", "must be greater than 0")
        if valid_days <= 0:
            raise Invalid.field("valid_days", "must be greater than 0")
        if min_spend_fen < 0:
            raise Invalid.field("min_spend_fen", "must not be negative")
        if applies_to is not None and applies_to not in BUSINESS_TYPES:
            raise UnknownReference.field("applies_to", "unknown business type")
        return
    for name, given in (
        ("value_fen", value_fen),
        ("valid_days", valid_days),
        ("applies_to", applies_to),
        ("min_spend_fen", min_spend_fen or None),
    ):
        if given is not None:
            raise InconsistentFields.field(name, "only voucher and bill_credit rewards have it")


def reward_view(reward: orm.Reward) -> RewardView:
    return RewardView(
        code=reward.code,
        name=reward.name,
        name_en=reward.name_en,
        kind=reward.kind,
        points_cost=reward.points_cost,
        cash_fen=reward.cash_fen,
        stock=reward.stock,
        value_fen=reward.value_fen,
        min_spend_fen=reward.min_spend_fen,
        valid_days=reward.valid_days,
        applies_to=reward.applies_to,
        biller_kind=reward.biller_kind,
    )
