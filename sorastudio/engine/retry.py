"""What to do after an operation on a job failed: a pure function of the error, the attempts and the phase.

`decide()` never sleeps, never touches the database and never looks at the clock; the worker applies
its `RetryDecision`. The rules, by phase:

* every phase: `RateLimited` (429) → retry after the server's `Retry-After` (or a default): never fail,
  never count as an attempt — the limit is the provider's, the job is fine.
* submit: `SubmitOutcomeUnknown`, or any error that may have come after the request reached the
  provider (an unreadable 2xx, a bug) → reconcile against the provider's job list before anything
  else. Transport errors where nothing was sent and 5xx → back off, fail after `max_submit_attempts`.
  `BadRequest`, `AuthenticationError`, `NotFound` (wrong deployment), `ValidationError` → fail: a retry
  would be refused the same way and nothing was paid.
* poll: transient errors → back off (the job runs on regardless). `NotFound` saying the job expired →
  expire (it finished, so it was paid); other `NotFound` → retry while the job may still be becoming
  visible (`not_visible_polls`), then fail. Other errors → back off, fail after
  `max_poll_errors`. `JobFailed` → fail.
* download: the job is paid, so only two ends exist — retry with back-off (bounded by the video's
  `expires_at`, which the worker checks), or expire. A 404 alone is not proof the video is gone (a
  replica not yet in sync, a proxy's hiccup), so it expires the generation only when the provider says
  the video expired, or `expires_at` has passed; before `expires_at` it is retried like any error, and
  when the expiry is unknown, at most `missing_video_tries` times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sorastudio.errors import (
    AuthenticationError,
    BadRequest,
    JobFailed,
    NotFound,
    RateLimited,
    ServerError,
    SubmitOutcomeUnknown,
    TransportError,
    ValidationError,
)

Phase = Literal["submit", "reconcile", "poll", "download"]


class Action(StrEnum):
    RETRY = "retry"  # try the same phase again after `delay`
    RECONCILE = "reconcile"  # the create may have happened: look for the job before resubmitting
    FAIL = "fail"  # end the generation as failed (costs 0)
    EXPIRE = "expire"  # end as expired: paid, but the provider no longer has the video


@dataclass(frozen=True)
class RetryPolicy:
    """Delays in provider seconds (the worker multiplies them by its clock's time scale)."""

    base_delay: float = 2.0
    max_delay: float = 300.0
    rate_limit_wait: float = 10.0  # when a 429 says nothing about when
    reconcile_delay: float = 2.0
    max_submit_attempts: int = 6
    not_visible_polls: int = 6
    max_poll_errors: int = 30
    missing_video_tries: int = 12  # 404s on a download whose expiry is unknown (~half an hour of back-off)

    def scaled(self, factor: float) -> RetryPolicy:
        return replace(
            self,
            base_delay=self.base_delay * factor,
            max_delay=self.max_delay * factor,
            rate_limit_wait=self.rate_limit_wait * factor,
            reconcile_delay=self.reconcile_delay * factor,
        )


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True)
class RetryDecision:
    action: Action
    delay: float  # seconds before the next try (RETRY, RECONCILE)
    reason: str  # for the event log and, on FAIL/EXPIRE, the generation's error
    counts: bool = True  # whether this try counts towards the attempt limits


