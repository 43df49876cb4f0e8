from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from points_engine import AccrualLine


@given(st.builds(AccrualLine, st.text(), st.integers(), st.integers(), st.none() | st.text()))
def test_a_line_is_stored_as_asdict_gives_it(line: AccrualLine) -> None:
    assert line.as_dict() == asdict(line)
    assert list(line.as_dict()) == list(asdict(line))
