"""Prepaid-card use cases, one function each: issue, top up, charge, refund, freeze."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import points_engine
from common import idempotency, throttle
from common.clock import to_utc, utcnow
from common.errors import DomainError, FieldError, Invalid, Throttled, UnknownReference
from common.idempotency import Written
from common.organisation import Institution, institution_codes
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from storefront_api.prepaid import domain, queries
from storefront_api.prepaid.domain import AccountKind, CardStatus, EntryKind
from storefront_api.prepaid.orm import Account, Card, Entry

# A fresh random card number collides with an existing one about once in 10^12 draws;
# a few retries make it practically impossible to fail.
CARD_NO_ATTEMPTS = 5


@dataclass(frozen=True)
class IssueCommand:
    external_id: str
    amount_fen: int
    member: points_engine.MemberRef | None = None
    institution_code: str | None = None


@dataclass(frozen=True)
class TopUpCommand:
    external_id: str
    card_no: str
    amount_fen: int


@dataclass(frozen=True)
class PaymentCommand:
    """A channel's purchase paid by card (POST /prepaid-cards/{card_no}/charges)."""

    external_id: str
    card_no: str
    amount_fen: int
    description: str | None = None
    pin: str | None = None


@dataclass(frozen=True)
class PinProof:
    """The PIN a caller gave for a card, the key its hash uses and the field that named it."""

    pin: str | None
    secret: str
    field: str = "pin"


# Wrong PINs a card may take in a window, from any till, before it refuses for a while.
WRONG_PIN_LIMIT = throttle.Limit(attempts=5, window=timedelta(minutes=30))


@dataclass(frozen=True)
class PaymentRefundCommand:
    external_id: str
    card_no: str
    charge_no: str
    amount_fen: int


# -- issue and top up -----------------------------------------------------------------


def issue_card(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    command: IssueCommand,
    *,
    scope: str,
    channel: str,
    pin_secret: str,
    now: datetime | None = None,
) -> Written[dict[str, Any]]:
    """Issue a card holding `amount_fen`, paid in at an institution; idempotent per scope + id.

    `scope` is whose external_id this is (`channel:<code>` or `staff:<username>`);
    `channel` is recorded on the card and its first entry. The institution defaults to
    the company. The card gets a random PIN, in the first answer only (a replay answers
    without it; only its keyed hash is stored). Raises Invalid (unknown member or
    institution, amount not positive), BalanceLimitExceeded, Conflict (external_id
    reused with another payload).
    """
    pin = domain.new_pin()

    def effect() -> dict[str, Any]:
        return _issue(uow, directory, command, scope, channel, pin, pin_secret, now)

    key = idempotency.Key(scope, "prepaid_issue", command.external_id)
    written = idempotency.once(
        uow.session, key, command, effect, kind=dict[str, Any], stored=_without_pin
    )
    return written if written.replayed else Written({**written.body, "pin": pin})


def _without_pin(body: dict[str, Any]) -> dict[str, Any]:
    # The PIN is shown once, in the first answer; no copy of it is kept anywhere.
    return {name: value for name, value in body.items() if name != "pin"}


def _issue(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    command: IssueCommand,
    scope: str,
    channel: str,
    pin: str,
    pin_secret: str,
    now: datetime | None,
) -> dict[str, Any]:
    session = uow.session
    member = (
        directory.resolve(uow, command.member, "member") if command.member is not None else None
    )
    institution = _institution(session, command.institution_code)
    balance = domain.credited(0, command.amount_fen, domain.balance_limit(member is not None))
    now = to_utc(now) if now is not None else utcnow()
    card_no = _unused_card_no(session)
    account = Account(
        code=domain.card_account_code(card_no), kind=AccountKind.CARD.value, created_at=now
    )
    session.add(account)
    session.flush()
    card = Card(
        card_no=card_no,
        account_id=account.id,
        member_id=member.member_id if member is not None else None,
        status=CardStatus.ACTIVE.value,
        balance_fen=0,
        institution_code=institution,
        issued_channel=channel,
        pin_hash=domain.hash_pin(card_no, pin, pin_secret),
        created_at=now,
        updated_at=now,
    )
    session.add(card)
    session.flush()
    cash = _system_account(session, domain.cash_account_code(institution), AccountKind.CASH)
    _post(
        session,
        card,
        EntryKind.ISSUE,
        counterpart_id=cash.id,
        amount_fen=command.amount_fen,
        balance_after=balance,
        reference=f"{scope}:{command.external_id}",
        channel=channel,
        institution_code=institution,
        external_id=command.external_id,
        now=now,
    )
    return queries.card_body(uow, directory, card)


