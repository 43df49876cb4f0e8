"""The patterns the OpenAPI document states mean the same to every engine that reads them:
Python's re (the domain, hypothesis), Rust's regex (pydantic) and ECMA 262 (JSON Schema)."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import StringConstraints, TypeAdapter, ValidationError

from common.patterns import (
    CURSOR,
    IDENTIFIER_PATTERNS,
    MEMBER_NO,
    NO_NUL,
    NOT_BLANK,
    PHONE,
    TRACKING_NO,
    WHITESPACE,
    padded,
)
from storefront_api.http.orders_schemas import ADDRESS

PATTERNS = [NO_NUL, NOT_BLANK, CURSOR, MEMBER_NO, PHONE, TRACKING_NO, ADDRESS] + [
    padded(pattern) for pattern in IDENTIFIER_PATTERNS.values()
]
# Text made of the characters the patterns are about, and of any others.
TRICKY = st.text(
    st.one_of(
        st.sampled_from(list(" \t\n\x00\x1c\x85\xa0\u2028\u3000\ufeff+-()0123456789ABCDEcn")),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=24,
)


def test_whitespace_is_exactly_what_python_strips():
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert {
        c for c in map(chr, range(sys.maxunicode + 1)) if re.fullmatch(f"[{WHITESPACE}]", c)
    } == (spaces)


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=300, deadline=None)
@given(text=TRICKY)
def test_every_engine_agrees(pattern, text):
    python = re.fullmatch(pattern, text) is not None
    ecma = jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid(text)
    try:
        TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)]).validate_python(text)
        rust = True
    except ValidationError:
        rust = False
    assert python == ecma == rust, (pattern, text)


@pytest.mark.parametrize(
    ("text", "blank"), [(" ", True), ("\u3000\t", True), ("\ufeff", False), (" a ", False)]
)
def test_not_blank_is_what_strip_leaves_something_of(text, blank):
    assert (re.fullmatch(NOT_BLANK, text) is None) == blank == (not text.strip())
