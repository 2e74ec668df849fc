"""The engine loop: claim due steps from the database, run them against the providers, record results.

No SQL here (it is all in `manager.py`); every write goes through `_persist`, which runs the manager
function in a thread (SQLAlchemy is synchronous) under `asyncio.shield`, so a shutdown or a cancelled
task never loses a result the provider already gave us ("shutdown never leaves a paid job running").

One step per claim:
* submit    — the claim already set `submitted_at` and committed; send the create once; store the
              remote id at once. A 429 gives the slot back and waits for `Retry-After`; a lost answer
              (`SubmitOutcomeUnknown`) or a crash in between becomes a reconcile step.
* reconcile — list the provider's jobs since `submitted_at` (minus a margin) and adopt the one matching
              prompt/size/seconds that no other generation owns; only after `reconcile_tries` empty
              lists, and `resend_after` seconds after the lost send, is the job sent again.
* poll      — one status read; the next read is scheduled with `providers.polling.next_poll_delay`
              (server hint as floor, prediction from progress or the expected duration) and stored in
              `next_attempt_at`, so a restarted worker resumes the same schedule.
* download  — into `<home>/media/<generation id>/`; Asset rows, completed and settled in one transaction.
              Retried until the video's `expires_at`; only then (or on a 404) `expired`.
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
from sorastudio.engine import manager
from sorastudio.engine.claims import claim_owner_is_dead, worker_identity
from sorastudio.engine.clock import Clock, SystemClock
from sorastudio.engine.manager import LostClaim, Work, WorkKind
from sorastudio.engine.providers import build_provider
from sorastudio.engine.retry import DEFAULT_RETRY_POLICY, Action, Phase, RetryPolicy, decide
from sorastudio.engine.transitions import InvalidTransition
from sorastudio.errors import SubmitOutcomeUnknown, ValidationError
from sorastudio.providers.base import Provider, RawImage, RemoteJob, find_submitted, sniff_image
from sorastudio.providers.polling import (
    Observation,
    PollPolicy,
    expected_duration,
    next_poll_delay,
    predict_remaining,
)
from sorastudio.store.db import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

# Sparser than the library default early on (the prediction is good), dense near the predicted end.
ENGINE_POLL_POLICY = PollPolicy(min_delay=2.0, max_delay=90.0, fraction=0.6)
# Provider seconds: the creates-per-minute window, plus a margin for our claim-to-arrival delay
# (the provider measures its minute from when requests arrive, we from when we claim).
CREATE_WINDOW = 62.0
# The last poll lands this share of `min_delay` after the predicted end (progress is reported in whole
# percent, so the prediction runs a little early or late).
END_MARGIN = 0.1


@dataclass(frozen=True)
class WorkerSettings:
    lease: float = 30.0  # real seconds a claim lasts without renewal
    idle: float = 1.0  # real seconds between looks at the database when nothing is due
    concurrency: int = 64  # steps in flight
    grace: float = 5.0  # on stop: real seconds in-flight steps may take to finish
    reconcile_tries: int = 3  # empty job lists before a lost create is sent again…
    resend_after: float = 90.0  # …and real seconds since it was sent (a request in flight may land late)
    reconcile_margin: float = 300.0  # real seconds either side of our send time (clock skew)
    poll_policy: PollPolicy = ENGINE_POLL_POLICY  # provider seconds (scaled by the clock)
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY  # provider seconds (scaled by the clock)
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)


class Worker:
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
        self.poll_policy = self.settings.poll_policy.scaled(scale)
        self.retry_policy = self.settings.retry_policy.scaled(scale)
        self.window = CREATE_WINDOW * scale
        self._factory = provider_factory or self._build_provider
        self._providers: dict[int, Provider] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._history: dict[str, list[Observation]] = {}
        self._polls: dict[str, int] = {}
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
                for work in claimed:
                    self._tasks[work.generation_id] = asyncio.create_task(self._step(work))
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

    async def _step(self, work: Work) -> None:
        try:
            if work.kind is WorkKind.SUBMIT:
                await self._submit(work)
            elif work.kind is WorkKind.RECONCILE:
                await self._reconcile(work)
            elif work.kind is WorkKind.POLL:
                await self._poll(work)
            else:
                await self._download(work, None)
        except LostClaim:
            log.info("generation %s: claim lost, step dropped", work.generation_id)
        except InvalidTransition as exc:  # e.g. cancelled by the user while we polled
            log.info("generation %s: %s", work.generation_id, exc)
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
        decision = decide(exc, work.attempts, phase, self.retry_policy)
        now = self.clock.now()
        gid = work.generation_id
        if decision.action is Action.FAIL:
            await self._persist(manager.fail, gid, self.id, decision.reason, now=now)
            return
        if decision.action is Action.EXPIRE:
            await self._persist(manager.expire, gid, self.id, decision.reason, now=now)
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
            job = await provider.submit(request, image=image, model=work.deployment)
        except Exception as exc:
            await self._after_error(work, exc, "submit")
            return
        await self._adopt(work, job)

    async def _adopt(self, work: Work, job: RemoteJob) -> None:
        now = self.clock.now()
        self._history[work.generation_id] = [Observation(self.clock.time(), job.progress)]
        self._polls[work.generation_id] = 0
        delay = self._poll_delay(work, job, elapsed=0.0)
        next_poll = now + timedelta(seconds=delay)
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

    # -- poll / download ------------------------------------------------------------------------------

    def _poll_delay(self, work: Work, job: RemoteJob, *, elapsed: float) -> float:
        """`next_poll_delay`, then one refinement: when the poll after this one would come later than
        the predicted end anyway (the server's poll-after hint or our minimum is the floor), poll once
        right after the predicted end instead of once before it and once well after it."""
        scale = self.clock.time_scale
        expected = scale * expected_duration(
            work.width, work.height, work.seconds, work.variants, pro=work.model.endswith("-pro")
        )
        history = self._history.get(work.generation_id, ())
        delay = next_poll_delay(
            self._polls.get(work.generation_id, 0),
            job,
            expected,
            history=history,
            elapsed=elapsed,
            policy=self.poll_policy,
        )
        remaining = predict_remaining(history, expected, elapsed)
        floor = max(self.poll_policy.min_delay, min(job.poll_hint or 0.0, self.poll_policy.max_hint))
        if remaining is not None and remaining > 0 and remaining - delay < floor:
            delay = max(floor, remaining + self.poll_policy.min_delay * END_MARGIN)
        return delay

    async def _poll(self, work: Work) -> None:
        assert work.remote_id is not None
        try:
            provider = await self._provider(work.profile_id)
            job = await provider.status(work.remote_id)
        except Exception as exc:
            await self._after_error(work, exc, "poll")
            return
        gid = work.generation_id
        now = self.clock.now()
        if job.status.terminal:
            self._history.pop(gid, None)
            self._polls.pop(gid, None)
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
            history = self._history.setdefault(gid, [])
            history.append(Observation(self.clock.time(), job.progress))
            del history[: -self.poll_policy.history]
            self._polls[gid] = self._polls.get(gid, 0) + 1
            started = work.submitted_at or work.created_at
            delay = self._poll_delay(work, job, elapsed=(now - started).total_seconds())
            next_poll = now + timedelta(seconds=delay)
            await self._persist(manager.record_status, gid, self.id, job, now=now, next_poll=next_poll)

    async def _download(self, work: Work, job: RemoteJob | None) -> None:
        gid = work.generation_id
        try:
            provider = await self._provider(work.profile_id)
            if job is None:
                assert work.remote_id is not None
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
    "ENGINE_POLL_POLICY",
    "Worker",
    "WorkerSettings",
    "claim_owner_is_dead",
    "worker_identity",
]
