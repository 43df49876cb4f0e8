"""Text messages to members' phones: the port, and the sandbox sender that writes them to a file.

Codes that prove who someone is (one-time codes, a reissued pickup code) go to the
member's phone and never back to the caller that asked for them. A real deployment
plugs in its SMS gateway; the sandbox writes one JSON line per message to a file, where
tests and the demo read the codes a phone would have received.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Protocol

from common.clock import utcnow


class SmsSender(Protocol):
    def send(self, phone: str, text: str, *, code: str | None = None) -> None:
        """Deliver `text` to `phone`; `code` is the secret it carries, if any."""


class SandboxSmsSender:
    """Appends `{"phone", "text", "code", "sent_at"}` lines to `path` (created if missing)."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, phone: str, text: str, *, code: str | None = None) -> None:
        line = json.dumps(
            {"phone": phone, "text": text, "code": code, "sent_at": utcnow().isoformat()},
            ensure_ascii=False,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write per line in append mode, so lines from several worker processes
        # never interleave; the lock does the same for threads of one process.
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)


def last_code_sent(path: Path, phone: str) -> str | None:
    """The newest code the sandbox sent to `phone` (for tests and the demo)."""
    if not path.exists():
        return None
    found = None
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            message = json.loads(line)
            if message["phone"] == phone and message.get("code"):
                found = str(message["code"])
    return found
