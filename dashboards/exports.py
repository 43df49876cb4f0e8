"""What each page can put in a scheduled report: its table and grid cards and its chart
callbacks, recorded when the page registers them (see dashboards.reports)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboards.auth import Viewer
from dashboards.urls import View

if TYPE_CHECKING:
    from dashboards.components import Column


@dataclass(frozen=True)
class TableExport:
    """A table or grid card (`element` is its component id) and how to get its rows."""

    element: str
    name: str
    stored_view: Callable[[Mapping[str, Any] | None], View]
    rows: Callable[[View, Viewer], tuple[Sequence[Column], pd.DataFrame]]


@dataclass(frozen=True)
class ChartExport:
    """A callback drawing charts: `elements` are their ids, in the callback's order."""

    elements: tuple[str, ...]
    draw: Callable[[Mapping[str, Any]], Any]


@dataclass
class Exports:
    """What each page (by its id prefix) can put in a report, by element id."""

    tables: dict[str, dict[str, TableExport]] = field(default_factory=dict)
    charts: dict[str, dict[tuple[str, ...], ChartExport]] = field(default_factory=dict)

    def add_table(self, prefix: str, export: TableExport) -> None:
        self.tables.setdefault(prefix, {})[export.element] = export

    def add_chart(self, prefix: str, export: ChartExport) -> None:
        self.charts.setdefault(prefix, {})[export.elements] = export
