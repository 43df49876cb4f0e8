"""Runtime settings; the only module that reads os.environ."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from common.event_time import EventWindow

DEFAULT_VAR_DIR = Path("var")


def normalise_database_url(url: str) -> str:
    """Make plain `postgresql://` URLs use psycopg 3 without the user naming a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    warehouse_path: Path
    token_ttl_seconds: int = 3600 * 12
    pickup_days: int = 7
    max_body_bytes: int = 1024 * 1024
    # Channel events dated before the programme began or further ahead than a clock
    # can drift are refused: they would create lots that expire decades off.
    programme_start: date = date(2020, 1, 1)
    max_future_seconds: int = 300
    # Behind HTTPS: cookies are Secure and answers carry Strict-Transport-Security.
    https: bool = False
    # What one point costs the operator, for money figures of points (campaign ROI).
    fen_per_point: int = 1
    # What a delivered order adds for delivery (members of a free-delivery tier pay none).
    delivery_fee_fen: int = 1_000
    var_dir: Path = DEFAULT_VAR_DIR
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def event_window(self) -> EventWindow:
        return EventWindow(self.programme_start, timedelta(seconds=self.max_future_seconds))

    @property
    def sms_outbox(self) -> Path:
        """Where the sandbox SMS sender writes the messages it would have sent."""
        return self.var_dir / "sms-outbox.jsonl"

    @property
    def report_outbox(self) -> Path:
        """Where `jobs run-due` writes scheduled reports, one folder per day and view,
        for a mail relay to send."""
        return self.var_dir / "outbox" / "reports"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: str) -> Settings:
    var_dir = Path(os.environ.get("MEMBERHUB_VAR_DIR", str(DEFAULT_VAR_DIR)))
    url = (
        overrides.get("database_url")
        or os.environ.get("DATABASE_URL")
        or (f"sqlite:///{var_dir / 'memberhub.db'}")
    )
    secret = overrides.get("secret_key") or os.environ.get("MEMBERHUB_SECRET_KEY")
    if not secret:
        secret = _persistent_secret(var_dir)
    warehouse = overrides.get("warehouse_path") or os.environ.get(
        "MEMBERHUB_WAREHOUSE", str(var_dir / "warehouse.duckdb")
    )
    programme_start = os.environ.get("MEMBERHUB_PROGRAMME_START")
    try:
        start = date.fromisoformat(programme_start) if programme_start else Settings.programme_start
    except ValueError:
        raise SettingsError("MEMBERHUB_PROGRAMME_START must be a date (YYYY-MM-DD)") from None
    return Settings(
        database_url=normalise_database_url(url),
        secret_key=secret,
        warehouse_path=Path(warehouse),
        programme_start=start,
        max_future_seconds=_whole("MEMBERHUB_MAX_FUTURE_SECONDS", Settings.max_future_seconds),
        https=os.environ.get("MEMBERHUB_HTTPS", "") in ("1", "true", "yes"),
        fen_per_point=_whole("MEMBERHUB_FEN_PER_POINT", Settings.fen_per_point),
        delivery_fee_fen=_whole("MEMBERHUB_DELIVERY_FEE_FEN", Settings.delivery_fee_fen),
        var_dir=var_dir,
    )


class SettingsError(ValueError):
    """An environment variable holds a value the settings cannot take."""


def _whole(name: str, default: int) -> int:
    """A whole number of 0 or more from the environment, `default` when unset."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must be 0 or more, not {value}")
    return value


def _persistent_secret(var_dir: Path) -> str:
    # Tokens must survive restarts and be shared by every worker, so the
    # generated signing key is kept next to the database instead of in memory.
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