def backoff(attempts: int, policy: RetryPolicy = DEFAULT_RETRY_POLICY) -> float:
    """Exponential: base, 2×base, 4×base… capped at `max_delay` (attempts is 0-based)."""
    return min(policy.max_delay, policy.base_delay * 2 ** min(max(attempts, 0), 30))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def decide(
    exc: BaseException,
    attempts: int,
    phase: Phase,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    *,
    now: datetime | None = None,
    expires_at: datetime | None = None,
) -> RetryDecision:
    """The decision after try number `attempts + 1` of `phase` raised `exc`.

    `now` and `expires_at` (the video's, when known) matter only to a download that got a 404.
    """
    reason = _describe(exc)
    if isinstance(exc, RateLimited):
        wait = exc.retry_after if exc.retry_after is not None else policy.rate_limit_wait
        return RetryDecision(Action.RETRY, max(0.0, wait), f"rate limited, retrying: {reason}", counts=False)
    retry = RetryDecision(Action.RETRY, backoff(attempts, policy), reason)
    if phase in ("submit", "reconcile"):
        if isinstance(exc, SubmitOutcomeUnknown):
            return RetryDecision(Action.RECONCILE, policy.reconcile_delay, reason, counts=False)
        if isinstance(exc, BadRequest | AuthenticationError | NotFound | ValidationError | JobFailed):
            if phase == "reconcile":  # the job list is unusable: never resend blindly
                reason = (
                    f"could not check whether the provider received the job ({reason}); it was not sent "
                    "again, so it was not paid twice — look for it in the provider's portal"
                )
            return RetryDecision(Action.FAIL, 0.0, reason)
        if isinstance(exc, TransportError | ServerError):
            if attempts + 1 >= policy.max_submit_attempts:
                return RetryDecision(Action.FAIL, 0.0, f"gave up after {attempts + 1} tries: {reason}")
            return retry
        if phase == "reconcile":
            return retry  # listing failed: look again later, never resubmit blindly
        # Anything else may have happened after the provider accepted the job (an unreadable answer,
        # a bug of ours): find out before sending it again.
        return RetryDecision(Action.RECONCILE, policy.reconcile_delay, reason, counts=False)
    if phase == "poll":
        if isinstance(exc, JobFailed):
            return RetryDecision(Action.FAIL, 0.0, reason)
        if isinstance(exc, NotFound):
            if "expired" in reason.lower():  # Azure deletes a finished job (and its videos) at expiry
                return RetryDecision(Action.EXPIRE, 0.0, f"the provider dropped the finished job: {reason}")
            if attempts + 1 >= policy.not_visible_polls:
                return RetryDecision(Action.FAIL, 0.0, f"the provider no longer knows this job: {reason}")
            return RetryDecision(Action.RETRY, policy.base_delay * (attempts + 1), reason)
        if isinstance(exc, TransportError | ServerError):
            return retry
        if attempts + 1 >= policy.max_poll_errors:
            return RetryDecision(Action.FAIL, 0.0, f"gave up after {attempts + 1} tries: {reason}")
        return retry
    # download: paid; keep trying until the worker sees the expiry, unless the files are surely gone.
    if isinstance(exc, NotFound):
        return _missing_video(reason, attempts, policy, now, expires_at)
    return retry


def _missing_video(
    reason: str, attempts: int, policy: RetryPolicy, now: datetime | None, expires_at: datetime | None
) -> RetryDecision:
    """A download answered 404: expire only on the provider's word or the video's own expiry."""
    if "expired" in reason.lower():
        return RetryDecision(Action.EXPIRE, 0.0, f"the provider says the video expired: {reason}")
    if expires_at is not None and now is not None and now >= expires_at:
        when = f"{expires_at:%Y-%m-%d %H:%M:%S}"
        return RetryDecision(Action.EXPIRE, 0.0, f"the video expired at {when} before download: {reason}")
    if expires_at is None and attempts + 1 >= policy.missing_video_tries:
        return RetryDecision(
            Action.EXPIRE, 0.0, f"the provider no longer has the video ({attempts + 1} tries): {reason}"
        )
    until = f" (it is kept until {expires_at:%Y-%m-%d %H:%M:%S})" if expires_at is not None else ""
    return RetryDecision(
        Action.RETRY, backoff(attempts, policy), f"the provider did not find the video{until}: {reason}"
    )


__all__ = ["DEFAULT_RETRY_POLICY", "Action", "Phase", "RetryDecision", "RetryPolicy", "backoff", "decide"]
