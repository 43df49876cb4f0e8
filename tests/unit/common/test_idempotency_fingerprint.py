"""A request's fingerprint is the digest of its fields; records stored by earlier
releases (digested from `dataclasses.asdict`) must still replay."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from enum import Enum

from hypothesis import given
from hypothesis import strategies as st

from common.idempotency import fingerprint


class Kind(Enum):
    GOODS = "goods"


@dataclass(frozen=True)
class Line:
    sku: str
    amount_fen: int
    category: str | None = None


@dataclass(frozen=True)
class Ref:
    member_no: str | None
    phone: str | None = None


@dataclass(frozen=True)
class Command:
    external_id: str
    member: Ref
    lines: tuple[Line, ...]
    occurred_at: datetime
    held_until: date | None
    kind: Kind
    tags: list[str]


lines = st.builds(Line, st.text(max_size=8), st.integers(), st.none() | st.text(max_size=4))
commands = st.builds(
    Command,
    st.text(max_size=12),
    st.builds(Ref, st.none() | st.text(max_size=6), st.none() | st.text(max_size=6)),
    st.tuples(lines) | st.tuples(lines, lines),
    st.datetimes(timezones=st.just(UTC)),
    st.none() | st.dates(),
    st.just(Kind.GOODS),
    st.lists(st.text(max_size=3), max_size=3),
)


@given(commands)
def test_a_command_digests_as_its_asdict_did(command: Command) -> None:
    assert fingerprint(command) == fingerprint(asdict(command))


@given(commands, st.text(min_size=1, max_size=5))
def test_a_different_field_gives_a_different_digest(command: Command, suffix: str) -> None:
    changed = Command(**{**command.__dict__, "external_id": command.external_id + suffix})
    assert fingerprint(changed) != fingerprint(command)
