"""What pages and callbacks work with: the warehouse reader, the sessions (who is asking),
the clock; and the one mounted dashboard of this process.

Dash Pages keeps its page registry per process, so a process serves one dashboard app:
`mount` installs its context here and page layouts (which Dash calls without arguments
but the URL's) read it back. Callbacks get their context passed in when registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from dashboards import components
from dashboards.auth import Sessions, Viewer
from dashboards.exports import Exports
from dashboards.i18n import Lang
from dashboards.urls import DEFAULT_DAYS, View, from_store, read_view
from warehouse import CampaignHeadline, WarehouseNotReady, campaign_headline, queries


@dataclass(frozen=True)
class Context:
    reader: queries.Reader
    sessions: Sessions
    today: Callable[[], date]
    fen_per_point: int = 1  # what a point costs: campaign points cost and liability in 元
    # The pages' tables and charts, recorded as they register, for scheduled reports.
    exports: Exports = field(default_factory=Exports)
    # What every page render needs and only a sync changes, by warehouse version.
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def _cached(self, key: str, load: Callable[[], Any]) -> Any:
        version = getattr(self.reader, "version", None)
        if not isinstance(version, str):
            return load()
        slot = (version, key)
        if slot not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[slot] = load()
        return self._cache[slot]

    def ready(self) -> bool:
        """Whether a sync has published a warehouse yet."""
        try:
            self.last_day()
        except WarehouseNotReady:
            return False
        return True

    def last_day(self) -> date | None:
        """The last business day with a purchase: the default end of every period."""

        def load() -> date | None:
            frame = queries.activity_range(self.reader)
            if frame.empty or pd.isna(frame["last_day"].iloc[0]):
                return None
            day: date = pd.Timestamp(frame["last_day"].iloc[0]).date()
            return day

        result: date | None = self._cached("last_day", load)
        return result

    def data_as_of(self) -> datetime | None:
        """When the last sync published the warehouse the pages read."""
        result: datetime | None = self._cached(
            "data_as_of", lambda: queries.data_as_of(self.reader)
        )
        return result

    def last_complete_day(self) -> date | None:
        """The default end of every period: the last day with data, but never today,
        whose partial figures would drag every comparison and trend line down."""
        last = self.last_day()
        return None if last is None else min(last, self.today() - timedelta(days=1))

    def view(self, query: Mapping[str, Any], default_days: int = DEFAULT_DAYS) -> View:
        """The view a page's URL asks for; without dates, the `default_days` days up to
        the last complete day with data."""
        try:
            last = self.last_complete_day()
        except WarehouseNotReady:
            last = None
        return read_view(query, last or self.today() - timedelta(days=1), default_days)

    def stored_view(self, data: Mapping[str, Any] | None) -> View:
        """The view a page's `<page>-query` store holds (its dates are always set)."""
        return from_store(data, self.today())

    def choices(self, lang: Lang) -> components.Choices:
        def load() -> components.Choices:
            tree = queries.institutions(self.reader)
            return components.Choices(
                institutions=components.institution_choices(tree, lang),
                channels=components.named_choices(queries.channels(self.reader), lang),
                campaigns=components.named_choices(queries.campaigns(self.reader), lang),
                institution_parents={
                    str(code): None if pd.isna(parent) else str(parent)
                    for code, parent in zip(tree["code"], tree["parent_code"], strict=True)
                },
                institution_names=dict(components.named_choices(tree, lang)),
            )

        result: components.Choices = self._cached(f"choices:{lang}", load)
        return result

    def campaign_headline(self, code: str) -> CampaignHeadline | None:
        """A campaign's incremental effect as of today, by the API's rules (None for an
        unknown campaign); computed once per warehouse version and day."""
        today = self.today()

        def load() -> CampaignHeadline | None:
            return campaign_headline(self.reader, code, today, self.fen_per_point)

        result: CampaignHeadline | None = self._cached(f"headline:{code}:{today}", load)
        return result

    def viewer(self) -> Viewer | None:
        """Who runs the current callback: the live session of the request's cookie (the
        gate already looked it up, so this costs nothing more)."""
        return self.sessions.current()


_mounted: list[Context] = []


def install(context: Context) -> None:
    _mounted[:] = [context]


def current() -> Context:
    if not _mounted:
        raise RuntimeError("the dashboards are not mounted (call dashboards.mount first)")
    return _mounted[0]
