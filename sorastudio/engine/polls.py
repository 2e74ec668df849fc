"""Observing remote jobs for the worker, frugally: the predictor says when, the budget says how many.

`Poller` keeps a `JobTrack` per generation in flight (what was seen and when), turns it into the next
poll time, and reads the provider within the resource's `RequestBudget`:

* one job due on a resource → one status read (`GET …/{id}`, which also carries the server's hint);
* several due, or several in flight (`list_from`) → one list read (`GET …/videos?limit=…`, counted as one
  request per page) observes every recent job at once. Due jobs the page missed fall back to status
  reads; the other jobs' observations are returned to the worker, which re-plans them (and hands a
  finished one its observation, so detecting it costs no request of its own).

Times are the engine clock's seconds (`Clock.time()`); an observation is stamped mid-request, the best
guess of when the server looked. `lag` learns how late our polls leave compared to their plan (claiming
from the database, scheduling) and plans that much earlier, so the request arrives when intended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sorastudio.engine.budget import RequestBudget, pages_for
from sorastudio.engine.claims import Work
from sorastudio.engine.clock import Clock
from sorastudio.engine.predictor import DurationBook, DurationKey, JobTrack, PredictorPolicy, Prior
from sorastudio.providers.base import Provider, RemoteJob

log = logging.getLogger(__name__)
LIST_PAGE = 100  # what both providers ask for per list request


@dataclass
class _Joint:
    works: list[Work]
    answer: asyncio.Future[tuple[dict[str, RemoteJob], float]]


def _retrieve(future: asyncio.Future[tuple[dict[str, RemoteJob], float]]) -> None:
    """Mark a failed shared read's error as seen (its leader raised it already)."""
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True)
class Seen:
    job: RemoteJob
    at: float  # clock seconds, mid-request


Result = Seen | Exception


