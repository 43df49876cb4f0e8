"""Hypothesis strategies: purchase histories and parameters anywhere in the search box."""

from __future__ import annotations

from hypothesis import strategies as st

from crm.insights import Histories

# The box the optimiser searches, [1e-6, 1e6], and data far beyond any real file's.
parameter = st.floats(min_value=1e-6, max_value=1e6)
count = st.one_of(st.integers(0, 3), st.integers(0, 1_000_000))
weeks = st.one_of(st.just(0.0), st.floats(min_value=1e-4, max_value=1e4))


@st.composite
def history(draw: st.DrawFn) -> tuple[int, float, float]:
    x = draw(count)
    T = draw(weeks)
    if x == 0:
        return 0, 0.0, T
    where = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
    return x, T * where, T


@st.composite
def histories_and_params(
    draw: st.DrawFn, size: int = 4
) -> tuple[Histories, tuple[float, float, float, float]]:
    rows = draw(st.lists(history(), min_size=1, max_size=size))
    x, t_x, T = zip(*rows, strict=True)
    params = (draw(parameter), draw(parameter), draw(parameter), draw(parameter))
    return Histories.of(x, t_x, T), params
