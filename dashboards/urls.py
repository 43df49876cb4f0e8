"""The dashboard URL: filters and language in the query string, read leniently, written back.

A shared URL reproduces the view: `from`, `to` (YYYY-MM-DD), `inst`, `channel`,
`campaign` and `lang` are all the state a page has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from dashboards.i18n import Lang, parse_lang
from warehouse import queries

PREFIX = "/dashboards/"
# The shell's second dcc.Location: filters write the query string through it, which
# changes the address without waking Dash Pages' router (components.follow_url).
VIEW_URL = "view-url"
DEFAULT_DAYS = 30
# A longer period than this is cut at its start: every chart stays meaningful and fast.
MAX_DAYS = 3 * 366
CODE_MAX = 64


@dataclass(frozen=True)
class View:
    """What a page shows: its filters and its language."""

    filters: queries.Filters
    lang: Lang

    def query(self) -> dict[str, str]:
        """The query-string parameters of this view, in a stable order."""
        params = {
            "from": self.filters.start.isoformat(),
            "to": self.filters.end.isoformat(),
        }
        for key, value in (
            ("inst", self.filters.inst),
            ("channel", self.filters.channel),
            ("campaign", self.filters.campaign),
        ):
            if value:
                params[key] = value
        if self.lang == "en":
            params["lang"] = "en"
        return params

    def search(self) -> str:
        return "?" + urlencode(self.query())

    def with_lang(self, lang: Lang) -> View:
        return replace(self, lang=lang)

    def with_campaign(self, code: str | None) -> View:
        return replace(self, filters=replace(self.filters, campaign=code))


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _code(value: object) -> str | None:
    """A filter code as given, or None when empty, too long or not printable."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > CODE_MAX or not value.isprintable():
        return None
    return value


def read_view(
    query: Mapping[str, Any], last_day: date | None, default_days: int = DEFAULT_DAYS
) -> View:
    """The view a query string asks for, never failing on bad input.

    Missing or unreadable dates fall back to the `default_days` days ending on
    `last_day` (the last day with data, or today); reversed dates are swapped; a period
    longer than MAX_DAYS keeps its end. Unknown codes are passed on (they select nothing).
    """
    end_default = last_day or date.today()
    start, end = _day(query.get("from")), _day(query.get("to"))
    if end is None:
        end = end_default if start is None or start <= end_default else start
    if start is None:
        start = end - timedelta(days=default_days - 1)
    if start > end:
        start, end = end, start
    if (end - start).days + 1 > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    filters = queries.Filters(
        start=start,
        end=end,
        inst=_code(query.get("inst")),
        channel=_code(query.get("channel")),
        campaign=_code(query.get("campaign")),
    )
    return View(filters, parse_lang(query.get("lang")))


def parse_search(search: str | None) -> dict[str, str]:
    """`?a=1&b=2` → {"a": "1", "b": "2"} (the last value of a repeated key wins)."""
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def to_store(view: View) -> dict[str, str]:
    """The view as a dcc.Store holds it (JSON): its query parameters."""
    return view.query()


def from_store(data: Mapping[str, Any] | None, last_day: date | None = None) -> View:
    return read_view(data or {}, last_day)


def page_href(path: str, view: View) -> str:
    """A link to another page (or this one) keeping the filters and language."""
    return f"{PREFIX}{path.lstrip('/')}{view.search()}"


def preset(view: View, days: int) -> View:
    """The same view over the `days` days ending on its current last day."""
    filters = replace(
        view.filters, start=view.filters.end - timedelta(days=days - 1), end=view.filters.end
    )
    return replace(view, filters=filters)


def typed_range(
    committed_start: date, start: str | None, end: str | None, typed_start: str | None
) -> tuple[str | None, str | None]:
    """The range a person typed, from what the date picker reports.

    The picker commits a typed date on Enter only: a start typed and left by clicking
    into the end field stays uncommitted, and the end typed there is then set against
    the old start (swapped when earlier). The start field's last typed text
    (`typed_start`, kept by assets/dates.js) restores it: the range is that start and
    the reported date that is not the old, still committed start.
    """
    typed = _day(typed_start)
    first, second = _day(start), _day(end)
    if typed is None or first is None or second is None or typed in (committed_start, first):
        return start, end  # nothing typed, or the typed start was committed after all
    other = second if first == committed_start else first
    if other == committed_start and first != second:
        return start, end  # neither end moved: nothing typed was lost
    low, high = sorted((typed, other))
    return low.isoformat(), high.isoformat()


def apply_filters(
    view: View,
    *,
    preset_days: int | None,
    start: str | None,
    end: str | None,
    inst: str | None,
    channel: str | None,
    campaign: str | None,
) -> View:
    """The view after the filter bar changed: a preset (when given) sets the period to
    its number of days ending on the current last day, otherwise the picked dates do;
    dropdowns set or clear their codes; the language stays."""
    if preset_days:
        period = preset(view, int(preset_days)).filters
        start, end = period.start.isoformat(), period.end.isoformat()
    query = {
        "from": start or view.filters.start.isoformat(),
        "to": end or view.filters.end.isoformat(),
        "inst": inst,
        "channel": channel,
        "campaign": campaign,
        "lang": view.lang,
    }
    return read_view(query, view.filters.end)
