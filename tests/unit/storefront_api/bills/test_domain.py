"""Bill payment rules: account numbers, masking, amounts, status resolution and reversal window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from common.errors import Invalid
from storefront_api.bills.domain import (
    PROCESSING_GRACE,
    BillerStatus,
    NotReversible,
    Payer,
    PaymentStatus,
    ReversalWindowClosed,
    check_account_no,
    check_amount,
    check_reversible,
    mask_name,
    needs_biller_answer,
    resolution,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("account_no", ["12345678", "1234567890123456", "00000001"])
def test_account_numbers_of_8_to_16_ascii_digits_pass(account_no):
    check_account_no(account_no)


@pytest.mark.parametrize(
    "account_no",
    [
        "1234567",
        "12345678901234567",
        "1234567a",
        "1234 5678",
        " 12345678",
        "12345678\n",
        "１２３４５６７８",  # full-width digits
        "١٢٣٤٥٦٧٨",  # Arabic-Indic digits: isdigit() but not 0-9
        "",
    ],
)
def test_other_account_numbers_are_refused_naming_the_field(account_no):
    with pytest.raises(Invalid) as raised:
        check_account_no(account_no)
    assert [error.field for error in raised.value.errors] == ["account_no"]


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张", "*"), ("张三", "张*"), ("王小明", "王*明"), ("欧阳娜娜", "欧**娜")],
)
def test_customer_names_keep_only_their_ends(name, masked):
    assert mask_name(name) == masked


def test_a_bill_is_paid_whole_neither_less_nor_more():
    check_amount(12_345, 12_345)
    for amount in (12_344, 12_346):
        with pytest.raises(Invalid) as raised:
            check_amount(amount, 12_345)
        assert raised.value.errors[0].field == "amount_fen"
        assert "12345" in raised.value.errors[0].message


UNSETTLED = (PaymentStatus.PROCESSING, PaymentStatus.UNKNOWN)


@pytest.mark.parametrize("ours", UNSETTLED)
def test_an_unanswered_payment_becomes_what_the_biller_holds(ours):
    assert resolution(ours, BillerStatus.PAID) is PaymentStatus.PAID
    assert resolution(ours, BillerStatus.NOT_FOUND) is PaymentStatus.FAILED
    assert resolution(ours, BillerStatus.REVERSED) is PaymentStatus.REVERSED


def test_a_paid_payment_follows_only_a_reversal_at_the_biller():
    assert resolution(PaymentStatus.PAID, BillerStatus.PAID) is PaymentStatus.PAID
    assert resolution(PaymentStatus.PAID, BillerStatus.NOT_FOUND) is PaymentStatus.PAID
    assert resolution(PaymentStatus.PAID, BillerStatus.REVERSED) is PaymentStatus.REVERSED


@pytest.mark.parametrize(
    "ours", [PaymentStatus.DECLINED, PaymentStatus.FAILED, PaymentStatus.REVERSED]
)
@pytest.mark.parametrize("theirs", list(BillerStatus))
def test_final_statuses_never_change(ours, theirs):
    assert resolution(ours, theirs) is ours
    assert not needs_biller_answer(ours, NOW - timedelta(days=1), NOW)


def test_a_payment_still_waiting_for_its_own_call_is_not_second_guessed():
    fresh = NOW - PROCESSING_GRACE + timedelta(seconds=1)
    stale = NOW - PROCESSING_GRACE
    assert not needs_biller_answer(PaymentStatus.PROCESSING, fresh, NOW)
    assert needs_biller_answer(PaymentStatus.PROCESSING, stale, NOW)
    assert needs_biller_answer(PaymentStatus.UNKNOWN, NOW, NOW)
    assert needs_biller_answer(PaymentStatus.PAID, NOW, NOW)


DAY = date(2026, 11, 25)


def test_a_paid_payment_is_reversible_on_its_business_day_only():
    check_reversible(PaymentStatus.PAID, DAY, DAY)
    with pytest.raises(ReversalWindowClosed):
        check_reversible(PaymentStatus.PAID, DAY, DAY + timedelta(days=1))


@pytest.mark.parametrize(
    "status",
    [
        PaymentStatus.PROCESSING,
        PaymentStatus.UNKNOWN,
        PaymentStatus.DECLINED,
        PaymentStatus.FAILED,
        PaymentStatus.REVERSED,
    ],
)
def test_nothing_but_a_paid_payment_is_reversible(status):
    with pytest.raises(NotReversible):
        check_reversible(status, DAY, DAY)


def test_members_and_channels_have_their_own_idempotency_scopes():
    assert Payer.member("M0001").scope == "member:M0001"
    assert Payer.member("M0001").channel == "app"
    assert Payer("counter", "SH-HP-0001").scope == "channel:counter"
    assert not Payer("counter", "SH-HP-0001").is_member