def top_up_card(
    uow: UnitOfWork,
    command: TopUpCommand,
    *,
    channel: str,
    institution_code: str | None,
    now: datetime | None = None,
) -> Written[dict[str, Any]]:
    """Pay money onto an active card; idempotent per channel + external_id.

    The money is booked as paid in at `institution_code` (the key's outlet) or, for
    keys bound to none, at the card's issuing institution. Raises MalformedCardNo,
    UnknownCard, CardNotActive, BalanceLimitExceeded, Conflict.
    """

    def effect() -> dict[str, Any]:
        session = uow.session
        domain.check_amount(command.amount_fen)
        card = _locked_card(session, command.card_no, _unknown_card)
        _require_active(card)
        balance = domain.credited(
            card.balance_fen, command.amount_fen, domain.balance_limit(card.member_id is not None)
        )
        cash = _system_account(
            session,
            domain.cash_account_code(institution_code or card.institution_code),
            AccountKind.CASH,
        )
        entry = _post(
            session,
            card,
            EntryKind.TOP_UP,
            counterpart_id=cash.id,
            amount_fen=command.amount_fen,
            balance_after=balance,
            reference=f"channel:{channel}:{command.external_id}",
            channel=channel,
            institution_code=institution_code or card.institution_code,
            external_id=command.external_id,
            now=now,
        )
        body = {
            "top_up_no": entry.entry_no,
            "card_no": card.card_no,
            "amount_fen": entry.amount_fen,
            "balance_fen": card.balance_fen,
        }
        return body

    key = idempotency.Key(f"channel:{channel}", "prepaid_top_up", command.external_id)
    return idempotency.once(uow.session, key, command, effect, kind=dict[str, Any])


# -- charges --------------------------------------------------------------------------


def charge_card(
    uow: UnitOfWork,
    *,
    card_no: str,
    amount_fen: int,
    reference: str,
    channel: str,
    field: str = "card_no",
    now: datetime | None = None,
) -> str:
    """Spend `amount_fen` from a card inside the caller's transaction; returns the charge_no.

    For other flows (an order paid by card): does not commit and keeps no idempotency
    record of its own; `reference` (e.g. `order:<order_no>`) names the charge for a
    later `refund_card_charge` and may be used by one charge only. The caller proves
    the holder first (`verify_card_pin`, or the member's own token). Raises
    MalformedCardNo / CardNotFound (Invalid, naming `field`), CardNotActive,
    InsufficientBalance (naming amount_fen), DuplicateChargeReference, Invalid.
    """
    session = uow.session
    domain.check_amount(amount_fen)
    domain.check_card_no(card_no, field)
    card = _locked_card(session, card_no, lambda: _card_not_found(field))
    # Checked under the card lock: two charges with one reference on this card cannot
    # both pass; references name orders, which their own flow locks as well.
    if _charge_by_reference(session, reference) is not None:
        raise domain.DuplicateChargeReference(
            f"a card charge with reference {reference!r} already exists"
        )
    entry = _charge(
        session,
        card,
        amount_fen,
        reference=reference,
        channel=channel,
        external_id=None,
        now=now,
    )
    session.flush()
    return entry.entry_no


def _pin_key(card_no: str) -> str:
    return f"card-pin:{card_no}"


