"""Pickup code generation and hashing."""

from __future__ import annotations

import itertools

from storefront_api.pickup.domain import (
    hash_pickup_code,
    looks_like_pickup_code,
    new_pickup_code,
)


def test_codes_are_eight_digits_with_leading_zeros_kept():
    assert new_pickup_code(lambda bound: 42) == "00000042"
    assert looks_like_pickup_code(new_pickup_code())


def test_codes_are_not_sequential_and_rarely_repeat():
    codes = [new_pickup_code() for _ in range(2_000)]
    assert len(set(codes)) >= 1_990
    numbers = [int(code) for code in codes]
    steps = {b - a for a, b in itertools.pairwise(numbers)}
    assert len(steps) > 1_900
    assert all(looks_like_pickup_code(code) for code in codes)


def test_hash_is_keyed_and_does_not_contain_the_code():
    digest = hash_pickup_code("12345678", "secret-a")
    assert digest == hash_pickup_code("12345678", "secret-a")
    assert digest != hash_pickup_code("12345678", "secret-b")
    assert "12345678" not in digest and len(digest) == 64


def test_only_ascii_digits_of_the_right_length_look_like_codes():
    for bad in ("1234567", "123456789", "1234567a", "１２３４５６７８", ""):
        assert not looks_like_pickup_code(bad)
