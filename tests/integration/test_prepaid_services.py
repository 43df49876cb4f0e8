"""The prepaid-card facade other flows call, its invariants check, and `ledger verify`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

import crm
import points_engine
from common.errors import Conflict, Invalid, NotFound, RuleViolation
from common.unit_of_work import UnitOfWork
from memberhub.runtime import Runtime
from storefront_api import prepaid
from storefront_api.prepaid.domain import new_card_no

DIRECTORY = crm.CrmMemberDirectory()
OUTLET = "SH-HP-0001"


PIN_SECRET = "prepaid-test-secret"
PINS: dict[str, str] = {}


def issue(
    uow: Callable[[], UnitOfWork], amount_fen: int, external_id: str, member_no: str | None = None
) -> str:
    member = points_engine.MemberRef(member_no=member_no) if member_no else None
    with uow() as unit:
        written = prepaid.issue_card(
            unit,
            DIRECTORY,
            prepaid.IssueCommand(external_id, amount_fen, member, OUTLET),
            scope="channel:counter",
            channel="counter",
            pin_secret=PIN_SECRET,
        )
    PINS[str(written.body["card_no"])] = str(written.body["pin"])
    return str(written.body["card_no"])


def register(uow: Callable[[], UnitOfWork], phone: str) -> str:
    command = crm.RegisterCommand(
        phone=phone,
        name="储值",
        password=None,
        card_no=None,
        birthday=None,
        marketing_consent=False,
        channel="web",
        institution_code=None,
    )
    with uow() as unit:
        return str(crm.register_member(unit, command)["member_no"])


def balance(db: Runtime, card_no: str) -> int | None:
    with UnitOfWork(db.session_factory) as unit:
        return prepaid.card_balance(unit.session, card_no)


def test_an_order_charges_and_refunds_a_card_in_its_own_transaction(db, uow) -> None:
    card_no = issue(uow, 1_000, "I-1")

    with UnitOfWork(db.session_factory) as unit:
        charge_no = prepaid.charge_card(
            unit, card_no=card_no, amount_fen=700, reference="order:OR1", channel="app"
        )
        # Nothing is committed by the facade: the order's own commit decides.
    assert balance(db, card_no) == 1_000

    with uow() as unit:
        charge_no = prepaid.charge_card(
            unit, card_no=card_no, amount_fen=700, reference="order:OR1", channel="app"
        )
        first = prepaid.refund_card_charge(
            unit, reference="order:OR1", amount_fen=200, channel="app"
        )
        second = prepaid.refund_card_charge(
            unit, reference="order:OR1", amount_fen=500, channel="counter"
        )
        unit.commit()
    assert charge_no.startswith("PC") and first.startswith("PR") and second.startswith("PR")
    assert balance(db, card_no) == 1_000
    with uow() as unit:
        with pytest.raises(prepaid.RefundExceedsCharge):
            prepaid.refund_card_charge(unit, reference="order:OR1", amount_fen=1, channel="app")
        with pytest.raises(prepaid.DuplicateChargeReference):
            prepaid.charge_card(
                unit, card_no=card_no, amount_fen=1, reference="order:OR1", channel="app"
            )
        with pytest.raises(prepaid.UnknownCharge):
            prepaid.refund_card_charge(unit, reference="order:NONE", amount_fen=1, channel="app")
    # The refunds took the money back from where the charge put it: sales:app.
    with uow() as unit:
        sales = unit.session.execute(
            text(
                "SELECT SUM(CASE WHEN e.to_account_id = a.id THEN e.amount_fen "
                "ELSE -e.amount_fen END) FROM storefront_prepaid_entry e "
                "JOIN storefront_prepaid_account a "
                "ON a.id IN (e.from_account_id, e.to_account_id) WHERE a.code = 'sales:app'"
            )
        ).scalar_one()
    assert sales == 0


def test_charge_card_errors_name_the_callers_field(db, uow) -> None:
    card_no = issue(uow, 500, "I-2")
    cases: list[tuple[str, int, type[Exception], str, str]] = [
        (new_card_no(), 1, prepaid.CardNotFound, "payment.card_no", "card-not-found"),
        (card_no[:-1] + "x", 1, prepaid.MalformedCardNo, "payment.card_no", "invalid-card-no"),
        ("1234", 1, prepaid.MalformedCardNo, "payment.card_no", "invalid-card-no"),
        (card_no, 501, prepaid.InsufficientBalance, "amount_fen", "insufficient-balance"),
        (card_no, 0, Invalid, "amount_fen", "invalid"),
    ]
    for number, amount, error, field, code in cases:
        with uow() as unit, pytest.raises(error) as raised:
            prepaid.charge_card(
                unit,
                card_no=number,
                amount_fen=amount,
                reference=f"order:{number}:{amount}",
                channel="web",
                field="payment.card_no",
            )
        assert [e.field for e in raised.value.errors] == [field], raised.value
        assert raised.value.code == code
    assert issubclass(prepaid.CardNotFound, Invalid)
    assert issubclass(prepaid.InsufficientBalance, RuleViolation)
    assert issubclass(prepaid.CardNotActive, RuleViolation)
    assert issubclass(prepaid.UnknownCharge, NotFound)
    assert issubclass(prepaid.DuplicateChargeReference, Conflict)
    assert balance(db, card_no) == 500
    assert balance(db, new_card_no()) is None


def test_a_frozen_card_refuses_charges_from_other_flows(db, uow) -> None:
    card_no = issue(uow, 500, "I-3")
    with uow() as unit:
        prepaid.set_card_status(unit, DIRECTORY, card_no, "frozen")
    with uow() as unit, pytest.raises(prepaid.CardNotActive):
        prepaid.charge_card(unit, card_no=card_no, amount_fen=1, reference="order:F", channel="web")


def test_member_activity_lists_the_members_card_entries_newest_first(db, uow) -> None:
    member_no = register(uow, "13900000201")
    card_no = issue(uow, 2_000, "I-4", member_no)
    issue(uow, 300, "I-5")  # anonymous: nobody's activity
    with uow() as unit:
        prepaid.charge_card(
            unit, card_no=card_no, amount_fen=800, reference="order:OR2", channel="app"
        )
        unit.commit()
    with uow() as unit:
        member_id = crm.queries.active_member_id(unit.session, member_no)
        activity = prepaid.member_activity(unit.session, member_id)

    assert [(a.kind, a.amount_fen, a.channel) for a in activity] == [
        ("prepaid_card", -800, "app"),
        ("prepaid_card", 2_000, "counter"),
    ]
    assert activity[0].reference.startswith("PC") and card_no[-4:] in activity[0].title
    assert activity[0].as_dict()["amount_fen"] == -800


@pytest.mark.parametrize(
    ("tampering", "invariant"),
    [
        (
            "UPDATE storefront_prepaid_card SET balance_fen = balance_fen + 1",
            "all account balances sum to zero",
        ),
        (
            "UPDATE storefront_prepaid_entry SET balance_after = balance_after + 5 "
            "WHERE kind = 'charge'",
            "balance_after",
        ),
        (
            "UPDATE storefront_prepaid_entry SET amount_fen = amount_fen + 1 WHERE kind = 'refund'",
            "each card's balance equals the sum",
        ),
    ],
)
def test_find_breaches_names_each_broken_invariant(db, uow, tampering, invariant) -> None:
    card_no = issue(uow, 1_000, "I-6")
    with uow() as unit:
        prepaid.charge_card(
            unit, card_no=card_no, amount_fen=600, reference="order:B", channel="web"
        )
        prepaid.refund_card_charge(unit, reference="order:B", amount_fen=100, channel="web")
        unit.commit()
    with UnitOfWork(db.session_factory) as unit:
        assert prepaid.find_breaches(unit.session) == []
        unit.session.execute(text(tampering))
        breaches = prepaid.find_breaches(unit.session)
        # Rolled back when the unit of work ends: the books stay whole for the next test.
    assert breaches and all(line.startswith("prepaid cards: ") for line in breaches)
    assert any(invariant in line for line in breaches), breaches
    assert all("\n" not in line for line in breaches)


@pytest.mark.skipif(
    os.environ.get("MEMBERHUB_TEST_DB", "sqlite").startswith("postgres"),
    reason="CLI behaviour is database-independent; exercised on SQLite files",
)
def test_ledger_verify_reports_a_prepaid_breach(tmp_path: Path) -> None:
    env = dict(os.environ, MEMBERHUB_VAR_DIR=str(tmp_path / "var"))
    env.pop("DATABASE_URL", None)

    def memberhub(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "memberhub.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    assert memberhub("init-db").returncode == 0
    assert memberhub("ledger", "verify").returncode == 0
    with sqlite3.connect(tmp_path / "var" / "memberhub.db") as connection:
        connection.execute(
            "INSERT INTO storefront_prepaid_account (id, code, kind, created_at) "
            "VALUES (1, 'card:1', 'card', '2026-01-01 00:00:00')"
        )
        connection.execute(
            "INSERT INTO storefront_prepaid_card (card_no, account_id, status, balance_fen, "
            "institution_code, issued_channel, created_at, updated_at) VALUES "
            "('1', 1, 'active', 5, 'SH', 'web', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    result = memberhub("ledger", "verify")
    assert result.returncode == 1
    assert "ledger breach: prepaid cards:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