def check_pin(uow: UnitOfWork, card: Card, proof: PinProof) -> None:
    """Check the PIN of a card this transaction has locked, before anything is written.

    Attempts at one card queue on its row lock, so each sees every failure before it:
    past WRONG_PIN_LIMIT failures it is refused (Throttled) without looking; a wrong
    PIN is counted and committed at once (nothing else of the request was written yet)
    and raises WrongPin naming `proof.field`; a right one clears the count.
    """
    session = uow.session
    key = _pin_key(card.card_no)
    failures = throttle.peek(session, key, WRONG_PIN_LIMIT)
    if failures is not None and failures.count >= WRONG_PIN_LIMIT.attempts:
        raise Throttled(
            f"too many wrong PINs for this card; retry in {failures.retry_after} s",
            failures.retry_after,
        )
    if card.pin_hash is None:
        raise domain.WrongPin(
            f"{proof.field}: this card has no PIN; have it reissued at a counter",
            [FieldError(proof.field, "card without a PIN")],
        )
    if not domain.pin_matches(card.pin_hash, card.card_no, proof.pin, proof.secret):
        throttle.hit(session, key, WRONG_PIN_LIMIT)
        uow.commit()
        raise domain.WrongPin(
            f"{proof.field}: wrong or missing PIN", [FieldError(proof.field, "wrong PIN")]
        )
    throttle.forgive(session, key)


def verify_card_pin(uow: UnitOfWork, card_no: str, proof: PinProof, field: str) -> None:
    """Lock the card and check its PIN first thing in the caller's transaction (an order
    paid by card checks it before it writes anything). Raises what check_pin raises and
    MalformedCardNo / CardNotFound naming `field` (where the card number was given)."""
    domain.check_card_no(card_no, field)
    card = _locked_card(uow.session, card_no, lambda: _card_not_found(field))
    check_pin(uow, card, proof)


def take_card_payment(
    uow: UnitOfWork,
    command: PaymentCommand,
    *,
    channel: str,
    pin_secret: str,
    institution_code: str | None = None,
) -> Written[dict[str, Any]]:
    """A channel's purchase paid by card, proven by the card's PIN; idempotent per channel
    + external_id. The PIN is checked first, before the external_id is claimed, so a
    wrong one leaves nothing behind but its count (a replay shows the PIN again).

    Raises MalformedCardNo, UnknownCard, Throttled, WrongPin, CardNotActive,
    InsufficientBalance, Conflict.
    """
    session = uow.session
    card = _locked_card(session, command.card_no, _unknown_card)
    check_pin(uow, card, PinProof(command.pin, pin_secret))
    # The PIN is no part of what makes two requests the same one, and no digest of it
    # may be stored with the idempotency record.
    unpinned = replace(command, pin=None)

    def effect() -> dict[str, Any]:
        domain.check_amount(command.amount_fen)
        entry = _charge(
            session,
            card,
            command.amount_fen,
            reference=f"channel:{channel}:{command.external_id}",
            channel=channel,
            institution_code=institution_code,
            external_id=command.external_id,
            description=command.description,
        )
        body: dict[str, Any] = {
            "charge_no": entry.entry_no,
            "card_no": card.card_no,
            "amount_fen": entry.amount_fen,
            "balance_fen": card.balance_fen,
        }
        if command.description is not None:
            body["description"] = command.description
        return body

    key = idempotency.Key(f"channel:{channel}", "prepaid_charge", command.external_id)
    return idempotency.once(uow.session, key, unpinned, effect, kind=dict[str, Any])


def _charge(
    session: Session,
    card: Card,
    amount_fen: int,
    *,
    reference: str,
    channel: str,
    external_id: str | None,
    institution_code: str | None = None,
    description: str | None = None,
    now: datetime | None = None,
) -> Entry:
    _require_active(card)
    balance = domain.debited(card.balance_fen, amount_fen)
    sales = _system_account(session, domain.sales_account_code(channel), AccountKind.SALES)
    return _post(
        session,
        card,
        EntryKind.CHARGE,
        counterpart_id=sales.id,
        amount_fen=amount_fen,
        balance_after=balance,
        reference=reference,
        channel=channel,
        institution_code=institution_code,
        external_id=external_id,
        description=description,
        now=now,
    )


# -- refunds --------------------------------------------------------------------------


