"""Emulated jobs and their lifecycle, as a pure function of time.

A job's whole future is planned at create (duration, phase boundaries, outcome), so its status at any
moment is computed, never advanced by a background task: restarts of the clock, time scale and tests
with a manual clock all behave the same. Routes translate `Phase` into each API's words.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from .clock import Clock
from .config import Deployment, EmulatorConfig
from .errors import ApiError, azure_user_error, envelope, retry_headers, too_many_running
from .ids import IdFactory

Surface = Literal["sora1", "azure_videos", "openai_videos"]


class Phase(StrEnum):
    QUEUED = "queued"
    PREPROCESSING = "preprocessing"
    RUNNING = "running"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED}


@dataclass
class Generation:
    """One Sora 1 variant (every /videos job has exactly one, used for its media)."""

    id: str
    index: int


@dataclass
class Job:
    id: str
    surface: Surface
    deployment: Deployment
    prompt: str
    width: int
    height: int
    seconds: int
    variants: int
    created_at: float
    # Real seconds from created_at to the end of queued, preprocessing, running, processing.
    boundaries: tuple[float, float, float, float]
    outcome: Phase
    failure_reason: str | None = None
    # Real seconds after created_at at which a failure becomes visible.
    fail_after: float | None = None
    expiry: float = 86400.0
    image: bytes | None = None
    image_frame_index: int = 0
    inpaint_items: list[dict[str, object]] | None = None
    remixed_from: str | None = None
    generations: list[Generation] = field(default_factory=list)
    cancelled_at: float | None = None
    progress_curve: float = 1.0
    progress_noise: float = 0.0
    # Real seconds per emulated second: noise changes once per emulated second at any time scale.
    noise_period: float = 1.0
    # Creation order: breaks ties between jobs created in the same clock tick (lists, paging).
    seq: int = 0

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def duration(self) -> float:
        return self.boundaries[-1]

    def phase(self, now: float) -> Phase:
        t = now - self.created_at
        if self.cancelled_at is not None and now >= self.cancelled_at:
            return Phase.CANCELLED
        if self.fail_after is not None and t >= self.fail_after:
            return Phase.FAILED
        if t >= self.boundaries[3]:
            return self.outcome
        if t >= self.boundaries[2]:
            return Phase.PROCESSING
        if t >= self.boundaries[1]:
            return Phase.RUNNING
        if t >= self.boundaries[0]:
            return Phase.PREPROCESSING
        return Phase.QUEUED

    def finished_at(self, now: float) -> float | None:
        phase = self.phase(now)
        if phase is Phase.CANCELLED:
            return self.cancelled_at
        if phase is Phase.FAILED and self.fail_after is not None:
            return self.created_at + self.fail_after
        if phase.terminal:
            return self.created_at + self.duration
        return None

    def expires_at(self, now: float) -> float | None:
        # Assets exist (and so expire) only once the job succeeded.
        return self.created_at + self.expiry if self.phase(now) is Phase.SUCCEEDED else None

    def expired(self, now: float) -> bool:
        expires = self.expires_at(now)
        return expires is not None and now >= expires

    def progress(self, now: float) -> int:
        """Percent complete: 0 while queued, rising through the work, 100 when done."""
        phase = self.phase(now)
        if phase is Phase.SUCCEEDED:
            return 100
        start = self.boundaries[0]
        if phase.terminal or now - self.created_at < start:
            return 0
        fraction = (now - self.created_at - start) / (self.duration - start)
        value = 100 * min(1.0, fraction) ** self.progress_curve
        if self.progress_noise:
            # Deterministic per (job, whole emulated second); it may wobble, as real progress reports do,
            # but only ever under the true value, so it never reports more done than the job is.
            tick = int((now - self.created_at) / self.noise_period)
            digest = hashlib.sha256(f"{self.id}:{tick}".encode()).digest()
            value -= self.progress_noise * digest[0] / 255
        return max(0, min(99, int(value)))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w-]+", text.lower()))


class JobStore:
    """All jobs of one emulator, with the per-deployment limits. Thread-safe (routes run in threads)."""

    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        seed = config.seed if config.seed is not None else secrets.randbits(63)
        self.ids = IdFactory(seed)
        self._rng = random.Random(seed)
        self._jobs: dict[str, Job] = {}
        self._generations: dict[str, tuple[Job, Generation]] = {}
        self._creates: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.RLock()
        # Counted for tests and demos ("the emulator saw exactly 10 creates").
        self.create_count = 0
        self.creates: Counter[tuple[Surface, str]] = Counter()

    # -- planning -------------------------------------------------------------------------------

    def plan_duration(
        self, deployment: Deployment, width: int, height: int, seconds: int, variants: int
    ) -> float:
        t = self.config.timing
        units = seconds * (width * height) / (1280 * 720) * variants
        emulated = t.base + t.per_unit * units
        if deployment.model == "sora-2-pro":
            emulated *= t.pro_factor
        emulated *= 1 + self._rng.uniform(-t.jitter, t.jitter)
        # Clamp last, so pro factor and jitter never leave the configured [minimum, maximum] range.
        return self.config.scaled(min(t.maximum, max(t.minimum, emulated)))

    def _boundaries(self, surface: Surface, duration: float) -> tuple[float, float, float, float]:
        t = self.config.timing
        if surface == "sora1":
            q, p, r, _ = t.sora1_phases
            total = sum(t.sora1_phases)
            cuts = (q / total, (q + p) / total, (q + p + r) / total)
        else:
            # /videos has only queued and in_progress; in_progress spans the three middle phases.
            cuts = (t.videos_queued, t.videos_queued, t.videos_queued)
        return (duration * cuts[0], duration * cuts[1], duration * cuts[2], duration)

    def _plan_outcome(self, prompt: str, duration: float) -> tuple[Phase, str | None, float | None]:
        words = _words(prompt)
        moderation = self.config.moderation
        if words & {w.lower() for w in moderation.input_words}:
            # Input moderation fails early, during preprocessing.
            return Phase.FAILED, "input_moderation", duration * 0.15
        if words & {w.lower() for w in moderation.output_words}:
            return Phase.FAILED, "output_moderation", duration * 0.95
        if self._rng.random() < moderation.internal_error_rate:
            return Phase.FAILED, "internal_error", duration * 0.6
        return Phase.SUCCEEDED, None, None

    # -- limits ---------------------------------------------------------------------------------

    def check_limits(self, resource: str, deployment: Deployment, azure: bool) -> None:
        """Raise the service's 429 if this create would exceed a limit; else count it."""
        now = self.clock.now()
        with self._lock:
            if deployment.creates_per_minute:
                window = self.config.scaled(60.0)
                times = self._creates.setdefault((resource, deployment.name), deque())
                while times and now - times[0] >= window:
                    times.popleft()
                if len(times) >= deployment.creates_per_minute:
                    wait = window - (now - times[0])
                    raise _rate_limited(deployment, wait, azure)
            if deployment.running_cap:
                running = sum(
                    1
                    for job in self._jobs.values()
                    if job.deployment.name == deployment.name
                    and _resource(job.surface) == resource
                    and not job.phase(now).terminal
                )
                if running >= deployment.running_cap:
                    raise too_many_running(self.config.scaled(self.config.running_cap_retry_after))
            if deployment.creates_per_minute:
                self._creates[(resource, deployment.name)].append(now)

    # -- store ----------------------------------------------------------------------------------

    def create(
        self,
        surface: Surface,
        deployment: Deployment,
        prompt: str,
        width: int,
        height: int,
        seconds: int,
        variants: int = 1,
        *,
        image: bytes | None = None,
        image_frame_index: int = 0,
        inpaint_items: list[dict[str, object]] | None = None,
        remixed_from: str | None = None,
    ) -> Job:
        with self._lock:
            self.check_limits(_resource(surface), deployment, azure=surface != "openai_videos")
            duration = self.plan_duration(deployment, width, height, seconds, variants)
            outcome, reason, fail_after = self._plan_outcome(prompt, duration)
            job_id = self.ids.task() if surface == "sora1" else self.ids.video()
            job = Job(
                id=job_id,
                surface=surface,
                deployment=deployment,
                prompt=prompt,
                width=width,
                height=height,
                seconds=seconds,
                variants=variants,
                created_at=self.clock.now(),
                boundaries=self._boundaries(surface, duration),
                outcome=outcome,
                failure_reason=reason,
                fail_after=fail_after,
                expiry=self.config.scaled(self.config.expiry_seconds),
                image=image,
                image_frame_index=image_frame_index,
                inpaint_items=inpaint_items,
                remixed_from=remixed_from,
                progress_curve=self.config.timing.progress_curve,
                progress_noise=self.config.timing.progress_noise,
                noise_period=self.config.scaled(1.0),
                seq=self.create_count,
            )
            for index in range(variants):
                gen = Generation(self.ids.generation() if surface == "sora1" else job_id, index)
                job.generations.append(gen)
                self._generations[gen.id] = (job, gen)
            self._jobs[job.id] = job
            self.create_count += 1
            self.creates[(surface, deployment.name)] += 1
            return job

    def get(self, job_id: str, surface: Surface) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or _resource(job.surface) != _resource(surface) or job.surface != surface:
            return None
        return job

    def generation(self, generation_id: str) -> tuple[Job, Generation] | None:
        return self._generations.get(generation_id)

    def list(self, surface: Surface) -> list[Job]:
        """Jobs of one surface, newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.surface == surface]
        return sorted(jobs, key=lambda j: (j.created_at, j.seq), reverse=True)

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def reset(self) -> list[Job]:
        """Forget every job, rate window and count (admin reset); returns the jobs dropped."""
        with self._lock:
            dropped = list(self._jobs.values())
            self._jobs.clear()
            self._generations.clear()
            self._creates.clear()
            self.create_count = 0
            self.creates.clear()
            return dropped

    def delete(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
            for gen in job.generations:
                self._generations.pop(gen.id, None)


def _resource(surface: Surface) -> str:
    # Azure Sora 1 and Sora 2 deployments live in one Azure resource; OpenAI is another world.
    return "openai" if surface == "openai_videos" else "azure"


def _rate_limited(deployment: Deployment, wait: float, azure: bool) -> ApiError:
    seconds = max(1, round(wait))
    if azure:
        body = {
            "error": {
                "code": "429",
                "message": f"Requests to the Videos_Create Operation under Azure OpenAI API version v1 have "
                f"exceeded the rate limit of {deployment.creates_per_minute} video job requests per minute "
                f"for deployment '{deployment.name}'. Please retry after {seconds} seconds.",
            }
        }
        return ApiError(429, body, retry_headers(wait))
    message = (
        f"Rate limit reached for {deployment.name} on requests per min (RPM): "
        f"Limit {deployment.creates_per_minute}. Please try again in {seconds}s."
    )
    return ApiError(429, envelope(message, "requests", code="rate_limit_exceeded"), retry_headers(wait))


__all__ = ["ApiError", "Generation", "Job", "JobStore", "Phase", "Surface", "azure_user_error"]
