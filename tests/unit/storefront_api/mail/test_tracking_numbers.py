"""UPU S10 tracking numbers: check digit, published examples and the reasons for refusal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import Invalid
from storefront_api.mail.domain import (
    InvalidTrackingNumber,
    check_digit,
    normalise_tracking_no,
)

SERIALS = st.text(alphabet="0123456789", min_size=8, max_size=8)
LETTERS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)


@pytest.mark.parametrize(
    "number",
    [
        "EE123456785CN",  # the example of the API contract
        "RA473124829GB",  # serial 47312482 → 9, the UPU S10 worked example
        "RR123456785CN",
        "CP000000005CN",  # weighted sum 0: 11 - 0 = 11 is written 5
        "LN000040000CN",  # weighted sum 12: 11 - 1 = 10 is written 0
    ],
)
def test_published_and_edge_examples_are_valid(number: str) -> None:
    assert normalise_tracking_no(number) == number


def test_check_digit_of_known_serials() -> None:
    assert check_digit("12345678") == 5
    assert check_digit("47312482") == 9
    assert check_digit("00000000") == 5
    assert check_digit("00004000") == 0
    assert check_digit("10000000") == 3


@pytest.mark.parametrize("serial", ["1234567", "123456789", "1234567a", "１２３４５６７８", ""])
def test_check_digit_needs_eight_ascii_digits(serial: str) -> None:
    with pytest.raises(ValueError):
        check_digit(serial)


def test_lower_case_and_printed_spaces_are_normalised() -> None:
    assert normalise_tracking_no("ee123456785cn") == "EE123456785CN"
    assert normalise_tracking_no(" EE 123 456 785 CN ") == "EE123456785CN"


def _reason(raw: str) -> str:
    with pytest.raises(InvalidTrackingNumber) as caught:
        normalise_tracking_no(raw)
    error = caught.value
    assert isinstance(error, Invalid)
    assert [e.field for e in error.errors] == ["tracking_no"]
    return error.errors[0].message


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("LK123456785", "13 characters"),
        ("EE123456785CNX", "13 characters"),
        ("", "13 characters"),
        ("E1123456785CN", "2 letters"),
        ("ÉE123456785CN", "2 letters"),
        ("EE12345678XCN", "digits"),
        ("EE１23456785CN", "digits"),
        ("EE1234567851N", "country code"),
        ("EE123456784CN", "check digit 4 is wrong: serial 12345678 gives 5"),
        ("RA473124828GB", "check digit"),
    ],
)
def test_refusals_say_why(raw: str, says: str) -> None:
    assert says in _reason(raw)


def test_field_name_is_the_callers() -> None:
    with pytest.raises(InvalidTrackingNumber) as caught:
        normalise_tracking_no("nope", field="items[2].tracking_no")
    assert caught.value.errors[0].field == "items[2].tracking_no"


@given(indicator=LETTERS, serial=SERIALS, country=LETTERS)
def test_any_serial_with_its_computed_digit_validates(
    indicator: str, serial: str, country: str
) -> None:
    number = f"{indicator}{serial}{check_digit(serial)}{country}"
    assert normalise_tracking_no(number.lower()) == number


@given(indicator=LETTERS, serial=SERIALS, country=LETTERS, data=st.data())
def test_any_other_digit_is_refused_for_its_check_digit(
    indicator: str, serial: str, country: str, data: st.DataObject
) -> None:
    right = check_digit(serial)
    wrong = data.draw(st.integers(0, 9).filter(lambda digit: digit != right))
    assert "check digit" in _reason(f"{indicator}{serial}{wrong}{country}")


@given(serial=SERIALS, position=st.integers(0, 7), data=st.data())
def test_a_single_mistyped_serial_digit_is_caught(
    serial: str, position: int, data: st.DataObject
) -> None:
    # Weights are all non-zero and below 11, so one changed digit always changes the sum mod 11.
    number = f"EE{serial}{check_digit(serial)}CN"
    old = int(serial[position])
    new = data.draw(st.integers(0, 9).filter(lambda digit: digit != old))
    typo = number[: 2 + position] + str(new) + number[3 + position :]
    changed = check_digit(typo[2:10]) != int(typo[10])
    # 11 is written 5 like a genuine 5: a typo moving the sum between those two slips by.
    assert changed or check_digit(serial) == 5