def refund_card_charge(
    uow: UnitOfWork,
    *,
    reference: str,
    amount_fen: int,
    channel: str,
    now: datetime | None = None,
) -> str:
    """Give `amount_fen` of the charge made with `reference` back to its card; returns refund_no.

    For other flows (an order cancelled or expired): does not commit. The money comes
    back from the account the charge went to, also onto a frozen card. Raises
    UnknownCharge, RefundExceedsCharge (more than is left of the charge), Invalid.
    """
    session = uow.session
    domain.check_amount(amount_fen)
    found = _charge_by_reference(session, reference)
    if found is None:
        raise domain.UnknownCharge(f"no card charge with reference {reference!r}")
    charge_id, card_id = found
    card = _lock_card_by_id(session, card_id)
    charge = session.get(Entry, charge_id)
    assert charge is not None
    entry = _refund(
        session,
        card,
        charge,
        amount_fen,
        reference=reference,
        channel=channel,
        external_id=None,
        now=now,
    )
    session.flush()
    return entry.entry_no


def refund_card_payment(
    uow: UnitOfWork,
    command: PaymentRefundCommand,
    *,
    channel: str,
    institution_code: str | None = None,
) -> Written[dict[str, Any]]:
    """Give (part of) a channel's card payment back; idempotent per channel + external_id.

    Who may refund which charge is the access policy's to say (the channel and outlet
    that took it); a charge another flow made (an order's) is refunded through that
    flow (ChargeNotRefundableHere). Raises MalformedCardNo, UnknownCard,
    UnknownCharge, RefundExceedsCharge, Conflict.
    """

    def effect() -> dict[str, Any]:
        session = uow.session
        domain.check_amount(command.amount_fen)
        card = _locked_card(session, command.card_no, _unknown_card)
        charge = session.scalars(
            select(Entry).where(
                Entry.entry_no == command.charge_no,
                Entry.kind == EntryKind.CHARGE.value,
                Entry.card_id == card.id,
            )
        ).one_or_none()
        if charge is None:
            raise domain.UnknownCharge(f"card {card.card_no} has no charge {command.charge_no!r}")
        if charge.external_id is None:
            raise domain.ChargeNotRefundableHere(
                f"charge {charge.entry_no} paid {charge.reference}; refund it through that"
            )
        entry = _refund(
            session,
            card,
            charge,
            command.amount_fen,
            reference=f"channel:{channel}:{command.external_id}",
            channel=channel,
            institution_code=institution_code,
            external_id=command.external_id,
        )
        body = {
            "refund_no": entry.entry_no,
            "charge_no": charge.entry_no,
            "card_no": card.card_no,
            "amount_fen": entry.amount_fen,
            "refundable_fen": charge.amount_fen - _refunded(session, charge.id),
            "balance_fen": card.balance_fen,
        }
        return body

    key = idempotency.Key(f"channel:{channel}", "prepaid_refund", command.external_id)
    return idempotency.once(uow.session, key, command, effect, kind=dict[str, Any])


def _refund(
    session: Session,
    card: Card,
    charge: Entry,
    amount_fen: int,
    *,
    reference: str,
    channel: str,
    external_id: str | None,
    institution_code: str | None = None,
    now: datetime | None = None,
) -> Entry:
    # The card is locked, and every refund of this charge locks it first: the sum read
    # here cannot change before this refund is committed.
    domain.check_refund(charge.amount_fen, _refunded(session, charge.id), amount_fen)
    return _post(
        session,
        card,
        EntryKind.REFUND,
        counterpart_id=charge.to_account_id,
        amount_fen=amount_fen,
        balance_after=card.balance_fen + amount_fen,
        reference=reference,
        channel=channel,
        institution_code=institution_code,
        external_id=external_id,
        refund_of_id=charge.id,
        now=now,
    )


def _refunded(session: Session, charge_id: int) -> int:
    session.flush()
    total = session.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0)).where(Entry.refund_of_id == charge_id)
    )
    return int(total or 0)


# -- status ---------------------------------------------------------------------------


