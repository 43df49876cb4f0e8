"""Unit tests for member identity rules: mobile numbers, identifier formats, member numbers."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import Invalid
from crm.domain.identity import (
    LINKABLE_TYPES,
    is_member_no,
    luhn_check_digit,
    new_member_no,
    normalise_identifier,
    normalise_phone,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        " 13812345678 ",
        "+8613812345678",
        "+86 138 1234 5678",
        "0086 138-1234-5678",
        "008613812345678",
        "8613812345678",
        "86-138-1234-5678",
        "138 1234 5678",
        "138-1234-5678",
        "(+86) 138 1234 5678",
    ],
)
def test_mobile_numbers_are_normalised_to_eleven_digits(raw: str) -> None:
    assert normalise_phone(raw) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mainland_mobile_range_is_accepted(prefix: str) -> None:
    number = prefix + "012345678"
    assert normalise_phone(number) == number


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12812345678",  # 12x is not a mobile range
        "10086",  # short service number
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "+86138123456789",  # 12 digits after the country code
        "021-6888 8888",  # Shanghai landline
        "02168888888",
        "+86 21 6888 8888",
        "+852 9123 4567",  # Hong Kong
        "1381234567a",
        "138l2345678",
        "abcdefghijk",
        "+1 415 555 0100",
        "86 86 138 1234 5678",
        "1381234\u00a05678x",
        "13\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",  # full-width digits
        "1381234\u0665678",  # an Arabic-Indic digit
    ],
)
def test_anything_but_a_mainland_mobile_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as raised:
        normalise_phone(raw)
    assert [e.field for e in raised.value.errors] == ["phone"]


def test_the_refusal_names_the_field_it_was_given() -> None:
    with pytest.raises(Invalid) as raised:
        normalise_phone("123", field="member.phone")
    assert raised.value.errors[0].field == "member.phone"
    assert "mobile" in raised.value.errors[0].message


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "0086", "86"]))
def test_any_mobile_number_survives_any_accepted_prefix(number: str, prefix: str) -> None:
    spaced = f"{prefix} {number[:3]} {number[3:7]}-{number[7:]}"
    assert normalise_phone(prefix + number) == number
    assert normalise_phone(spaced) == number


# -- identifier formats ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("card_no", "6217000010001234", "6217000010001234"),
        ("card_no", " 6217000010001234567 ", "6217000010001234567"),
        ("wechat_openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ("alipay_uid", "2088102146225135", "2088102146225135"),
        ("partner_airline", "MU123456789", "MU123456789"),
        ("partner_bank", "PSBC00012345", "PSBC00012345"),
        ("partner_insurer", "CPIC2024000001", "CPIC2024000001"),
        ("phone", "+86 139 0000 1111", "13900001111"),
    ],
)
def test_identifiers_are_stored_in_their_canonical_form(kind: str, value: str, stored: str) -> None:
    assert normalise_identifier(kind, value) == stored


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("card_no", "621700001000123"),  # 15 digits
        ("card_no", "62170000100012345678"),  # 20 digits
        ("card_no", "6217-0000-1000-1234"),
        ("wechat_openid", "short_openid"),
        ("wechat_openid", "has spaces in the middle!"),
        ("alipay_uid", "2089102146225135"),
        ("alipay_uid", "208810214622513"),
        ("partner_airline", "mu123456789"),
        ("partner_airline", "MU1"),
        ("partner_bank", "PSBC-0001-2345"),
        ("partner_insurer", "X" * 25),
        ("card_no", "\uff16" * 16),  # full-width digits
        ("alipay_uid", "2088" + "\u0661" * 12),
    ],
)
def test_identifiers_in_the_wrong_format_are_refused(kind: str, value: str) -> None:
    with pytest.raises(Invalid) as raised:
        normalise_identifier(kind, value, field="value")
    assert [e.field for e in raised.value.errors] == ["value"]


def test_an_unknown_identifier_type_is_refused_on_the_type_field() -> None:
    with pytest.raises(Invalid) as raised:
        normalise_identifier("qq_number", "12345678")
    assert raised.value.errors[0].field == "type"


def test_a_phone_identifier_is_checked_as_a_phone_under_the_given_field() -> None:
    with pytest.raises(Invalid) as raised:
        normalise_identifier("phone", "021-6888 8888", field="member.phone")
    assert raised.value.errors[0].field == "member.phone"


def test_the_phone_is_not_linkable_as_an_extra_identifier() -> None:
    assert "phone" not in LINKABLE_TYPES
    assert set(LINKABLE_TYPES) >= {"card_no", "wechat_openid", "alipay_uid"}


# -- member numbers -------------------------------------------------------------------


def test_luhn_check_digit_matches_the_textbook_example() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("0") == "0"
    assert luhn_check_digit("401288888888188") == "1"


def test_new_member_numbers_are_twelve_digits_with_a_valid_check_digit() -> None:
    for _ in range(200):
        number = new_member_no()
        assert len(number) == 12
        assert number.isdigit()
        assert number.startswith("8")
        assert is_member_no(number)


def test_member_numbers_are_random_not_sequential() -> None:
    numbers = [new_member_no() for _ in range(500)]
    assert len(set(numbers)) >= 499
    bodies = sorted(int(n[:-1]) for n in numbers)
    gaps = {b - a for a, b in pairwise(bodies)}
    assert len(gaps) > 100
    # Every digit position after the leading 8 varies.
    for position in range(1, 11):
        assert len({n[position] for n in numbers}) >= 8


@given(st.from_regex(r"8[0-9]{10}", fullmatch=True), st.integers(0, 11), st.integers(1, 9))
def test_any_single_digit_typo_breaks_the_check(body: str, position: int, shift: int) -> None:
    number = body + luhn_check_digit(body)
    assert is_member_no(number)
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not is_member_no(typo)


@pytest.mark.parametrize(
    "value", ["", "80000000000", "8000000000000", "80000000000a", "8000 0000 000", "800000000001"]
)
def test_malformed_member_numbers_are_not_member_numbers(value: str) -> None:
    assert not is_member_no(value)
