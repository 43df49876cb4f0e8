"""The sandbox biller's pure rules: bills derived from the account number, faults from its end."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront_api.bills.domain import BillerInfo
from storefront_api.bills.reference import BILLERS
from storefront_api.bills.sandbox import (
    Fault,
    bill_amount_fen,
    bill_for,
    billing_period,
    customer_name,
    fault_for,
)

RANGES_FEN = {
    "water": (2_500, 17_600),
    "electricity": (4_936, 43_190),
    "gas": (3_000, 24_000),
    "broadband": (9_900, 29_900),
    "landline": (2_000, 8_000),
}
TODAY = date(2026, 11, 25)
accounts = st.text(alphabet="0123456789", min_size=8, max_size=16)


def info(kind: str) -> BillerInfo:
    seed = next(seed for seed in BILLERS if seed.kind == kind)
    return BillerInfo(seed.code, seed.name, seed.kind, seed.adapter)


def test_one_sandbox_biller_per_kind():
    assert sorted(seed.kind for seed in BILLERS) == sorted(RANGES_FEN)
    assert len({seed.code for seed in BILLERS}) == len(BILLERS)
    assert all(seed.adapter == "sandbox" for seed in BILLERS)


@pytest.mark.parametrize(
    ("account_no", "fault"),
    [
        ("12340000", Fault.NO_BILL),
        ("12349991", Fault.DECLINE),
        ("12349992", Fault.TIMEOUT),
        ("12349993", Fault.SLOW),
        ("12349994", None),
        ("00001234", None),
        ("1234567890120000", Fault.NO_BILL),
    ],
)
def test_faults_are_chosen_by_the_last_four_digits(account_no, fault):
    assert fault_for(account_no) is fault


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2026, 11, 25), "2026-10"),
        (date(2026, 11, 1), "2026-10"),
        (date(2026, 1, 31), "2025-12"),
        (date(2024, 3, 1), "2024-02"),
    ],
)
def test_bills_are_for_the_previous_calendar_month(today, period):
    assert billing_period(today) == period


@given(account_no=accounts, kind=st.sampled_from(sorted(RANGES_FEN)))
def test_every_account_has_the_same_realistic_bill_every_time(account_no, kind):
    biller = info(kind)
    amount = bill_amount_fen(kind, biller.code, account_no)
    low, high = RANGES_FEN[kind]
    assert low <= amount <= high
    assert amount == bill_amount_fen(kind, biller.code, account_no)
    bill = bill_for(biller, account_no, TODAY)
    if account_no.endswith("0000"):
        assert bill is None
    else:
        assert bill is not None
        assert bill == bill_for(biller, account_no, TODAY)
        assert bill.amount_due_fen == amount
        assert bill.period == "2026-10"
        assert bill.customer_name[0] == customer_name(biller.code, account_no)[0]
        assert "*" in bill.customer_name


def test_broadband_bills_are_whole_plans():
    biller = info("broadband")
    amounts = {bill_amount_fen("broadband", biller.code, f"{n:08d}") for n in range(200)}
    assert amounts == {9_900, 12_900, 15_900, 19_900, 29_900}


def test_accounts_and_billers_spread_over_many_amounts():
    biller = info("electricity")
    amounts = {bill_amount_fen("electricity", biller.code, f"2100{n:06d}") for n in range(200)}
    assert len(amounts) > 150
    water = info("water")
    assert bill_amount_fen("water", water.code, "21000001") != bill_amount_fen(
        "water", "OTHER-WATER", "21000001"
    )


@pytest.mark.parametrize(
    "account_no", ["1234567", "12345678901234567", "1234abcd", "１２３４５６７８"]
)
def test_malformed_numbers_have_no_bill(account_no):
    assert bill_for(info("gas"), account_no, TODAY) is None
