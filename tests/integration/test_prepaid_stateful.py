"""Stateful property test: any sequence of card use cases keeps the prepaid books and the model."""

from __future__ import annotations

import itertools
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

import crm
import points_engine
from common.db import read_session
from common.errors import DomainError
from common.unit_of_work import UnitOfWork, transaction
from memberhub.runtime import Runtime
from storefront_api import prepaid
from storefront_api.prepaid import domain
from tests.conftest import restore

DIRECTORY = crm.CrmMemberDirectory()
CHANNELS = ("counter", "web", "app")
PIN_SECRET = "prepaid-stateful-secret"
AMOUNTS = st.one_of(st.integers(-50, 2_000), st.integers(90_000, 130_000))


@dataclass
class Card:
    card_no: str
    named: bool
    balance: int = 0
    pin: str = ""
    frozen: bool = False


@dataclass
class Charge:
    card: Card
    amount: int
    channel: str
    # (reference) for a charge an order made; (charge_no) for one a channel made over the API.
    reference: str | None
    charge_no: str
    refunded: int = 0


class PrepaidMachine(RuleBasedStateMachine):
    def __init__(self, runtime: Runtime, snapshot: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__()
        restore(runtime, snapshot)
        self.runtime = runtime
        self.ids = itertools.count(1)
        self.cards: list[Card] = []
        self.charges: list[Charge] = []
        self.member_no = ""
        self.last_write: tuple[str, Any, dict[str, Any]] | None = None

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        return transaction(self.runtime.session_factory)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids)}"

    @initialize()
    def register_a_member(self) -> None:
        command = crm.RegisterCommand(
            phone="13900000999",
            name="储值",
            password=None,
            card_no=None,
            birthday=None,
            marketing_consent=False,
            channel="web",
            institution_code=None,
        )
        with self.uow() as uow:
            self.member_no = str(crm.register_member(uow, command)["member_no"])

    def attempt(self, action: Any) -> Any:
        """Run one use case; a refusal must leave everything as it was (checked by invariants)."""
        try:
            with self.uow() as uow:
                return action(uow)
        except DomainError as error:
            return error

    # -- rules ------------------------------------------------------------------------

    @rule(amount=AMOUNTS, named=st.booleans())
    def issue(self, amount: int, named: bool) -> None:
        member = points_engine.MemberRef(member_no=self.member_no) if named else None
        command = prepaid.IssueCommand(self.next_id("I"), amount, member, "SH-HP-0001")
        outcome = self.attempt(
            lambda uow: prepaid.issue_card(
                uow,
                DIRECTORY,
                command,
                scope="channel:counter",
                channel="counter",
                pin_secret=PIN_SECRET,
            )
        )
        if 0 < amount <= domain.balance_limit(named):
            assert isinstance(outcome, points_engine.Written), outcome
            self.cards.append(Card(outcome.body["card_no"], named, amount, pin=outcome.body["pin"]))
        else:
            assert isinstance(outcome, DomainError)

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), amount=AMOUNTS, channel=st.sampled_from(CHANNELS))
    def top_up(self, data: st.DataObject, amount: int, channel: str) -> None:
        card = data.draw(st.sampled_from(self.cards))
        command = prepaid.TopUpCommand(self.next_id("T"), card.card_no, amount)
        outcome = self.attempt(
            lambda uow: prepaid.top_up_card(uow, command, channel=channel, institution_code=None)
        )
        fits = 0 < amount <= domain.balance_limit(card.named) - card.balance
        if fits and not card.frozen:
            assert isinstance(outcome, points_engine.Written), outcome
            card.balance += amount
            assert outcome.body["balance_fen"] == card.balance
            self.last_write = ("top_up", (command, channel), outcome.body)
        else:
            assert isinstance(outcome, DomainError)

    @precondition(lambda self: self.cards)
    @rule(
        data=st.data(),
        amount=st.integers(-5, 3_000),
        channel=st.sampled_from(CHANNELS),
        by_order=st.booleans(),
    )
    def charge(self, data: st.DataObject, amount: int, channel: str, by_order: bool) -> None:
        card = data.draw(st.sampled_from(self.cards))
        reference = self.next_id("order:OR")
        outcome: Any
        if by_order:
            command = None

            def spend(uow: UnitOfWork) -> str:
                charge_no = prepaid.charge_card(
                    uow,
                    card_no=card.card_no,
                    amount_fen=amount,
                    reference=reference,
                    channel=channel,
                )
                uow.commit()
                return charge_no

            outcome = self.attempt(spend)
        else:
            command = prepaid.PaymentCommand(self.next_id("C"), card.card_no, amount, pin=card.pin)
            outcome = self.attempt(
                lambda uow: prepaid.take_card_payment(
                    uow, command, channel=channel, pin_secret=PIN_SECRET
                )
            )
        if 0 < amount <= card.balance and not card.frozen:
            assert not isinstance(outcome, DomainError), outcome
            card.balance -= amount
            if by_order:
                self.charges.append(Charge(card, amount, channel, reference, outcome))
            else:
                assert outcome.body["balance_fen"] == card.balance
                self.charges.append(Charge(card, amount, channel, None, outcome.body["charge_no"]))
                self.last_write = ("charge", (command, channel), outcome.body)
        else:
            assert isinstance(outcome, DomainError)
            if amount > 0 and not card.frozen:
                assert isinstance(outcome, prepaid.InsufficientBalance)

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), amount=st.integers(-5, 3_000))
    def refund(self, data: st.DataObject, amount: int) -> None:
        charge = data.draw(st.sampled_from(self.charges))
        outcome: Any
        if charge.reference is not None:
            reference = charge.reference

            def give_back(uow: UnitOfWork) -> str:
                refund_no = prepaid.refund_card_charge(
                    uow, reference=reference, amount_fen=amount, channel="web"
                )
                uow.commit()
                return refund_no

            outcome = self.attempt(give_back)
        else:
            command = prepaid.PaymentRefundCommand(
                self.next_id("R"), charge.card.card_no, charge.charge_no, amount
            )
            outcome = self.attempt(
                lambda uow: prepaid.refund_card_payment(uow, command, channel=charge.channel)
            )
        if 0 < amount <= charge.amount - charge.refunded:
            assert not isinstance(outcome, DomainError), outcome
            charge.refunded += amount
            charge.card.balance += amount
        else:
            assert isinstance(outcome, DomainError)

    @precondition(lambda self: self.cards)
    @rule(data=st.data())
    def freeze_or_thaw(self, data: st.DataObject) -> None:
        card = data.draw(st.sampled_from(self.cards))
        card.frozen = not card.frozen
        status = "frozen" if card.frozen else "active"
        with self.uow() as uow:
            body = prepaid.set_card_status(uow, DIRECTORY, card.card_no, status)
        assert body["status"] == status

    @precondition(lambda self: self.last_write is not None)
    @rule()
    def replay_the_last_channel_write(self) -> None:
        assert self.last_write is not None
        kind, (command, channel), body = self.last_write
        with self.uow() as uow:
            if kind == "top_up":
                again = prepaid.top_up_card(uow, command, channel=channel, institution_code=None)
            else:
                again = prepaid.take_card_payment(
                    uow, command, channel=channel, pin_secret=PIN_SECRET
                )
        assert again.replayed and again.body == body

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def the_books_hold_and_match_the_model(self) -> None:
        with read_session(self.runtime.session_factory) as session:
            assert prepaid.find_breaches(session) == []
            for card in self.cards:
                assert prepaid.card_balance(session, card.card_no) == card.balance
            total = session.execute(
                text("SELECT COALESCE(SUM(balance_fen), 0) FROM storefront_prepaid_card")
            ).scalar_one()
            negative = session.execute(
                text("SELECT COUNT(*) FROM storefront_prepaid_card WHERE balance_fen < 0")
            ).scalar_one()
        assert total == sum(card.balance for card in self.cards)
        assert negative == 0


def test_any_sequence_of_card_use_cases_keeps_the_books(
    db: Runtime, reference_snapshot: dict[str, list[dict[str, Any]]]
) -> None:
    # Each example starts from the reference data: the machine restores it on creation.
    run_state_machine_as_test(
        lambda: PrepaidMachine(db, reference_snapshot),  # type: ignore[arg-type]  # any factory
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
