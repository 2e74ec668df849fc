"""The built-in emulator profile, offline: serve the emulator in this process when nothing else does.

On a first run there is no profile, so the library creates the `emulator` profile pointing at
`SORASTUDIO_EMULATOR_URL` (default `http://127.0.0.1:8089`, where `sorastudio emulator` listens).
If a command needs that profile's provider and nothing listens there, `local_emulator()` starts the
emulator on exactly that address in a background thread for the duration of the command, so
`sorastudio generate "…"` works with no setup and no network.

Its time scale is `SORASTUDIO_TIME_SCALE` if set, else `LOCAL_TIME_SCALE` (a 1–5 minute emulated job
takes 3–15 s); the engine's clock must use the same scale. Its state lives only as long as the command:
a job it accepted and that is still running when the command ends is unknown to the next one, so for
queues that outlive a command (`--no-wait`, `batch`, `worker`), run `sorastudio emulator` yourself.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

from sorastudio.accounts import Profiles
from sorastudio.engine.clock import TIME_SCALE_ENV, check_time_scale
from sorastudio.engine.providers import emulator_url
from sorastudio.errors import SorastudioError
from sorastudio.store.profiles import EMULATOR_PROFILE

LOCAL_TIME_SCALE = 0.05
_LOOPBACK = ("127.0.0.1", "localhost")
_CONNECT_TIMEOUT = 0.5


def emulator_endpoint(profiles: Profiles, profile: str | None) -> str | None:
    """The built-in emulator profile's URL if `profile` (None: the default one) is or will be it."""
    if profile not in (None, EMULATOR_PROFILE):
        return None
    known = profiles.list()
    if profile is None and any(p.name != EMULATOR_PROFILE for p in known):
        return None  # the default is the user's own (oldest) profile
    builtin = next((p for p in known if p.name == EMULATOR_PROFILE), None)
    if builtin is not None:
        return builtin.endpoint
    return emulator_url()  # created on first use at this address (as the default, or by name)


def _is_listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def local_time_scale() -> float:
    raw = os.environ.get(TIME_SCALE_ENV)
    return check_time_scale(raw) if raw else LOCAL_TIME_SCALE


def unserved_port(endpoint: str | None) -> int | None:
    """The port of `endpoint` if it is a local http URL where nothing listens, else None."""
    parts = urlsplit(endpoint or "")
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK:
        return None
    port = parts.port or 80
    return None if _is_listening(parts.hostname, port) else port


@contextmanager
def local_emulator(endpoint: str | None, time_scale: float | None = None) -> Iterator[float | None]:
    """Serve the emulator at `endpoint` if it is a local http URL where nothing listens.

    Yields the emulator's time scale (`time_scale`, else `local_time_scale()`) when it started one,
    else None (nothing to do).
    """
    port = unserved_port(endpoint)
    if port is None:
        yield None
        return
    # Imported here: the emulator (FastAPI, uvicorn, PyAV) is heavy and most commands never need it.
    from sorastudio.emulator.config import EmulatorConfig
    from sorastudio.emulator.server import running_server

    scale = local_time_scale() if time_scale is None else check_time_scale(time_scale)
    # No seed: the emulator picks a fresh one, so its ids never collide with an earlier run's.
    config = EmulatorConfig(time_scale=scale)
    with ExitStack() as stack:
        try:
            stack.enter_context(running_server(config, port=port))
        except (RuntimeError, OSError) as exc:
            raise SorastudioError(
                f"the built-in emulator profile points at {endpoint}, where nothing listens, and an "
                f"emulator could not be started there ({exc}): run `sorastudio emulator` in another terminal"
            ) from exc
        yield scale


__all__ = ["LOCAL_TIME_SCALE", "emulator_endpoint", "local_emulator", "local_time_scale", "unserved_port"]
