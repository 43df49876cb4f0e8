"""Bill payment rules: account numbers, masking, amounts, status resolution and reversal window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.errors import Invalid
from storefront_api.bills.domain import (
    check_account_no,
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
