"""The worker's poll steps (a mixin of `worker.Worker`, kept apart to keep each module readable).

Due polls of one profile run as one task (`_poll_group`): `polls.Poller` observes them together — one
status read, or one list read — within the profile's request budget; then each generation's poll step
records what was seen and stores its next poll time (`predictor.JobTrack.plan`) in `next_attempt_at`.
Jobs a list read saw on the way are re-planned in the database (`poll_queries.reschedule`): a finished
one at once, with its observation kept so that its own step needs no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sorastudio.domain import Status
from sorastudio.engine import manager, poll_queries
from sorastudio.engine.manager import Work
from sorastudio.engine.polls import Poller, Result, Seen
from sorastudio.engine.predictor import DurationKey

if TYPE_CHECKING:
    from sorastudio.engine.clock import Clock
    from sorastudio.engine.retry import Phase
    from sorastudio.providers.base import Provider, RemoteJob

log = logging.getLogger(__name__)
T = TypeVar("T")


class PollSteps:
    """Needs the worker's clock, claims and database helpers (declared here for the type checker)."""

    clock: Clock
    id: str
    poller: Poller
    _tasks: dict[str, asyncio.Task[None]]
    _endpoints: dict[int, str]
    _wake: asyncio.Event

    if TYPE_CHECKING:

        async def _provider(self, profile_id: int) -> Provider: ...
        async def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...
        async def _persist(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...
        async def _after_error(self, work: Work, exc: BaseException, phase: Phase) -> None: ...
        async def _step(self, work: Work, observed: Result | None = None) -> None: ...
        async def _download(self, work: Work, job: RemoteJob | None) -> None: ...

    def _key(self, work: Work) -> DurationKey:
        endpoint = self._endpoints.get(work.profile_id, "")
        return poll_queries.duration_key(
            endpoint, work.model, work.width, work.height, work.seconds, work.variants
        )

    async def _poll_group(self, profile_id: int, works: list[Work]) -> None:
        """Observe one profile's due polls together, then finish each poll step."""
        try:
            results, others = await self._observe(profile_id, works)
        except asyncio.CancelledError:  # shutdown before anything was learned: give the claims back
            for work in works:
                self._tasks.pop(work.generation_id, None)
                with contextlib.suppress(Exception):
                    await self._persist(manager.release, work.generation_id, self.id)
            raise
        await asyncio.gather(*(self._step(work, results[work.generation_id]) for work in works))
        if others:
            try:
                await self._replan(others)
            except Exception:  # only an optimisation: each job keeps its own schedule
                log.exception("re-planning jobs seen by a list read failed")

    async def _observe(
        self, profile_id: int, works: list[Work]
    ) -> tuple[dict[str, Result], list[tuple[str, Seen]]]:
        try:
            provider = await self._provider(profile_id)
            for work in works:
                if not self.poller.known(work.generation_id):
                    await self._restore(work)
            return await self.poller.observe(provider, profile_id, works)
        except Exception as exc:  # e.g. the profile is gone: each step handles the error
            return {work.generation_id: exc for work in works}, []

    async def _restore(self, work: Work) -> None:
        """A job this worker has not polled before (a restart, another worker): its recorded progress."""
        started = (work.submitted_at or work.created_at).timestamp()
        track = self.poller.track(work, self._key(work), submitted=started)
        for at, progress in await self._read(poll_queries.past_observations, work.generation_id):
            track.observe(at.timestamp(), progress)

    async def _replan(self, others: list[tuple[str, Seen]]) -> None:
        """Jobs a list read saw while observing others: plan their next poll from it (now, if done)."""
        now, seconds = self.clock.now(), self.clock.time()
        moves: list[tuple[str, str, datetime]] = []
        for gid, seen in others:
            if gid in self._tasks or not self.poller.known(gid):
                continue  # busy in a step of ours, or not ours
            if seen.job.status.terminal:
                self.poller.keep_seen(gid, seen)
                moves.append((gid, seen.job.id, now))
            else:
                self.poller.tracks[gid].observe(seen.at, seen.job.progress)
                moves.append((gid, seen.job.id, self.poller.next_poll(gid, seconds)))
        if moves and await self._persist(poll_queries.reschedule, moves, now=now):
            self._wake.set()

    async def _poll(self, work: Work, observed: Result | None) -> None:
        assert work.remote_id is not None
        gid = work.generation_id
        if observed is None:  # not observed with its group (not expected): read it now
            results, _ = await self._observe(work.profile_id, [work])
            observed = results[gid]
        if isinstance(observed, Exception):
            await self._after_error(work, observed, "poll")
            return
        job, now = observed.job, self.clock.now()
        if job.status is Status.COMPLETED:
            self.poller.finish(gid, observed.at)
        elif job.status.terminal:
            self.poller.drop(gid)
        if job.status is Status.COMPLETED:
            await self._persist(manager.start_download, gid, self.id, job, now=now)
            self._wake.set()  # the provider slot is free now: the next job need not wait for our download
            await self._download(work, job)
        elif job.status is Status.FAILED:
            reason = job.failure_message or job.failure_reason or "the provider gave no reason"
            await self._persist(manager.fail, gid, self.id, reason, now=now)
        elif job.status is Status.CANCELLED:
            await self._persist(
                manager.fail, gid, self.id, "cancelled at the provider", now=now, status=Status.CANCELLED
            )
        elif job.status is Status.EXPIRED:
            reason = f"the provider's copy expired at {job.expires_at or 'an unknown time'} before download"
            await self._persist(manager.expire, gid, self.id, reason, now=now)
        else:
            started = (work.submitted_at or work.created_at).timestamp()
            track = self.poller.track(work, self._key(work), submitted=started)
            track.observe(observed.at, job.progress)
            next_poll = self.poller.next_poll(gid, self.clock.time(), job.poll_hint)
            await self._persist(manager.record_status, gid, self.id, job, now=now, next_poll=next_poll)


__all__ = ["PollSteps"]