def set_card_status(
    uow: UnitOfWork, directory: points_engine.MemberDirectory, card_no: str, status: str
) -> dict[str, Any]:
    """Freeze a card (no top-ups or charges; refunds still land) or make it active again.

    Raises MalformedCardNo, UnknownCard, Invalid (unknown status).
    """
    try:
        wanted = CardStatus(status)
    except ValueError as error:
        raise Invalid.field("status", "must be active or frozen") from error
    card = _locked_card(uow.session, card_no, _unknown_card)
    if card.status != wanted.value:
        card.status = wanted.value
        card.updated_at = utcnow()
    return queries.card_body(uow, directory, card)


# -- the book -------------------------------------------------------------------------


def _post(
    session: Session,
    card: Card,
    kind: EntryKind,
    *,
    counterpart_id: int,
    amount_fen: int,
    balance_after: int,
    reference: str,
    channel: str,
    external_id: str | None,
    institution_code: str | None = None,
    description: str | None = None,
    refund_of_id: int | None = None,
    now: datetime | None = None,
) -> Entry:
    """Book one entry between the (locked) card's account and a system account.

    `now` (default the clock) dates the entry, so that history can be generated.
    """
    sign = domain.CARD_SIGN[kind]
    if card.balance_fen + sign * amount_fen != balance_after:
        raise RuntimeError(f"entry of {kind} does not lead to balance {balance_after}")
    source, target = (
        (counterpart_id, card.account_id) if sign > 0 else (card.account_id, counterpart_id)
    )
    now = to_utc(now) if now is not None else utcnow()
    card.balance_fen = balance_after
    card.updated_at = now
    entry = Entry(
        entry_no=public_no(domain.ENTRY_PREFIX[kind]),
        kind=kind.value,
        card_id=card.id,
        from_account_id=source,
        to_account_id=target,
        amount_fen=amount_fen,
        balance_after=balance_after,
        refund_of_id=refund_of_id,
        reference=reference,
        channel=channel,
        institution_code=institution_code,
        external_id=external_id,
        description=description,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def _locked_card(session: Session, card_no: str, missing: Callable[[], DomainError]) -> Card:
    """The card row, locked (FOR UPDATE; SQLite holds the write lock from BEGIN) and re-read."""
    domain.check_card_no(card_no)
    card = session.scalars(
        select(Card)
        .where(Card.card_no == card_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if card is None:
        raise missing()
    return card


def _lock_card_by_id(session: Session, card_id: int) -> Card:
    return session.scalars(
        select(Card)
        .where(Card.id == card_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _unknown_card() -> DomainError:
    return domain.UnknownCard("no prepaid card with this number")


def _card_not_found(field: str) -> DomainError:
    return domain.CardNotFound(
        f"{field}: no prepaid card with this number",
        [FieldError(field, "no prepaid card with this number")],
    )


def _require_active(card: Card) -> None:
    if card.status != CardStatus.ACTIVE.value:
        raise domain.CardNotActive(f"card {card.card_no} is {card.status}")


def _charge_by_reference(session: Session, reference: str) -> tuple[int, int] | None:
    row = session.execute(
        select(Entry.id, Entry.card_id)
        .where(Entry.kind == EntryKind.CHARGE.value, Entry.reference == reference)
        .order_by(Entry.id)
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


def _system_account(session: Session, code: str, kind: AccountKind) -> Account:
    """Get or create a system account; concurrent creators end up with the same row."""
    account = session.scalars(select(Account).where(Account.code == code)).one_or_none()
    if account is not None:
        return account
    account = Account(code=code, kind=kind.value, created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        account = session.scalars(select(Account).where(Account.code == code)).one()
    return account


def _unused_card_no(session: Session) -> str:
    for _attempt in range(CARD_NO_ATTEMPTS):
        card_no = domain.new_card_no()
        if session.scalar(select(Card.id).where(Card.card_no == card_no)) is None:
            return card_no
    raise RuntimeError("no unused card number found")


def _institution(session: Session, code: str | None) -> str:
    if code is None:
        company = session.scalar(
            select(Institution.code)
            .where(Institution.kind == "company", Institution.parent_code.is_(None))
            .order_by(Institution.code)
            .limit(1)
        )
        if company is None:
            raise RuntimeError("no company in the institution tree")
        return company
    if code not in institution_codes(session):
        raise UnknownReference.field("institution_code", "unknown institution")
    return code
