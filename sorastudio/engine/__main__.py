"""`python -m sorastudio.engine` — the standalone worker (`sorastudio worker` calls `main`).

Runs until SIGINT/SIGTERM; then in-flight steps get a grace period and every result already received
is written before exit. Killing it harder (SIGKILL) loses nothing either: the next worker resumes
from the database (see `engine/worker.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence

from sorastudio.engine.clock import SystemClock
from sorastudio.engine.worker import Worker, WorkerSettings
from sorastudio.store.db import open_store


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sorastudio worker", description="Run the generation engine.")
    parser.add_argument("--database-url", help="default: SORASTUDIO_DATABASE_URL or SQLite in the home")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="provider time scale (a time-scaled emulator; default SORASTUDIO_TIME_SCALE or 1)",
    )
    parser.add_argument("--idle", type=float, default=1.0, help="seconds between looks when idle")
    parser.add_argument("--lease", type=float, default=30.0, help="seconds a claim lasts unrenewed")
    parser.add_argument("--concurrency", type=int, default=64, help="steps in flight at most")
    parser.add_argument(
        "--resend-after",
        type=float,
        default=90.0,
        help="seconds after a create whose answer was lost before it may be sent again (if not found)",
    )
    parser.add_argument(
        "--requests-per-minute",
        type=int,
        default=None,
        help="request budget per profile (default: each profile's own setting, 60 unless changed)",
    )
    parser.add_argument(
        "--request-share",
        type=float,
        default=1.0,
        help="share of each budget this worker may use: 0.5 each when two workers serve one resource",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    store = open_store(args.database_url)
    if not 0 < args.request_share <= 1:
        raise SystemExit(f"--request-share={args.request_share} is not allowed: a share above 0, at most 1")
    settings = WorkerSettings(
        idle=args.idle,
        lease=args.lease,
        concurrency=args.concurrency,
        resend_after=args.resend_after,
        requests_per_minute=args.requests_per_minute,
        request_share=args.request_share,
    )
    worker = Worker(store, clock=SystemClock(args.time_scale), settings=settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger(__name__).info("worker %s started on %s", worker.id, store.url)
    try:
        await worker.run(stop)
    finally:
        store.close()
        logging.getLogger(__name__).info("worker %s stopped", worker.id)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
