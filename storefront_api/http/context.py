"""What the HTTP layer needs from the composition root, kept on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from common.settings import Settings
from common.sms import SmsSender
from storefront_api.auth import TokenIssuer

EXTENSION_KEY = "memberhub"


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    directory: Any
    tokens: TokenIssuer
    sms: SmsSender


def api_context() -> ApiContext:
    context: ApiContext = current_app.extensions[EXTENSION_KEY]
    return context
