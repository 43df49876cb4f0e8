"""Saved dashboard views: a staff user's named filters for one page, shared or private,
and the daily or weekly report that `jobs run-due` writes from a view to the outbox."""

from storefront_api.saved_views.services import (
    CADENCES,
    FILE_FORMATS,
    DueReport,
    SavedViewRecord,
    ViewDraft,
    delete_view,
    due_reports,
    mark_sent,
    save_view,
    visible_views,
)

__all__ = [
    "CADENCES",
    "FILE_FORMATS",
    "DueReport",
    "SavedViewRecord",
    "ViewDraft",
    "delete_view",
    "due_reports",
    "mark_sent",
    "save_view",
    "visible_views",
]
