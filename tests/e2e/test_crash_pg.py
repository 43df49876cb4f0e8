"""kill -9 of a gunicorn worker, then of the whole server, under parallel writes on PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from memberhub.runtime import Runtime
from tests.e2e.load import (
    children,
    copies,
    half_written,
    kill_a_worker,
    kill_server,
    loaded_server,
    replay,
    serve,
    tally,
    wait_for,
)
from tests.e2e.test_concurrency_pg import pytestmark  # noqa: F401  (skip unless PostgreSQL)

TIMEOUT = 30.0
# Acknowledged writes to see before each kill, so that each one lands mid-load.
WRITES_BETWEEN_KILLS = 40
WORKER_KILLS = 3


def test_kill_9_loses_no_acknowledged_write_and_leaves_none_half_done(
    db: Runtime, tmp_path: Path, record_property: Any
) -> None:
    with loaded_server(db, tmp_path / "var", workers=3, threads=2) as (server, shop, load):
        wait_for(lambda: load.acknowledged() >= WRITES_BETWEEN_KILLS, 60, "writes before kill")
        workers = len(children(server.process.pid))
        for _ in range(WORKER_KILLS):
            victim = kill_a_worker(server)
            killed_at = time.monotonic()
            # The master forks a new worker; the other workers answer meanwhile.
            wait_for(
                lambda victim=victim: len(children(server.process.pid) - {victim}) == workers,
                60,
                "a respawned worker",
            )
            wait_for(
                lambda killed_at=killed_at: (
                    load.acknowledged(since=killed_at) >= WRITES_BETWEEN_KILLS
                ),
                60,
                "writes after a worker was killed",
            )
        kill_server(server)
        server_killed_at = time.monotonic()
        time.sleep(0.5)  # the clients keep sending to a dead port
        writes = load.stop()

    started = time.monotonic()
    server = serve(db, tmp_path / "var", workers=3, threads=2)
    restart_seconds = time.monotonic() - started
    try:
        acknowledged = [w for w in writes if w.acknowledged]
        unanswered = [w for w in writes if not w.acknowledged]
        found = copies(db.engine, writes)
        landed = [w for w in unanswered if found[w.external_id]]
        # A write not answered was cut off by the kill it was sent before, or refused.
        cut_by_workers = sum(w.sent_at < killed_at for w in unanswered)
        cut_by_server = sum(killed_at <= w.sent_at < server_killed_at for w in unanswered)
        broken = half_written(db, shop)
        replays = replay(server.base_url, unanswered, TIMEOUT)
        after = copies(db.engine, writes)
        replayed = Counter(r.status for r in replays)
        figures = (
            f"kill -9: {len(writes)} writes ({tally(writes)}); "
            f"{len(acknowledged)} acknowledged, "
            f"{sum(found[w.external_id] == 1 for w in acknowledged)} of them found once; "
            f"{len(unanswered)} unacknowledged ({cut_by_workers} cut off by {WORKER_KILLS} "
            f"workers' kills, {cut_by_server} by the server's, the rest refused), "
            f"{len(landed)} of them landed; "
            f"replays answered 201 x{replayed[201]}, 200 x{replayed[200]}; "
            f"server back in {restart_seconds:.1f} s"
        )
        record_property("figures", figures)

        # Every write is valid: an answer other than 2xx can only be the server failing.
        answered = [(w.kind, w.status, w.answer) for w in unanswered if w.status]
        assert all(status >= 500 for _, status, _ in answered), answered
        assert [w.external_id for w in acknowledged if found[w.external_id] != 1] == []
        assert unanswered, "no write went unanswered: the kills came between requests"
        assert not broken, broken
        # A replay lands what never did (201) and returns the first answer of what did.
        expected = [200 if found[w.external_id] else 201 for w in unanswered]
        assert [r.status for r in replays] == expected, [
            (r.kind, r.status, r.answer) for r in replays
        ]
        assert [w.external_id for w in writes if after[w.external_id] != 1] == []
        assert not half_written(db, shop)
    finally:
        server.stop()
