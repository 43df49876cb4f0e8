"""PostgreSQL stopped and started under load: 503s meanwhile, then recovery without a restart.

Disruptive: it stops the PostgreSQL every other test uses, so `bin/test` runs it alone
after the parallel runs. MEMBERHUB_PG_CTL names the command that takes `start` or `stop`
for the server behind MEMBERHUB_TEST_DB (default: the machine's one cluster through
`pg_ctlcluster`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from memberhub.runtime import Runtime
from tests.e2e import test_concurrency_pg
from tests.e2e.load import (
    copies,
    half_written,
    loaded_server,
    replay,
    tally,
    wait_for,
)


def postgres_control() -> list[str]:
    configured = os.environ.get("MEMBERHUB_PG_CTL")
    if configured:
        return shlex.split(configured)
    clusters = sorted(Path("/etc/postgresql").glob("*/main"))
    if not clusters or shutil.which("pg_ctlcluster") is None:
        return []
    return ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1].parent.name, "main"]


CONTROL = postgres_control()

pytestmark = [
    *test_concurrency_pg.pytestmark,
    pytest.mark.disruptive,
    pytest.mark.skipif(not CONTROL, reason="no way to stop PostgreSQL: set MEMBERHUB_PG_CTL"),
]

TIMEOUT = 30.0
# Long enough for every client to be refused a few times; short enough for the
# other work sharing this PostgreSQL.
DOWN_SECONDS = 3.0
RECOVERY_LIMIT_SECONDS = 15.0
WRITES_AROUND_THE_OUTAGE = 40


def accepts_connections() -> bool:
    try:
        url = os.environ["MEMBERHUB_TEST_DB"].replace("postgresql+psycopg://", "postgresql://")
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


@contextmanager
def postgres_stopped() -> Iterator[None]:
    """PostgreSQL stopped (fast shutdown: sessions are cut off) until the block ends;
    started again and accepting connections afterwards, whatever happened inside."""
    try:
        subprocess.run([*CONTROL, "stop"], check=True, capture_output=True, timeout=60)
        yield
    finally:
        subprocess.run([*CONTROL, "start"], capture_output=True, timeout=60)
        wait_for(accepts_connections, 60, "PostgreSQL accepting connections again")


def test_requests_answer_503_while_postgres_is_down_and_succeed_again_after(
    db: Runtime, tmp_path: Path, record_property: Any
) -> None:
    var_dir = tmp_path / "var"
    with loaded_server(db, var_dir, 2, 4, timeout=TIMEOUT, pause=0.2) as (server, shop, load):
        wait_for(lambda: load.acknowledged() >= WRITES_AROUND_THE_OUTAGE, 60, "writes before")
        with postgres_stopped():
            stopped_at = time.monotonic()
            wait_for(
                lambda: any(w.status == 503 for w in load.writes() if w.sent_at > stopped_at),
                20,
                "a 503 while PostgreSQL is down",
            )
            time.sleep(DOWN_SECONDS)
        up_at = time.monotonic()
        wait_for(lambda: load.acknowledged(since=up_at) > 0, RECOVERY_LIMIT_SECONDS, "recovery")
        recovered_at = min(
            w.answered_at for w in load.writes() if w.acknowledged and w.sent_at >= up_at
        )
        wait_for(
            lambda: load.acknowledged(since=recovered_at) >= WRITES_AROUND_THE_OUTAGE,
            60,
            "writes after the recovery",
        )
        writes = load.stop()

        unavailable = [w for w in writes if w.status == 503]
        found = copies(db.engine, writes)
        landed = [w for w in unavailable if found[w.external_id]]
        broken = half_written(db, shop)
        replays = replay(server.base_url, unavailable, TIMEOUT)
        after = copies(db.engine, writes)
        statuses = Counter(w.status for w in writes)
        replayed = Counter(r.status for r in replays)
        record_property(
            "figures",
            f"PostgreSQL stop/start under load: {len(writes)} writes ({tally(writes)}); "
            f"down {up_at - stopped_at:.1f} s; answers {dict(sorted(statuses.items()))}; "
            f"slowest 503 {max(w.answered_at - w.sent_at for w in unavailable):.2f} s; "
            f"first write acknowledged {recovered_at - up_at:.2f} s after PostgreSQL "
            f"accepted connections again; {len(landed)} answered 503 had landed; "
            f"replays answered 201 x{replayed[201]}, 200 x{replayed[200]}",
        )

        assert set(statuses) <= {201, 503}, [(w.kind, w.status, w.answer) for w in writes]
        assert unavailable, "no request saw the outage"
        for write in unavailable:
            assert write.content_type == "application/problem+json", write.answer
            assert write.answer["type"].endswith("/service-unavailable"), write.answer
            assert write.retry_after is not None and write.retry_after.isdigit(), write
        assert recovered_at - up_at <= RECOVERY_LIMIT_SECONDS
        # No connection broken by the restart is lent out again: once one request got
        # through, every later one does.
        late = [(w.kind, w.status, w.answer) for w in writes if w.sent_at >= recovered_at]
        assert all(status == 201 for _, status, _ in late), late
        assert [w.external_id for w in writes if w.acknowledged and found[w.external_id] != 1] == []
        assert not broken, broken
        expected = [200 if found[w.external_id] else 201 for w in unavailable]
        assert [r.status for r in replays] == expected, [(r.status, r.answer) for r in replays]
        assert [w.external_id for w in writes if after[w.external_id] != 1] == []
        assert not half_written(db, shop)
