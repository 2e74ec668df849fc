"""Every exception sorastudio raises on purpose, in one tree.

Front doors catch `SorastudioError` once (web: one exception handler → 4xx/5xx with the message;
CLI: one wrapper → exit code ≠ 0); everything else is a bug and should surface as one.

Exception hierarchy:

* SorastudioError
  * ValidationError          - bad request input; names `field`, `value` and what is `allowed`.
                               Also a `ValueError`, so it may be raised inside Pydantic validators.
    * ModelRetired           - the chosen model's retirement date has passed (`retired_on`, `remaining`).
  * BudgetExceeded           - the estimate would take a budget past its limit (ledger).
  * ProviderError            - a provider answered badly or not at all (`status_code`, `request_id`).
    * TransportError         - no usable HTTP response: refused, dropped, timed out, TLS failure.
    * BadRequest             - 400/422: the provider rejected the request (moderation, size mismatch…).
    * AuthenticationError    - 401/403: key, token or role is wrong.
    * NotFound               - 404: unknown job/video/deployment, or a wrong endpoint path.
    * RateLimited            - 429: too many requests or running jobs (`retry_after` seconds, if told).
    * ServerError            - 5xx.
    * ContentError           - a download is not what it claims (JSON body, wrong type, truncated file).
    * JobFailed              - the job itself ended `failed` (`job_id`, `failure_reason`).
    * SubmitOutcomeUnknown   - a create was sent but its answer was lost: the job may exist (reconcile first).
  * PollTimeout              - a job did not finish within the caller's wait (`job_id`, `last_status`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


class SorastudioError(Exception):
    """Base of every error sorastudio raises deliberately; `str(err)` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(SorastudioError, ValueError):
    """Bad input: the message names the field, the value and what is allowed.

    `allowed` is the list of acceptable values when there is a finite one (for form drop-downs),
    else empty; the message always describes what is allowed in words.
    """

    def __init__(
        self, message: str, *, field: str, value: object = None, allowed: Iterable[str] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed: tuple[str, ...] = tuple(allowed)


class ModelRetired(ValidationError):
    """The model was retired on `retired_on`; `remaining` lists the catalog ids still available."""

    def __init__(self, message: str, *, value: str, retired_on: date, remaining: Iterable[str]) -> None:
        remaining = tuple(remaining)
        super().__init__(message, field="model", value=value, allowed=remaining)
        self.retired_on = retired_on
        self.remaining = remaining


class BudgetExceeded(SorastudioError):
    """Reserving `requested` would exceed `limit` (already `spent`) for the named budget."""

    def __init__(
        self,
        message: str,
        *,
        budget: str = "",
        limit: object = None,
        spent: object = None,
        requested: object = None,
    ) -> None:
        super().__init__(message)
        self.budget = budget
        self.limit = limit
        self.spent = spent
        self.requested = requested


class ProviderError(SorastudioError):
    """A provider failed us. `status_code` is the HTTP status when there was one;
    `request_id` the provider's request id (e.g. Azure `apim-request-id`) for support tickets."""

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id


class TransportError(ProviderError):
    """No usable HTTP response (connection refused or dropped, timeout, TLS)."""


class BadRequest(ProviderError):
    """The provider rejected the request as invalid (400/422)."""


class AuthenticationError(ProviderError):
    """The provider refused our credentials or role (401/403)."""


class NotFound(ProviderError):
    """The job, video, generation or deployment does not exist (404) — or the endpoint path is wrong."""


class RateLimited(ProviderError):
    """429. `retry_after` is how many seconds the provider asked us to wait, when it said."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = 429,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id)
        self.retry_after = retry_after


class ServerError(ProviderError):
    """The provider failed on its side (5xx)."""


class ContentError(ProviderError):
    """Downloaded content is not valid media (JSON error body, wrong Content-Type, bad MP4, truncated)."""


class JobFailed(ProviderError):
    """The remote job ended in `failed`; `failure_reason` is the provider's reason, if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        job_id: str | None = None,
        failure_reason: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id)
        self.job_id = job_id
        self.failure_reason = failure_reason


class SubmitOutcomeUnknown(ProviderError):
    """A create (submit or remix) was sent, but no answer came back (timeout, dropped connection, or a
    5xx that may have come from a gateway after the service accepted it): the job may or may not exist.

    Never resubmit blindly — one click must not pay twice. List the provider's jobs created between
    `sent_at` and `failed_at` (unix seconds, our clock) and match `prompt`/`model`/`size`/`seconds`
    (`providers.base.find_submitted` does this); resubmit only if nothing matches.
    Deliberately not a `TransportError`: code that retries transport failures must not retry this.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        prompt: str,
        model: str | None,
        sent_at: float,
        failed_at: float,
        size: str | None = None,
        seconds: int | None = None,
        source_id: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id)
        self.operation = operation
        self.prompt = prompt
        self.model = model
        self.sent_at = sent_at
        self.failed_at = failed_at
        self.size = size
        self.seconds = seconds
        self.source_id = source_id


class PollTimeout(SorastudioError, TimeoutError):
    """Waiting for job `job_id` took longer than the caller allowed; it was last seen `last_status`.
    The remote job is not cancelled: polling can resume later."""

    def __init__(self, message: str, *, job_id: str, last_status: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.last_status = last_status


__all__ = [
    "AuthenticationError",
    "BadRequest",
    "BudgetExceeded",
    "ContentError",
    "JobFailed",
    "ModelRetired",
    "NotFound",
    "PollTimeout",
    "ProviderError",
    "RateLimited",
    "ServerError",
    "SorastudioError",
    "SubmitOutcomeUnknown",
    "TransportError",
    "ValidationError",
]
