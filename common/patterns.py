"""Regular expressions the API states in its OpenAPI document and enforces, in one place.

Each pattern means the same to Python's `re`, to Rust's `regex` (pydantic's validator)
and to ECMA 262 (JSON Schema validators and generators): no `\\s` (whose members differ
between them), no look-around, only explicit classes.
"""

from __future__ import annotations

# The characters Python's str.isspace() and str.strip() treat as white space, spelled out.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Any text without NUL (PostgreSQL text cannot hold it).
NO_NUL = r"^[^\x00]*$"
# Text with at least one character that is neither white space nor NUL, and no NUL.
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$"
# What a list cursor this API issues looks like: unpadded base64url.
CURSOR = r"^[A-Za-z0-9_-]{1,200}$"

# A member number: 12 digits (the last a Luhn check digit; a wrong one names no member).
MEMBER_NO = r"^[0-9]{12}$"

# A mainland China mobile number (1, then 3-9, then 9 digits), optionally after +86, 0086
# or 86, with white space, '-', '(' and ')' anywhere: what crm's normalise_phone accepts.
_SEP = rf"[{WHITESPACE}()-]"
PHONE = (
    rf"^{_SEP}*(?:\+{_SEP}*8{_SEP}*6|0{_SEP}*0{_SEP}*8{_SEP}*6|8{_SEP}*6)?"
    rf"{_SEP}*1{_SEP}*[3-9](?:{_SEP}*[0-9]){{9}}{_SEP}*$"
)
PHONE_WORDS = "must be a mainland China mobile number (11 digits, 13x-19x)"

# The identifiers a member can be found by, as they are stored.
IDENTIFIER_PATTERNS = {
    "phone": PHONE,
    "card_no": r"^[0-9]{16,19}$",
    "wechat_openid": r"^[A-Za-z0-9_-]{16,64}$",
    "alipay_uid": r"^2088[0-9]{12}$",
    "partner_airline": r"^[A-Z0-9]{6,20}$",
    "partner_bank": r"^[A-Z0-9]{6,24}$",
    "partner_insurer": r"^[A-Z0-9]{6,24}$",
}

# A UPU S10 tracking number as crm's normalise_tracking_no reads it: 2 letters, 9 digits
# (serial and check digit), 2 letters; letters in any case, white space anywhere.
_WS = rf"[{WHITESPACE}]"
TRACKING_NO = rf"^{_WS}*(?:[A-Za-z]{_WS}*){{2}}(?:[0-9]{_WS}*){{9}}(?:[A-Za-z]{_WS}*){{2}}$"


def padded(pattern: str) -> str:
    """`pattern` (anchored) with white space allowed around it, as the server strips it."""
    core = pattern.removeprefix("^").removesuffix("$")
    return rf"^[{WHITESPACE}]*(?:{core})[{WHITESPACE}]*$"


# What a refused pattern means, in the words the API answers with.
PATTERN_WORDS = {
    NO_NUL: "must not contain NUL characters",
    NOT_BLANK: "must not be blank (white space only) or contain NUL characters",
    CURSOR: "not a cursor this API issued (unpadded base64url)",
    PHONE: PHONE_WORDS,
    MEMBER_NO: "must be a 12-digit member number",
}
