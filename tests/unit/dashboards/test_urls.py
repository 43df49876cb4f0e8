"""Reading a view from the URL never fails, and writing it back reproduces it."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from dashboards import urls

LAST = date(2026, 11, 20)


def test_defaults_are_the_last_thirty_days_with_data_in_chinese() -> None:
    view = urls.read_view({}, LAST)
    assert (view.filters.start, view.filters.end) == (date(2026, 10, 22), LAST)
    assert view.lang == "zh"
    assert view.filters.inst is view.filters.channel is view.filters.campaign is None
    assert urls.read_view({}, LAST, default_days=365).filters.days == 365


def test_a_query_string_round_trips() -> None:
    query = {
        "from": "2026-01-01",
        "to": "2026-03-31",
        "inst": "SH-HP",
        "channel": "web",
        "campaign": "PJY-MIDAUTUMN-2026",
        "lang": "en",
    }
    view = urls.read_view(query, LAST)
    assert view.query() == query
    assert urls.read_view(urls.parse_search(view.search()), LAST) == view
    assert urls.from_store(urls.to_store(view)) == view


def test_bad_input_falls_back_instead_of_failing() -> None:
    view = urls.read_view(
        {"from": "yesterday", "to": "2026-02-30", "inst": " ", "channel": "x" * 500, "lang": "de"},
        LAST,
    )
    assert view.filters.end == LAST and view.filters.days == urls.DEFAULT_DAYS
    assert view.filters.inst is None and view.filters.channel is None
    assert view.lang == "zh"


def test_reversed_dates_are_swapped_and_long_periods_cut() -> None:
    swapped = urls.read_view({"from": "2026-05-01", "to": "2026-04-01"}, LAST)
    assert (swapped.filters.start, swapped.filters.end) == (date(2026, 4, 1), date(2026, 5, 1))
    long = urls.read_view({"from": "2000-01-01", "to": "2026-01-01"}, LAST)
    assert long.filters.end == date(2026, 1, 1) and long.filters.days == urls.MAX_DAYS


def test_only_a_start_keeps_the_default_end() -> None:
    view = urls.read_view({"from": "2026-11-01"}, LAST)
    assert (view.filters.start, view.filters.end) == (date(2026, 11, 1), LAST)


def test_a_preset_replaces_the_period_and_keeps_the_rest() -> None:
    view = urls.read_view({"from": "2026-01-01", "to": "2026-06-30", "channel": "app"}, LAST)
    changed = urls.apply_filters(
        view, preset_days=7, start=None, end=None, inst="SH-PD", channel="app", campaign=None
    )
    assert (changed.filters.start, changed.filters.end) == (date(2026, 6, 24), date(2026, 6, 30))
    assert changed.filters.inst == "SH-PD" and changed.filters.channel == "app"
    cleared = urls.apply_filters(
        changed,
        preset_days=None,
        start="2026-02-01",
        end="2026-02-28",
        inst=None,
        channel=None,
        campaign="X",
    )
    assert cleared.filters == urls.queries.Filters(
        date(2026, 2, 1), date(2026, 2, 28), campaign="X"
    )


def test_links_between_pages_keep_the_view() -> None:
    view = urls.read_view({"from": "2026-01-01", "to": "2026-01-31", "lang": "en"}, LAST)
    assert (
        urls.page_href("points", view) == "/dashboards/points?from=2026-01-01&to=2026-01-31&lang=en"
    )
    assert urls.page_href("/", view.with_lang("zh")) == "/dashboards/?from=2026-01-01&to=2026-01-31"


@given(
    st.dictionaries(
        st.sampled_from(["from", "to", "inst", "channel", "campaign", "lang", "x"]),
        st.text(max_size=30),
    )
)
def test_any_query_gives_a_valid_view(query: dict[str, str]) -> None:
    view = urls.read_view(query, LAST)
    assert view.filters.start <= view.filters.end
    assert 1 <= view.filters.days <= urls.MAX_DAYS


def test_a_typed_range_survives_the_picker_committing_only_on_enter() -> None:
    from dashboards.urls import typed_range

    old = date(2026, 11, 7)
    # Typed 09-01, clicked into the end, typed 09-30 + Enter: the picker reports the end
    # against the old start, swapped.
    assert typed_range(old, "2026-09-30", "2026-11-07", "2026-09-01") == (
        "2026-09-01",
        "2026-09-30",
    )
    # The same after the old start: no swap, the start still the old one.
    assert typed_range(old, "2026-11-07", "2026-11-20", "2026-11-10") == (
        "2026-11-10",
        "2026-11-20",
    )
    # Nothing was lost: nothing typed, the start committed with Enter, or the old start
    # left as it was (focus moved on to the calendar).
    for typed in (None, "", "2026-9-1", "2026-09-01"):
        assert typed_range(old, "2026-09-01", "2026-12-06", typed) == ("2026-09-01", "2026-12-06")
    assert typed_range(old, "2026-10-01", "2026-10-31", "2026-11-07") == (
        "2026-10-01",
        "2026-10-31",
    )
    # A typed start after the typed end is the range still, in order.
    assert typed_range(old, "2026-11-07", "2026-12-01", "2026-12-05") == (
        "2026-12-01",
        "2026-12-05",
    )
