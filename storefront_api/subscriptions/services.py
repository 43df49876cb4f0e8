"""Subscription use cases: subscribe (earning points), cancel (refund pro rata), load titles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

import points_engine
from common import idempotency
from common.clock import business_date, utcnow
from common.codes import COMPANY_CODE
from common.errors import (
    Forbidden,
    InconsistentFields,
    Invalid,
    UnknownReference,
    combined,
)
from common.idempotency import Written
from common.organisation import Institution
from common.unit_of_work import UnitOfWork
from storefront_api.subscriptions import domain
from storefront_api.subscriptions.domain import DeliveryKind, Period, Status, Term
from storefront_api.subscriptions.orm import PressTitle, Subscription
from storefront_api.subscriptions.queries import subscription_body
from storefront_api.subscriptions.reference import PRESS_TITLES, PressTitleData

BUSINESS_TYPE = "subscription"
CATEGORY = "press"
# Points of a subscription sold without an outlet (hotline, web, app, a member's own
# order for home delivery) are issued by the company itself.
COMPANY_INSTITUTION = COMPANY_CODE
# A member subscribing with their own token does so in the China Post app.
SELF_SERVICE_CHANNEL = "app"


@dataclass(frozen=True)
class Caller:
    """Who asks: a channel key (with its outlet, if bound to one), a member, or staff."""

    kind: Literal["channel", "member", "staff"]
    channel: str | None = None
    institution_code: str | None = None
    member_no: str | None = None
    username: str | None = None

    @property
    def scope(self) -> str:
        """Whose external ids these are: a channel's, a member's or one staff user's."""
        if self.kind == "channel":
            return f"channel:{self.channel}"
        if self.kind == "member":
            return f"member:{self.member_no}"
        return f"staff:{self.username}"

    @property
    def sales_channel(self) -> str:
        if self.kind == "channel" and self.channel is not None:
            return self.channel
        if self.kind == "member":
            return SELF_SERVICE_CHANNEL
        raise Forbidden("only a channel or the member may subscribe")


@dataclass(frozen=True)
class Delivery:
    type: str
    address: str | None = None
    outlet_code: str | None = None


@dataclass(frozen=True)
class SubscribeCommand:
    external_id: str
    member: points_engine.MemberRef
    title_code: str
    term: str
    start_date: date
    delivery: Delivery
    payment_method: str


@dataclass(frozen=True)
class CancelCommand:
    subscription_no: str
    external_id: str | None = None
    as_of: date | None = None


def _accrual_id(subscription_no: str) -> str:
    return f"subscription:{subscription_no}"


def _refund_id(subscription_no: str) -> str:
    return f"subscription-cancel:{subscription_no}"


def _new_subscription_no() -> str:
    return "SB" + uuid.uuid4().hex[:16].upper()


# -- subscribe -----------------------------------------------------------------------