class Poller:
    """Per-generation tracks, the learned durations and the budgeted reads (see the module)."""

    def __init__(
        self,
        clock: Clock,
        budget: RequestBudget,
        policy: PredictorPolicy,
        book: DurationBook | None = None,
        *,
        list_from: int = 2,
        list_slack: int = 10,
        max_pages: int = 5,
        since_margin: float = 300.0,
    ) -> None:
        self.clock = clock
        self.budget = budget
        self.policy = policy
        self.book = book or DurationBook()
        self.list_from = list_from  # list when this many of our jobs are in flight on the resource
        self.list_slack = list_slack  # other clients' recent jobs a list page should have room for
        self.max_pages = max_pages
        self.since_margin = since_margin  # real seconds of clock skew between us and the server
        self.tracks: dict[str, JobTrack] = {}
        self._keys: dict[str, DurationKey] = {}
        self._where: dict[str, tuple[int, str]] = {}  # generation → (profile, remote id)
        self._by_remote: dict[tuple[int, str], str] = {}
        self._seen: dict[str, Seen] = {}  # finished jobs a list saw, for their own next step
        self._planned: dict[str, float] = {}
        self._joining: dict[int, _Joint] = {}  # list reads waiting for tokens, per profile
        self._pages: dict[int, int] = {}  # pages a list read needed to reach our oldest job
        self.lag = 0.0
        self.status_reads = 0
        self.list_reads = 0

    # -- tracks ----------------------------------------------------------------------------------------

    def prior(self, key: DurationKey) -> Prior:
        """History's expected duration for `key`, in clock seconds."""
        found = self.book.prior(key)
        scale = self.clock.time_scale
        return Prior(found.median * scale, found.spread * scale, found.samples)

    def track(
        self, work: Work, key: DurationKey, *, submitted: float, remote_id: str | None = None
    ) -> JobTrack:
        """The generation's track, created (with history's prior) if this is the first we see of it."""
        gid = work.generation_id
        track = self.tracks.get(gid)
        if track is None:
            track = self.tracks[gid] = JobTrack(submitted=submitted, prior=self.prior(key))
            self._keys[gid] = key
        rid = remote_id or work.remote_id
        if rid is not None and self._where.get(gid) != (work.profile_id, rid):
            self._where[gid] = (work.profile_id, rid)
            self._by_remote[(work.profile_id, rid)] = gid
        return track

    def known(self, gid: str) -> bool:
        return gid in self.tracks

    def in_flight(self, profile_id: int) -> int:
        return sum(1 for profile, _ in self._where.values() if profile == profile_id)

    def plan(self, gid: str, now: float, hint: float | None = None) -> float:
        """The clock time to claim the next poll at (already moved earlier by the learned lag)."""
        track = self.tracks[gid]
        at = track.plan(now, hint, self.policy)
        at = max(now, at - min(self.lag, 0.5 * (at - now)))
        self._planned[gid] = at
        return at

    def next_poll(self, gid: str, now: float, hint: float | None = None) -> datetime:
        return self.clock.now() + timedelta(seconds=self.plan(gid, now, hint) - now)

    def finish(self, gid: str, at: float) -> None:
        """The job was seen finished at `at`: learn its duration and forget it."""
        track, key = self.tracks.get(gid), self._keys.get(gid)
        if track is not None and key is not None:
            self.book.add(key, (track.end_seen(at) - track.submitted) / self.clock.time_scale)
        self.drop(gid)

    def drop(self, gid: str) -> None:
        self.tracks.pop(gid, None)
        self._keys.pop(gid, None)
        self._seen.pop(gid, None)
        self._planned.pop(gid, None)
        where = self._where.pop(gid, None)
        if where is not None:
            self._by_remote.pop(where, None)

    def keep_seen(self, gid: str, seen: Seen) -> None:
        self._seen[gid] = seen

    # -- reads -----------------------------------------------------------------------------------------

    async def observe(
        self, provider: Provider, profile_id: int, works: Sequence[Work]
    ) -> tuple[dict[str, Result], list[tuple[str, Seen]]]:
        """Observe the due `works` (all on one profile): {generation: Seen or the error} and the other
        generations a list read saw on the way."""
        results: dict[str, Result] = {}
        pending: list[Work] = []
        for work in works:
            seen = self._seen.pop(work.generation_id, None)
            if seen is not None:
                results[work.generation_id] = seen
            else:
                pending.append(work)
        self._learn_lag(pending)
        others: list[tuple[str, Seen]] = []
        wants_list = len(pending) >= 2 or (pending and self.in_flight(profile_id) >= self.list_from)
        if wants_list and provider.capabilities.can_list:
            try:
                listed, at = await self._list(provider, profile_id, pending)
            except Exception as exc:  # a list is an optimisation: status reads still work
                log.info("list read failed on profile %s (%s): reading each job instead", profile_id, exc)
                listed, at = {}, 0.0
            due = {work.generation_id for work in pending}
            for work in pending:
                job = listed.get(work.remote_id or "")
                if job is not None:
                    results[work.generation_id] = Seen(job, at)
            if listed and len(results) < len(works):  # newer finished jobs pushed ours off the pages
                self._pages[profile_id] = min(self.max_pages, self._pages.get(profile_id, 1) + 1)
            for remote_id, job in listed.items():
                gid = self._by_remote.get((profile_id, remote_id))
                if gid is not None and gid not in due:
                    others.append((gid, Seen(job, at)))
        missing = [work for work in pending if work.generation_id not in results]
        answers = await asyncio.gather(*(self._status(provider, profile_id, w) for w in missing))
        results.update(zip((w.generation_id for w in missing), answers, strict=True))
        return results, others

    async def _status(self, provider: Provider, profile_id: int, work: Work) -> Result:
        assert work.remote_id is not None
        try:
            await self.budget.acquire(profile_id)
            sent = self.clock.time()
            job = await provider.status(work.remote_id)
        except Exception as exc:
            return exc
        self.status_reads += 1
        return Seen(job, (sent + self.clock.time()) / 2)

    async def _list(
        self, provider: Provider, profile_id: int, due: Sequence[Work]
    ) -> tuple[dict[str, RemoteJob], float]:
        """One list read for the profile. Callers arriving while it still waits for its tokens join it
        (single flight): under a tight budget every job that came due meanwhile shares one read."""
        joint = self._joining.get(profile_id)
        if joint is not None:
            joint.works.extend(due)
            return await asyncio.shield(joint.answer)
        joint = self._joining[profile_id] = _Joint(list(due), asyncio.get_running_loop().create_future())
        joint.answer.add_done_callback(_retrieve)
        try:
            # Whole pages: a page costs one request however full it is, and finished jobs share them.
            pages = pages_for(self.in_flight(profile_id) + self.list_slack, LIST_PAGE)
            pages = min(self.max_pages, max(pages, self._pages.get(profile_id, 1)))
            await self.budget.acquire(profile_id, pages)
            del self._joining[profile_id]  # from now on, callers start the next read
            oldest = min(w.submitted_at or w.created_at for w in joint.works)
            sent = self.clock.time()
            jobs = await provider.list(
                since=oldest - timedelta(seconds=self.since_margin), limit=pages * LIST_PAGE
            )
            self.list_reads += 1
            joint.answer.set_result(({job.id: job for job in jobs}, (sent + self.clock.time()) / 2))
        except BaseException as exc:  # the joiners learn of it too (a cancelled read cancels theirs)
            if self._joining.get(profile_id) is joint:
                del self._joining[profile_id]
            if not joint.answer.done():
                if isinstance(exc, asyncio.CancelledError):
                    joint.answer.cancel()
                else:
                    joint.answer.set_exception(exc)
            raise
        return joint.answer.result()

    def _learn_lag(self, works: Sequence[Work]) -> None:
        """How late polls leave against their plan (a moving average, bounded)."""
        now = self.clock.time()
        for work in works:
            planned = self._planned.pop(work.generation_id, None)
            if planned is not None and 0 <= now - planned < 1.0:
                self.lag = 0.8 * self.lag + 0.2 * (now - planned)


__all__ = ["LIST_PAGE", "Poller", "Result", "Seen"]
