"""Crash-safety acceptance: 10 queued generations; the standalone worker (`python -m sorastudio.engine`)
is SIGKILLed at random (seeded) moments several times and restarted; all 10 complete, the emulator
counted exactly 10 creates, every MP4 decodes, and the ledger equals the sum of actual costs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from sorastudio import ledger
from sorastudio.domain import Status
from sorastudio.emulator.config import Faults
from sorastudio.store.db import Store
from sorastudio.store.models import Generation, LedgerEntry, LedgerState
from sorastudio.sync import Studio
from tests.engine.conftest import SCALE, EmulatorRun, add_sora1_profile

JOBS = 10
KILLS = 4
SEED = 20251125


def _start_worker(log: Path) -> subprocess.Popen[bytes]:
    args = ["--time-scale", str(SCALE), "--idle", "0.05", "--lease", "5", "--resend-after", "1"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sorastudio.engine", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ,
        )


def _statuses(store: Store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(Generation.status)))


# Second run: creates are slow (a kill often lands while one is in flight: the emulator still creates
# the job after the client died) and some answers are dropped after the job was created.
LOST_CREATES = Faults(seed=7, slow=0.5, slow_seconds=0.3, drop_connection=0.25, methods=["POST"])


@pytest.mark.parametrize("faults", [None, LOST_CREATES], ids=["clean", "lost-creates"])
def test_sigkilled_worker_loses_nothing_and_pays_once(
    start_emulator: Callable[..., EmulatorRun], tmp_path: Path, faults: Faults | None
) -> None:
    run = start_emulator()
    if faults is not None:
        run.app.state.faults.replace(faults)
    studio = Studio(emulator_url=run.url)
    try:
        add_sora1_profile(studio.store, run.url)
        ids = [
            studio.generate(f"crash test {n}", size="480x480", seconds=1, profile="sora1").id
            for n in range(JOBS)
        ]
        rng = random.Random(SEED)
        log = tmp_path / "worker.log"
        unfinished_at_kill = []
        for _ in range(KILLS):
            worker = _start_worker(log)
            time.sleep(rng.uniform(0.7, 1.6))  # Python start-up takes ~0.5 s of that
            unfinished_at_kill.append(sum(not Status(s).terminal for s in _statuses(studio.store)))
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
        # The kills hit a busy engine (else this test would prove nothing).
        assert sum(1 for n in unfinished_at_kill if n > 0) >= 3, unfinished_at_kill
        starts = log.read_text().count(" started on ")  # a kill may have come before a start-up finished
        worker = _start_worker(log)
        started = time.monotonic()
        while log.read_text().count(" started on ") <= starts:  # now its SIGTERM handler is installed
            assert time.monotonic() - started < 30, log.read_text()[-3000:]
            time.sleep(0.05)
        try:
            deadline = time.monotonic() + 90
            while not all(Status(s).terminal for s in _statuses(studio.store)):
                assert time.monotonic() < deadline, f"not finished: {_statuses(studio.store)}"
                assert worker.poll() is None, log.read_text()[-3000:]
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(20) == 0, log.read_text()[-3000:]

        results = [studio.get(gid) for gid in ids]
        assert [r.status for r in results] == [Status.COMPLETED] * JOBS, [r.error for r in results]
        assert run.create_count == JOBS  # not one paid twice
        if faults is not None:
            assert run.app.state.emulator.fault_counts["drop_connection"] > 0
        assert len({r.remote_id for r in results}) == JOBS
        for result in results:
            (path,) = result.paths
            with av.open(str(path)) as container:
                frame = next(container.decode(video=0))
                assert (frame.width, frame.height) == (480, 480)
        actual = sum((r.actual_cost or Decimal(0) for r in results), Decimal(0))
        assert actual == sum((r.estimated_cost or Decimal(0) for r in results), Decimal(0)) > 0
        with studio.store.session() as session:
            (total,) = ledger.totals(session)
            assert (total.actual, total.reserved, total.count) == (actual, Decimal(0), JOBS)
            states = set(session.scalars(select(LedgerEntry.state)))
            assert states == {LedgerState.SETTLED.value}
            assert session.scalar(select(Generation.id).where(Generation.claimed_by.is_not(None))) is None
    finally:
        studio.close()
