"""What every command shares: the two consoles, the one error wrapper, and running against a studio.

Exit codes (documented in `sorastudio --help`):
    0   done
    1   the operation failed: refused by a budget, provider error, job failed/expired, timeout, or a bug
    2   the input is wrong: a usage error (unknown option, bad choice) or a `ValidationError`
  130   interrupted (Ctrl-C)
  141   the reader of the output went away (`sorastudio list | head`): stopped quietly, as on SIGPIPE

Unexpected exceptions (bugs) are shown as one red line; with `SORASTUDIO_RAISE_ERRORS=1` they are
re-raised with their traceback instead (as llm's `LLM_RAISE_ERRORS`), which the tests set.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import io
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape

from sorastudio.engine.clock import SystemClock
from sorastudio.errors import SorastudioError, ValidationError
from sorastudio.local_emulator import emulator_endpoint, local_emulator, unserved_port
from sorastudio.studio import AsyncStudio

RAISE_ERRORS_ENV = "SORASTUDIO_RAISE_ERRORS"
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a command ended by SIGPIPE


class CliConsole(Console):
    """A Rich console that leaves a closed pipe to `cli_errors` (Rich alone would exit 1), so every way
    of writing output ends the same way."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


out = CliConsole(soft_wrap=True)  # results
err = CliConsole(stderr=True, soft_wrap=True)  # errors, progress and chatter (keeps --json stdout clean)

P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print `error: message` in red on stderr and exit with `code`."""
    err.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


def cli_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """The one CLI error wrapper: `SorastudioError` → red message + exit 1 (2 for invalid input)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # typer/click report these (typer's own Exit is not click's since typer 0.20)
        except ValidationError as exc:
            fail(str(exc), EXIT_INVALID)
        except SorastudioError as exc:
            fail(str(exc), EXIT_FAILED)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError:
            # Whoever read our output (`| head`) has stopped: nothing is wrong and no one is listening.
            _silence_stdout()
            raise typer.Exit(code=EXIT_BROKEN_PIPE) from None
        except Exception as exc:
            if os.environ.get(RAISE_ERRORS_ENV, "") not in ("", "0"):
                raise
            fail(
                f"unexpected {type(exc).__name__}: {exc} "
                f"(this is a bug; set {RAISE_ERRORS_ENV}=1 to see the traceback)",
                EXIT_FAILED,
            )

    return wrapper


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's flush of what is still buffered cannot fail again
    (it would print "Exception ignored … BrokenPipeError" on the way out)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):  # not a real file (tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def run(
    work: Callable[[AsyncStudio], Coroutine[Any, Any, T]],
    *,
    network: bool = False,
    profile: str | None = None,
    generation: str | None = None,
    local_ok: bool = True,
) -> T:
    """Run `work(studio)` on a fresh event loop with an `AsyncStudio` for this command.

    `network=True` means the command may reach the provider of `profile` (else of the profile that
    made `generation`, else the default profile).
    When that is the built-in emulator profile and nothing listens at its local address, an emulator
    runs in this process for the duration of the command (see `local_emulator`), and the engine's
    clock gets the emulator's time scale. `local_ok=False` refuses that instead (for work that needs
    a job made by an earlier command, which a fresh in-process emulator does not know).
    """

    async def main() -> T:
        async with AsyncStudio() as studio:
            endpoint = None
            if network:
                name = profile or ((await studio.get(generation)).profile if generation else None)
                endpoint = emulator_endpoint(studio.profiles, name)
                if not local_ok and unserved_port(endpoint) is not None:
                    raise SorastudioError(
                        f"nothing listens at {endpoint}, the built-in emulator profile's address: the "
                        "emulator started for one command forgets its videos when the command ends, so "
                        "this needs `sorastudio emulator` running (in another terminal) from the first "
                        "generation on"
                    )
            with local_emulator(endpoint) as scale:
                if scale is not None:
                    studio.clock = SystemClock(scale)  # the engine must wait on the emulator's time
                return await work(studio)

    return asyncio.run(main())


__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "RAISE_ERRORS_ENV",
    "CliConsole",
    "cli_errors",
    "err",
    "fail",
    "out",
    "run",
]
