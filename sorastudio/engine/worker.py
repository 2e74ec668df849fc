"""The engine loop: claim due steps from the database, run them against the providers, record results.

No SQL here (it is all in `manager.py` and `poll_queries.py`); every write goes through `_persist`, which
runs the query function in a thread (SQLAlchemy is synchronous) under `asyncio.shield`, so a shutdown or
a cancelled task never loses a result the provider already gave us ("shutdown never leaves a paid job
running").

One step per claim:
* submit    — the claim already set `submitted_at` and committed; send the create once; store the
              remote id at once. A 429 gives the slot back and waits for `Retry-After`; a lost answer
              (`SubmitOutcomeUnknown`) or a crash in between becomes a reconcile step.
* reconcile — list the provider's jobs since `submitted_at` (minus a margin) and adopt the one matching
              prompt/size/seconds that no other generation owns; only after `reconcile_tries` empty
              lists, and `resend_after` seconds after the lost send, is the job sent again.
* poll      — due polls of one profile are observed together by `polls.Poller`: one status read, or one
              list read when several jobs run there, always within the profile's request budget
              (`budget.RequestBudget`, `requests_per_minute`). The next read is planned by
              `predictor.JobTrack` (progress rate, learned durations, server hints, fallback ladder) and
              stored in `next_attempt_at`, so a restarted worker resumes the same schedule; jobs a list
              read saw on the way are re-planned (and a finished one is picked up at once).
* download  — into `<home>/media/<generation id>/`; Asset rows, completed and settled in one transaction.
              Retried until the video's `expires_at`; only then (or on a 404 saying so) `expired`.
Resume needs nothing special: every state lives in the database, and a new worker simply claims what
is due (claims of a dead worker on this machine are released at start; others end with their lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread
import httpx
from sqlalchemy.orm import Session

from sorastudio import media
from sorastudio.domain import Mode, Status, VideoRequest
from sorastudio.engine import manager, poll_queries
from sorastudio.engine.budget import RequestBudget
from sorastudio.engine.claims import claim_owner_is_dead, worker_identity
from sorastudio.engine.clock import Clock, SystemClock
from sorastudio.engine.manager import LostClaim, Work, WorkKind
from sorastudio.engine.poll_steps import PollSteps
from sorastudio.engine.polls import Poller, Result
from sorastudio.engine.predictor import DEFAULT_PREDICTOR_POLICY, PredictorPolicy
from sorastudio.engine.providers import build_provider
from sorastudio.engine.retry import DEFAULT_RETRY_POLICY, Action, Phase, RetryPolicy, decide
from sorastudio.engine.transitions import InvalidTransition
from sorastudio.errors import SubmitOutcomeUnknown, ValidationError
from sorastudio.providers.base import Provider, RawImage, RemoteJob, find_submitted, sniff_image
from sorastudio.store.db import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

# Provider seconds: the creates-per-minute window, plus a margin for our claim-to-arrival delay
# (the provider measures its minute from when requests arrive, we from when we claim).
CREATE_WINDOW = 62.0
REQUEST_WINDOW = 60.0  # provider seconds of a request budget ("requests per minute")


@dataclass(frozen=True)
class WorkerSettings:
    lease: float = 30.0  # real seconds a claim lasts without renewal
    idle: float = 1.0  # real seconds between looks at the database when nothing is due
    concurrency: int = 64  # steps in flight
    grace: float = 5.0  # on stop: real seconds in-flight steps may take to finish
    reconcile_tries: int = 3  # empty job lists before a lost create is sent again…
    resend_after: float = 90.0  # …and real seconds since it was sent (a request in flight may land late)
    reconcile_margin: float = 300.0  # real seconds either side of our send time (clock skew)
    predictor: PredictorPolicy = DEFAULT_PREDICTOR_POLICY  # provider seconds (scaled by the clock)
    requests_per_minute: int | None = None  # per profile; None: the profile's own setting (0 = unlimited)
    request_share: float = 1.0  # of each budget this worker may use (0.5 each for two workers, …)
    list_from: int = 2  # observe a profile's jobs with one list read when this many are in flight
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY  # provider seconds (scaled by the clock)
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)


class Worker(PollSteps):
    """Runs every due step of every generation in the database until `stop` is set."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        settings: WorkerSettings | None = None,
        provider_factory: Callable[[Session, int], Provider] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.settings = settings or WorkerSettings()
        self.id = worker_id or worker_identity()
        scale = self.clock.time_scale
        self.retry_policy = self.settings.retry_policy.scaled(scale)
        self.window = CREATE_WINDOW * scale
        self.budget = RequestBudget(
            time=self.clock.time, sleep=self.clock.sleep, window=REQUEST_WINDOW * scale
        )
        self.poller = Poller(
            self.clock,
            self.budget,
            self.settings.predictor.scaled(scale),
            list_from=self.settings.list_from,
            since_margin=self.settings.reconcile_margin,
        )
        self._factory = provider_factory or self._build_provider
        self._providers: dict[int, Provider] = {}
        self._endpoints: dict[int, str] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._db_limiter = anyio.CapacityLimiter(1)
        self.steps = 0  # steps finished, for tests and progress displays
        self.changed = asyncio.Event()  # set after every step (waiters clear it)

    def wake(self) -> None:
        """Look for work now (e.g. a generation was just enqueued in this process)."""
        self._wake.set()

    # -- database access (threads; SQLAlchemy is synchronous) ------------------------------------------

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            with self.store.write() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(run, limiter=self._db_limiter)

    async def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A read-only query: a plain transaction, so readers never queue behind SQLite's write lock."""

        def run() -> T:
            with self.store.session() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(run, limiter=self._db_limiter)

    async def _persist(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A write that must land even if this task is being cancelled (shutdown)."""
        return await asyncio.shield(self._db(fn, *args, **kwargs))

    def _build_provider(self, session: Session, profile_id: int) -> Provider:
        profile = manager.profile_row(session, profile_id)
        return build_provider(
            session,
            profile,
            sleep=self.clock.sleep,
            wall_clock=self.clock.time,
            transport=self.settings.transport,
        )

    async def _provider(self, profile_id: int) -> Provider:
        provider = self._providers.get(profile_id)
        if provider is None:
            endpoint, per_minute = await self._read(poll_queries.profile_budget, profile_id)
            if self.settings.requests_per_minute is not None:
                per_minute = self.settings.requests_per_minute
            share = int(per_minute * self.settings.request_share)
            self.budget.set_limit(profile_id, max(1, share) if per_minute else 0)
            self._endpoints[profile_id] = endpoint
            provider = await self._read(self._factory, profile_id)
            self._providers[profile_id] = provider
        return provider

    # -- the loop --------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        if stop is None:
            stop = asyncio.Event()
        released = await self._db(manager.release_dead_claims, claim_owner_is_dead)
        if released:
            log.info("released %d claims of stopped workers", released)
        scale = self.clock.time_scale
        learned = await self._read(poll_queries.learned_durations)
        self.poller.book.extend((key, seconds / scale) for key, seconds in learned)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                self._wake.clear()
                room = self.settings.concurrency - len(self._tasks)
                claimed: list[Work] = []
                if room > 0:
                    claimed = await self._db(
                        manager.claim,
                        worker_id=self.id,
                        now=self.clock.now(),
                        lease=self.settings.lease,
                        window=self.window,
                        limit=room,
                    )
                polls: dict[int, list[Work]] = {}
                for work in claimed:
                    if work.kind is WorkKind.POLL:
                        polls.setdefault(work.profile_id, []).append(work)
                    else:
                        self._tasks[work.generation_id] = asyncio.create_task(self._step(work))
                for profile_id, works in polls.items():  # one task observes a profile's due polls
                    task = asyncio.create_task(self._poll_group(profile_id, works))
                    for work in works:
                        self._tasks[work.generation_id] = task
                # With no room left, a finishing step wakes us; otherwise sleep until work is due.
                await self._idle(stop, await self._delay())
        finally:
            heartbeat.cancel()
            await self._shutdown()

    async def _delay(self) -> float:
        now = self.clock.now()
        wakeup = await self._read(manager.next_wakeup, now=now, window=self.window)
        if wakeup is None:
            return self.settings.idle
        return max(0.0, min(self.settings.idle, (wakeup - now).total_seconds()))

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(stop.wait()),
            asyncio.create_task(self.clock.sleep(seconds)),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _heartbeat(self) -> None:
        while True:
            await self.clock.sleep(self.settings.lease / 3)
            if self._tasks:
                until = self.clock.now() + timedelta(seconds=self.settings.lease)
                with contextlib.suppress(Exception):  # a missed renewal is retried next beat
                    await self._db(manager.renew, self.id, list(self._tasks), until)

    async def _shutdown(self) -> None:
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            with contextlib.suppress(Exception):
                await provider.aclose()

    # -- one step --------------------------------------------------------------------------------------

    async def _step(self, work: Work, observed: Result | None = None) -> None:
        try:
            if work.kind is WorkKind.SUBMIT:
                await self._submit(work)
            elif work.kind is WorkKind.RECONCILE:
                await self._reconcile(work)
            elif work.kind is WorkKind.POLL:
                await self._poll(work, observed)
            else:
                await self._download(work, None)
        except LostClaim:
            log.info("generation %s: claim lost, step dropped", work.generation_id)
            self.poller.drop(work.generation_id)
        except InvalidTransition as exc:  # e.g. cancelled by the user while we polled
            log.info("generation %s: %s", work.generation_id, exc)
            self.poller.drop(work.generation_id)
            await self._persist(manager.release, work.generation_id, self.id)
        except asyncio.CancelledError:
            # Nothing known was lost: a create in flight stays `submitted_at`-marked and is reconciled.
            await self._persist(manager.release, work.generation_id, self.id)
            raise
        except Exception as exc:  # a bug must not lose a paid job: back off and try again
            log.exception("generation %s: %s step crashed", work.generation_id, work.kind)
            phase: Phase = "reconcile" if work.kind is WorkKind.SUBMIT else _phase(work.kind)
            with contextlib.suppress(Exception):
                await self._after_error(work, exc, phase)
        finally:
            self._tasks.pop(work.generation_id, None)
            self.steps += 1
            self._wake.set()
            self.changed.set()

    async def _after_error(self, work: Work, exc: BaseException, phase: Phase) -> None:
        now = self.clock.now()
        decision = decide(exc, work.attempts, phase, self.retry_policy, now=now, expires_at=work.expires_at)
        gid = work.generation_id
        if decision.action in (Action.FAIL, Action.EXPIRE):
            self.poller.drop(gid)
            end = manager.fail if decision.action is Action.FAIL else manager.expire
            await self._persist(end, gid, self.id, decision.reason, now=now)
            return
        at = now + timedelta(seconds=decision.delay)
        if phase == "download" and work.expires_at is not None and at >= work.expires_at:
            if now >= work.expires_at:
                reason = f"not downloaded before it expired at {work.expires_at:%Y-%m-%d %H:%M:%S} UTC: {exc}"
                await self._persist(manager.expire, gid, self.id, reason, now=now)
                return
            at = work.expires_at - (work.expires_at - now) / 2  # one more try while it still exists
        if decision.action is Action.RECONCILE:
            message = "Checking whether the provider received the job..."
            await self._persist(manager.retry_later, gid, self.id, at=at, message=message, counts=False)
            return
        unsubmit = phase == "submit"  # 429 / nothing sent: the create did not happen
        message = f"Waiting to retry: {decision.reason}"
        await self._persist(
            manager.retry_later,
            gid,
            self.id,
            at=at,
            message=message,
            counts=decision.counts,
            unsubmit=unsubmit,
        )

    # -- submit / reconcile ---------------------------------------------------------------------------

    def _request(self, work: Work) -> tuple[VideoRequest, RawImage | None]:
        mode = Mode(work.mode)
        image: RawImage | None = None
        data: bytes | None = None
        if mode is Mode.IMAGE and work.input_image_path:
            data = media.resolve(work.input_image_path).read_bytes()
            mime, ext = sniff_image(data) or ("image/png", "png")
            image = RawImage(data=data, mime_type=mime, filename=f"reference.{ext}")
        if mode is Mode.REMIX and not work.remix_source:
            raise ValidationError(
                "the video to remix has no provider id (it was never submitted)", field="remix_of"
            )
        request = VideoRequest(
            prompt=work.prompt,
            model=work.model,
            size=work.size,
            seconds=work.seconds,
            variants=work.variants,
            mode=mode,
            image=data,
            remix_of=work.remix_source if mode is Mode.REMIX else None,
        )
        return request, image

    async def _submit(self, work: Work) -> None:
        try:
            request, image = self._request(work)
        except Exception as exc:  # nothing was sent; retrying would fail the same way
            reason = f"the request could not be prepared: {exc}"
            await self._persist(manager.fail, work.generation_id, self.id, reason, now=self.clock.now())
            return
        try:
            provider = await self._provider(work.profile_id)
            await self.budget.acquire(work.profile_id)
            job = await provider.submit(request, image=image, model=work.deployment)
        except Exception as exc:
            await self._after_error(work, exc, "submit")
            return
        await self._adopt(work, job)

    async def _adopt(self, work: Work, job: RemoteJob) -> None:
        now, seconds = self.clock.now(), self.clock.time()
        submitted = (work.submitted_at or now).timestamp()
        track = self.poller.track(work, self._key(work), submitted=submitted, remote_id=job.id)
        track.observe(seconds, job.progress)
        next_poll = self.poller.next_poll(work.generation_id, seconds, job.poll_hint)
        await self._persist(
            manager.record_submitted, work.generation_id, self.id, job, now=now, next_poll=next_poll
        )

    async def _reconcile(self, work: Work) -> None:
        sent = (work.submitted_at or work.created_at).timestamp()
        lost = SubmitOutcomeUnknown(
            "reconciling a create whose answer was not recorded",
            operation="remix" if work.mode == Mode.REMIX else "create",
            prompt=work.prompt,
            model=None,  # a deployment name need not match the model the provider echoes
            sent_at=sent,
            failed_at=self.clock.time(),
            size=work.size,
            seconds=work.seconds,
            source_id=work.remix_source,
        )
        try:
            provider = await self._provider(work.profile_id)
            await self.budget.acquire(work.profile_id)
            candidates = await find_submitted(provider, lost, skew=self.settings.reconcile_margin)
        except Exception as exc:
            await self._after_error(work, exc, "reconcile")
            return
        known = await self._read(manager.known_remote_ids, work.profile_id)
        fresh = [job for job in candidates if job.id not in known]
        if fresh:
            log.info("generation %s: found its job %s after a lost create", work.generation_id, fresh[0].id)
            await self._adopt(work, fresh[0])
            return
        now = self.clock.now()
        if work.attempts + 1 < self.settings.reconcile_tries:
            at = now + timedelta(seconds=self.retry_policy.reconcile_delay)
            await self._persist(manager.retry_later, work.generation_id, self.id, at=at, counts=True)
            return
        resend_at = datetime.fromtimestamp(sent, tz=UTC) + timedelta(seconds=self.settings.resend_after)
        if now < resend_at:
            await self._persist(manager.retry_later, work.generation_id, self.id, at=resend_at, counts=False)
            return
        log.info("generation %s: the provider has no such job; sending it again", work.generation_id)
        await self._persist(
            manager.retry_later,
            work.generation_id,
            self.id,
            at=now,
            message="The provider never received the job: sending it again...",
            unsubmit=True,
            reset_attempts=True,
        )

    # -- download (polls: `poll_steps.PollSteps`) -----------------------------------------------------

    async def _download(self, work: Work, job: RemoteJob | None) -> None:
        gid = work.generation_id
        try:
            provider = await self._provider(work.profile_id)
            if job is None:
                assert work.remote_id is not None
                await self.budget.acquire(work.profile_id)
                job = await provider.status(work.remote_id)
            if job.status is Status.EXPIRED:
                reason = (
                    f"the provider's copy expired at {job.expires_at or 'an unknown time'} before download"
                )
                await self._persist(manager.expire, gid, self.id, reason, now=self.clock.now())
                return
            if job.status is not Status.COMPLETED:
                raise ValidationError(
                    f"job {job.id} is {job.raw_status}, not completed", field="status", value=job.raw_status
                )
            if job.expires_at is not None and work.expires_at is None:
                work = _with_expiry(work, job.expires_at)
            assets = await provider.download(job, media.generation_dir(gid))
        except Exception as exc:
            await self._after_error(work, exc, "download")
            return
        stored = [(asset, media.relative(asset.path)) for asset in assets]
        await self._persist(manager.finish_download, gid, self.id, stored, now=self.clock.now())


def _phase(kind: WorkKind) -> Phase:
    return cast(Phase, kind.value)


def _with_expiry(work: Work, expires_at: datetime) -> Work:
    return replace(work, expires_at=expires_at)


__all__ = [
    "CREATE_WINDOW",
    "REQUEST_WINDOW",
    "Worker",
    "WorkerSettings",
    "claim_owner_is_dead",
    "worker_identity",
]
