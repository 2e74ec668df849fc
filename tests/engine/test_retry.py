"""`retry.decide`: a pure decision per error, attempts and phase."""

from __future__ import annotations

import pytest

from sorastudio.engine.retry import Action, RetryPolicy, backoff, decide
from sorastudio.errors import (
    AuthenticationError,
    BadRequest,
    ContentError,
    JobFailed,
    NotFound,
    RateLimited,
    ServerError,
    SubmitOutcomeUnknown,
    TransportError,
    ValidationError,
)

POLICY = RetryPolicy(base_delay=2, max_delay=60, max_submit_attempts=3, not_visible_polls=3)


def _lost() -> SubmitOutcomeUnknown:
    return SubmitOutcomeUnknown("lost", operation="create", prompt="p", model="m", sent_at=1.0, failed_at=2.0)


@pytest.mark.parametrize("phase", ["submit", "reconcile", "poll", "download"])
@pytest.mark.parametrize("attempts", [0, 5, 1000])
def test_429_always_waits_as_told_and_never_fails(phase: str, attempts: int) -> None:
    told = decide(RateLimited("slow down", retry_after=7.5), attempts, phase, POLICY)  # type: ignore[arg-type]
    assert (told.action, told.delay, told.counts) == (Action.RETRY, 7.5, False)
    untold = decide(RateLimited("slow down"), attempts, phase, POLICY)  # type: ignore[arg-type]
    assert (untold.action, untold.delay) == (Action.RETRY, POLICY.rate_limit_wait)


def test_submit_errors() -> None:
    assert decide(_lost(), 0, "submit", POLICY).action is Action.RECONCILE
    assert decide(KeyError("bug after the request went out"), 0, "submit", POLICY).action is Action.RECONCILE
    for refused in (
        BadRequest("moderation"),
        AuthenticationError("bad key"),
        NotFound("no deployment"),
        ValidationError("x", field="f"),
    ):
        decision = decide(refused, 0, "submit", POLICY)
        assert decision.action is Action.FAIL and str(refused) in decision.reason
    first = decide(TransportError("refused"), 0, "submit", POLICY)
    second = decide(ServerError("503"), 1, "submit", POLICY)
    assert (first.action, first.delay, second.delay) == (Action.RETRY, 2, 4)
    assert decide(TransportError("refused"), 2, "submit", POLICY).action is Action.FAIL


def test_poll_errors() -> None:
    assert decide(NotFound("not yet"), 0, "poll", POLICY).action is Action.RETRY
    assert decide(NotFound("gone"), 2, "poll", POLICY).action is Action.FAIL
    assert (
        decide(NotFound("job x expired at 12:00 and was deleted"), 0, "poll", POLICY).action is Action.EXPIRE
    )
    assert decide(JobFailed("failed"), 0, "poll", POLICY).action is Action.FAIL
    many = decide(ServerError("500"), 500, "poll", POLICY)
    assert (many.action, many.delay) == (Action.RETRY, 60)  # capped, never given up: the job runs on


def test_download_is_paid_so_it_retries_or_expires() -> None:
    assert decide(ContentError("json body"), 3, "download", POLICY).action is Action.RETRY
    assert decide(AuthenticationError("key rotated"), 50, "download", POLICY).action is Action.RETRY
    assert decide(NotFound("gone"), 0, "download", POLICY).action is Action.RETRY  # not proof it is gone


def test_backoff_and_scaling() -> None:
    assert [backoff(n, POLICY) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    scaled = POLICY.scaled(0.01)
    assert decide(ServerError("x"), 0, "poll", scaled).delay == pytest.approx(0.02)
