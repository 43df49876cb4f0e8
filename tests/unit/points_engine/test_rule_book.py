"""Which base earning rules are in force on a day, given their dated versions."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from points_engine.domain.earning import EarningRule, RuleBook, RuleVersion

START = date(2026, 1, 1)
CODES = ("BASE-A", "BASE-B", "BASE-C")


def rule(code: str, points: int) -> EarningRule:
    return EarningRule(code, "goods", None, None, points, 100, 0, 0, code)


versions = st.lists(
    st.builds(
        lambda code, offset, points: RuleVersion(
            code, START + timedelta(days=offset), None if points == 0 else rule(code, points)
        ),
        st.sampled_from(CODES),
        st.integers(min_value=0, max_value=60),
        st.integers(min_value=0, max_value=5),
    ),
    max_size=12,
    unique_by=lambda v: (v.code, v.effective_from),
)
BASE = (rule("BASE-A", 1), rule("BASE-B", 1))


@given(versions=versions, offset=st.integers(min_value=-5, max_value=70))
def test_each_code_reads_as_its_latest_version_on_or_before_the_day(
    versions: list[RuleVersion], offset: int
) -> None:
    day = START + timedelta(days=offset)
    in_force = {r.code: r for r in RuleBook(BASE, tuple(versions)).in_force(day)}
    for code in CODES:
        earlier = [v for v in versions if v.code == code and v.effective_from <= day]
        if earlier:
            expected = max(earlier, key=lambda v: v.effective_from).rule
        else:
            expected = next((r for r in BASE if r.code == code), None)
        assert in_force.get(code) == expected


@given(versions=versions, offset=st.integers(min_value=0, max_value=60))
def test_a_version_from_a_later_day_changes_nothing_before_it(
    versions: list[RuleVersion], offset: int
) -> None:
    day = START + timedelta(days=offset)
    book = RuleBook(BASE, tuple(versions))
    later = RuleVersion("BASE-A", day + timedelta(days=1), rule("BASE-A", 9))
    others = tuple(
        v for v in versions if (v.code, v.effective_from) != (later.code, later.effective_from)
    )
    assert RuleBook(BASE, (*others, later)).in_force(day) == RuleBook(BASE, others).in_force(day)
    assert book.in_force(day) == RuleBook(BASE, others).in_force(day)


def test_without_versions_the_base_rules_hold_every_day() -> None:
    book = RuleBook(BASE)
    assert book.in_force(date(2020, 1, 1)) == book.in_force(date(2030, 1, 1)) == BASE
