"""The durable generation engine: status transitions, job queries, retry rules and the worker loop.

* `transitions` — the allowed-transitions table; `transition()` is the only way a status changes.
* `manager`     — every job query (enqueue, claim with slots, record results).
* `retry`       — a pure `RetryDecision` from an error, the attempts and the phase.
* `worker`      — the async loop (no SQL); `python -m sorastudio.engine` runs it standalone.
* `providers`   — builds the provider client for a profile.
"""

from sorastudio.engine.clock import Clock, SystemClock
from sorastudio.engine.transitions import ALLOWED, InvalidTransition, transition
from sorastudio.engine.worker import Worker, WorkerSettings

__all__ = ["ALLOWED", "Clock", "InvalidTransition", "SystemClock", "Worker", "WorkerSettings", "transition"]
