"""Masked personal data: what a marketer may see of a phone number and a name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from common.masking import mask_name, mask_phone


def test_a_mobile_number_keeps_its_prefix_and_last_four():
    assert mask_phone("13812341234") == "138****1234"


def test_longer_numbers_hide_their_length():
    assert mask_phone("008613812341234") == "008****1234"


def test_shorter_numbers_show_at_most_half_and_never_more_than_four():
    assert mask_phone("12345678") == "****5678"
    assert mask_phone("021-6321") == "****6321"
    assert mask_phone("000") == "**0"
    assert mask_phone("1") == "*"
    assert mask_phone("") == ""


@given(st.text(alphabet="0123456789-+", min_size=0, max_size=20))
def test_a_masked_number_hides_what_matters(phone):
    masked = mask_phone(phone)
    shown = [char for char in masked if char != "*"]
    if len(phone) >= 11:
        assert len(masked) == 11 and masked[3:7] == "****"
        assert masked.startswith(phone[:3]) and masked.endswith(phone[-4:])
    else:
        assert len(masked) == len(phone)
        assert len(shown) <= min(4, len(phone) // 2)
        assert masked == "*" * (len(phone) - len(shown)) + phone[len(phone) - len(shown) :]


def test_names_keep_only_the_first_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧*"
    assert mask_name(" 李 ") == "*"
    assert mask_name("") == ""


@given(st.text(min_size=2, max_size=12).filter(lambda name: len(name.strip()) > 1))
def test_a_masked_name_hides_its_length(name):
    assert mask_name(name) == name.strip()[0] + "*"
