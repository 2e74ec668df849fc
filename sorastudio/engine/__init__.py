"""The durable generation engine: status transitions, job queries, retry rules and the worker loop.

* `transitions` — the allowed-transitions table; `transition()` is the only way a status changes.
* `manager`     — every job query (enqueue, record results, user actions); claims and slot counting
                  live in `claims` and are re-exported by `manager`.
* `queries`     — read-side queries for the front doors (get, list, events, delete).
* `retry`       — a pure `RetryDecision` from an error, the attempts and the phase.
* `worker`      — the async loop (no SQL); `python -m sorastudio.engine` runs it standalone.
* polling       — `predictor` (when a job will finish, when to look: pure), `progress_fit` (the lines
                  progress allows), `budget` (requests per resource), `polls` (budgeted status and list
                  reads), `poll_steps` (the worker's poll steps), `poll_queries` (their SQL).
* `providers`   — builds the provider client for a profile.
* `clock`       — wall clock, sleep and time scale, injected together.
"""

from sorastudio.engine.clock import Clock, SystemClock
from sorastudio.engine.transitions import ALLOWED, InvalidTransition, transition
from sorastudio.engine.worker import Worker, WorkerSettings

__all__ = ["ALLOWED", "Clock", "InvalidTransition", "SystemClock", "Worker", "WorkerSettings", "transition"]
