"""Prepaid-card rules: the Luhn check digit, card number generation, balance arithmetic."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import DomainError, Invalid
from storefront_api.prepaid import domain
from storefront_api.prepaid.domain import (
    BalanceLimitExceeded,
    InsufficientBalance,
    MalformedCardNo,
    RefundExceedsCharge,
)

# Published Luhn examples: the Wikipedia number and well-known test card numbers.
VALID = ["79927398713", "4111111111111111", "5555555555554444", "378282246310005"]


@pytest.mark.parametrize("number", VALID)
def test_published_numbers_pass_luhn(number: str) -> None:
    assert domain.passes_luhn(number)
    assert domain.luhn_check_digit(number[:-1]) == number[-1]


@pytest.mark.parametrize("number", ["79927398710", "4111111111111112", "1234", "12a4", "", "5"])
def test_wrong_or_malformed_numbers_fail_luhn(number: str) -> None:
    assert not domain.passes_luhn(number)


def test_wikipedia_payload_gets_check_digit_3() -> None:
    assert domain.luhn_check_digit("7992739871") == "3"


@given(st.text(alphabet="0123456789", min_size=1, max_size=30), st.integers(0, 29), st.data())
def test_changing_any_one_digit_breaks_the_check(payload: str, where: int, data: st.DataObject):
    number = payload + domain.luhn_check_digit(payload)
    position = where % len(number)
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    changed = number[:position] + other + number[position + 1 :]
    assert domain.passes_luhn(number)
    assert not domain.passes_luhn(changed)


def test_new_card_numbers_are_19_digits_with_prefix_and_check_digit() -> None:
    for _ in range(200):
        card_no = domain.new_card_no()
        assert len(card_no) == 19 and card_no.isdigit()
        assert card_no.startswith(domain.ISSUER_PREFIX)
        assert domain.check_card_no(card_no) == card_no


def test_new_card_numbers_are_random_not_sequential() -> None:
    numbers = [domain.new_card_no() for _ in range(200)]
    assert len(set(numbers)) == len(numbers)
    bodies = sorted(int(n[len(domain.ISSUER_PREFIX) : -1]) for n in numbers)
    gaps = {b - a for a, b in itertools.pairwise(bodies)}
    # Two hundred draws from 10^12 leave gaps of every size, not a run of +1 steps.
    assert 1 not in gaps and len(gaps) > 100


def test_new_card_number_uses_the_drawn_digits() -> None:
    drawn: list[int] = []

    def draw(bound: int) -> int:
        drawn.append(bound)
        return 42

    card_no = domain.new_card_no(draw)
    assert drawn == [10**12]
    assert card_no[:-1] == domain.ISSUER_PREFIX + "000000000042"
    assert domain.passes_luhn(card_no)


@pytest.mark.parametrize(
    "value",
    ["958800000000000042", "95880000000000004200", "9588000000000000421", "95880000000000004x2"],
)
def test_check_card_no_names_the_field(value: str) -> None:
    with pytest.raises(MalformedCardNo) as raised:
        domain.check_card_no(value, "payment.card_no")
    assert [e.field for e in raised.value.errors] == ["payment.card_no"]


def test_debit_never_goes_below_zero_and_names_amount_fen() -> None:
    assert domain.debited(1_000, 1_000) == 0
    with pytest.raises(InsufficientBalance) as raised:
        domain.debited(999, 1_000)
    assert raised.value.code == "insufficient-balance"
    assert [e.field for e in raised.value.errors] == ["amount_fen"]


def test_credit_respects_the_card_limit() -> None:
    named, anonymous = domain.balance_limit(True), domain.balance_limit(False)
    assert (named, anonymous) == (500_000, 100_000)
    assert domain.credited(99_000, 1_000, anonymous) == 100_000
    with pytest.raises(BalanceLimitExceeded) as raised:
        domain.credited(99_000, 1_001, anonymous)
    assert [e.field for e in raised.value.errors] == ["amount_fen"]


@pytest.mark.parametrize("amount", [0, -1])
def test_amounts_must_be_positive(amount: int) -> None:
    with pytest.raises(Invalid):
        domain.debited(1_000, amount)
    with pytest.raises(Invalid):
        domain.credited(0, amount, 100_000)
    with pytest.raises(Invalid):
        domain.check_refund(1_000, 0, amount)


def test_refunds_take_back_at_most_what_is_left() -> None:
    domain.check_refund(1_000, 400, 600)
    with pytest.raises(RefundExceedsCharge) as raised:
        domain.check_refund(1_000, 400, 601)
    assert [e.field for e in raised.value.errors] == ["amount_fen"]


@given(
    st.lists(
        st.tuples(st.sampled_from(["top_up", "charge"]), st.integers(-5, 120_000)), max_size=40
    )
)
def test_any_sequence_of_credits_and_debits_stays_within_zero_and_the_limit(
    steps: list[tuple[str, int]],
) -> None:
    limit = domain.balance_limit(False)
    balance, moved = 0, 0
    for kind, amount in steps:
        try:
            if kind == "top_up":
                balance = domain.credited(balance, amount, limit)
                moved += amount
            else:
                balance = domain.debited(balance, amount)
                moved -= amount
        except DomainError:
            pass
        assert 0 <= balance <= limit
        assert balance == moved