def subscribe(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    caller: Caller,
    command: SubscribeCommand,
    *,
    now: datetime | None = None,
) -> Written[dict[str, Any]]:
    """Sell one term of a title to a member and earn its points.

    `now` (default the clock) is the moment of sale, so history can be generated.
    Idempotent per caller + external_id: the same payload replays the first answer,
    another payload is a Conflict. The external_id is claimed first (so a replay is
    answered even once its start date has passed); any refusal rolls the claim back
    with everything else. Raises Invalid (unknown title, bad term, a start date
    that is not the first of a month or is in the past, delivery without its address
    or to an unknown outlet, unknown member), Forbidden (staff sell no subscriptions),
    Conflict. Who may subscribe whom is the access policy's to say.
    """
    session = uow.session
    channel = caller.sales_channel
    now = now if now is not None else utcnow()
    day = business_date(now)

    def effect() -> dict[str, Any]:
        title, term = _validate_subscription(uow, command, day)
        member = directory.resolve(uow, command.member, "member")
        period = Period.of(command.start_date, term)
        total_fen = domain.price_fen(title.monthly_price_fen, term)
        delivery = command.delivery
        institution = caller.institution_code or delivery.outlet_code or COMPANY_INSTITUTION
        row = Subscription(
            subscription_no=_new_subscription_no(),
            external_id=command.external_id,
            channel=channel,
            institution_code=institution,
            member_id=member.member_id,
            member_no=member.member_no,
            title_code=title.code,
            term=term.value,
            months=domain.TERM_MONTHS[term],
            monthly_price_fen=title.monthly_price_fen,
            total_fen=total_fen,
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            delivery_type=delivery.type,
            delivery_address=delivery.address if delivery.type == DeliveryKind.ADDRESS else None,
            outlet_code=(delivery.outlet_code if delivery.type == DeliveryKind.OUTLET else None),
            payment_method=command.payment_method,
            points=0,
            status=Status.ACTIVE.value,
            refund_fen=0,
            points_reversed=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        earned = points_engine.accrue_points(
            uow,
            directory,
            channel,
            points_engine.AccrualCommand(
                external_id=_accrual_id(row.subscription_no),
                member=points_engine.MemberRef(member_no=member.member_no),
                institution_code=institution,
                occurred_at=now,
                business_type=BUSINESS_TYPE,
                lines=(
                    points_engine.AccrualLine(
                        sku=title.code,
                        quantity=row.months,
                        amount_fen=total_fen,
                        category=CATEGORY,
                    ),
                ),
                total_fen=total_fen,
                payment_method=command.payment_method,
            ),
        ).body
        row.points = earned.points
        session.flush()
        body = subscription_body(row, title)
        body["balance"] = idempotency.as_answer(earned.balance)
        return body

    key = idempotency.Key(caller.scope, "subscription", command.external_id)
    return idempotency.once(uow.session, key, command, effect, kind=dict[str, Any])


def _validate_subscription(
    uow: UnitOfWork, command: SubscribeCommand, today: date
) -> tuple[PressTitle, Term]:
    """The title and term of a valid request; every problem found is reported together."""
    session = uow.session
    errors: list[Invalid] = []
    title = session.scalars(
        select(PressTitle).where(PressTitle.code == command.title_code, PressTitle.active)
    ).one_or_none()
    if title is None:
        errors.append(domain.UnknownPressTitle.field("title_code", "unknown newspaper or magazine"))
    term: Term | None = None
    try:
        term = domain.parse_term(command.term)
    except Invalid as error:
        errors.append(error)
    errors.extend(domain.start_date_errors(command.start_date, today))
    errors.extend(_delivery_errors(session, command.delivery))
    if errors:
        raise combined(errors)
    assert title is not None and term is not None
    return title, term


def _delivery_errors(session: Session, delivery: Delivery) -> list[Invalid]:
    errors: list[Invalid] = []
    if delivery.type == DeliveryKind.ADDRESS:
        if not (delivery.address or "").strip():
            errors.append(
                InconsistentFields.field("delivery.address", "required for delivery to an address")
            )
        if delivery.outlet_code is not None:
            errors.append(
                InconsistentFields.field("delivery.outlet_code", "only for delivery to an outlet")
            )
        return errors
    if delivery.type == DeliveryKind.OUTLET:
        if not delivery.outlet_code:
            errors.append(
                InconsistentFields.field(
                    "delivery.outlet_code", "required for delivery to an outlet"
                )
            )
        else:
            outlet = session.get(Institution, delivery.outlet_code)
            if outlet is None or outlet.kind != "outlet":
                errors.append(UnknownReference.field("delivery.outlet_code", "unknown outlet"))
        if delivery.address is not None:
            errors.append(
                InconsistentFields.field("delivery.address", "only for delivery to an address")
            )
        return errors
    kinds = ", ".join(kind.value for kind in DeliveryKind)
    return [Invalid.field("delivery.type", f"must be one of {kinds}")]


# -- cancel --------------------------------------------------------------------------


def cancel_subscription(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    caller: Caller,
    command: CancelCommand,
    *,
    now: datetime | None = None,
) -> Written[dict[str, Any]]:
    """Cancel a subscription as of a day, refund what will not be delivered.

    `now` (default the clock) dates the cancellation; the ledger's reversal is posted
    at the real time, as every reversal is.
    Who may is the access policy's to say. `as_of` (default today,
    never in the past) is the last day delivered. The refund follows
    `domain.quote_cancellation` (pro rata by days, rounded down to the fen) and its
    points are reversed in proportion by the ledger; a refund that rounds to 0 fen
    cancels without touching the ledger. With an `external_id`, a repeat with the same
    payload replays the first answer. Raises UnknownSubscription, Invalid
    (as_of in the past), SubscriptionAlreadyCancelled, SubscriptionFullyDelivered.
    """
    now = now if now is not None else utcnow()
    key = (
        idempotency.Key(caller.scope, "subscription-cancel", command.external_id)
        if command.external_id is not None
        else None
    )
    return idempotency.once(
        uow.session,
        key,
        command,
        lambda: _cancel(uow, command, now),
        kind=dict[str, Any],
    )


def _cancel(uow: UnitOfWork, command: CancelCommand, now: datetime) -> dict[str, Any]:
    session = uow.session
    day = business_date(now)
    row = _locked(uow, command.subscription_no)
    as_of = command.as_of if command.as_of is not None else day
    if as_of < day:
        raise domain.StartInThePast.field("as_of", f"must not be before today ({day.isoformat()})")
    if row.status == Status.CANCELLED:
        raise domain.SubscriptionAlreadyCancelled(
            f"subscription {row.subscription_no} was cancelled as of {row.cancelled_on}"
        )
    quote = domain.quote_cancellation(Period(row.starts_on, row.ends_on), row.total_fen, as_of)
    balance: dict[str, Any] | None = None
    if quote.refund_fen > 0:
        refunded = points_engine.refund_purchase(
            uow,
            row.channel,
            points_engine.RefundCommand(
                external_id=_refund_id(row.subscription_no),
                original_external_id=_accrual_id(row.subscription_no),
                amount_fen=quote.refund_fen,
            ),
        ).body
        row.points_reversed = refunded.points_reversed
        balance = idempotency.as_answer(refunded.balance)
    row.status = Status.CANCELLED.value
    row.cancelled_on = as_of
    row.cancelled_at = now
    row.refund_fen = quote.refund_fen
    row.updated_at = now
    session.flush()
    title = session.scalars(select(PressTitle).where(PressTitle.code == row.title_code)).one()
    body = subscription_body(row, title)
    body["delivered_days"] = quote.delivered_days
    body["undelivered_days"] = quote.undelivered_days
    body["kept_fen"] = quote.kept_fen
    if balance is not None:
        body["balance"] = balance
    return body


def _locked(uow: UnitOfWork, subscription_no: str) -> Subscription:
    """The subscription, locked so that two cancellations cannot both refund it."""
    row = uow.session.scalars(
        select(Subscription)
        .where(Subscription.subscription_no == subscription_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise domain.UnknownSubscription(f"no subscription {subscription_no!r}")
    return row


# -- reference data ------------------------------------------------------------------


def load_press_titles(uow: UnitOfWork, titles: Sequence[PressTitleData] = PRESS_TITLES) -> int:
    """Insert missing titles and bring changed ones up to date. Returns rows touched."""
    session = uow.session
    existing = {row.code: row for row in session.scalars(select(PressTitle))}
    now = utcnow()
    touched = 0
    for data in titles:
        values = asdict(data)
        row = existing.get(data.code)
        if row is None:
            session.add(PressTitle(**values, active=True, created_at=now, updated_at=now))
            touched += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            touched += 1
    return touched
