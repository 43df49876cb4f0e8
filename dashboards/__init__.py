"""The Dash app for marketers and finance, mounted in the API server under /dashboards/."""

from dashboards.app import mount, report_page
from dashboards.reports import ReportRequest, WrittenReport
from dashboards.saved_views import SavedView, SavedViews, ViewForm

__all__ = [
    "ReportRequest",
    "SavedView",
    "SavedViews",
    "ViewForm",
    "WrittenReport",
    "mount",
    "report_page",
]
