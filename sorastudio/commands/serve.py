"""`serve`: the web app with the engine in the same process (and the built-in emulator when needed)."""

from __future__ import annotations

import threading
import webbrowser
from typing import Annotated

import typer
import uvicorn

from sorastudio.commands.runtime import cli_errors, err, out
from sorastudio.web.settings import PASSWORD_ENV, WebSettings

PANEL = "Web"
GRACEFUL_SHUTDOWN = 3.0  # seconds: open event streams are closed after this on Ctrl-C


def serve(
    host: Annotated[
        str, typer.Option(help=f"Interface to bind; anything but loopback requires {PASSWORD_ENV}.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the studio in your browser once it is up.")
    ] = True,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    """Start the web studio: Create, Queue, Gallery, Costs, Settings, and the JSON API at /docs."""
    from sorastudio.web.app import create_app

    settings = WebSettings.from_env(host=host, port=port).check()
    app = create_app(settings=settings)
    out.print(
        f"sorastudio is at [bold]{settings.url}[/bold]  (API docs: {settings.url}/docs)", highlight=False
    )
    if settings.login_required:
        err.print(
            f"Reachable from other machines: sign in with the password in {PASSWORD_ENV}.", highlight=False
        )
    if open_browser:
        # After a moment, so the first page load finds the server listening.
        threading.Timer(1.0, webbrowser.open, args=(settings.url,)).start()
    uvicorn.run(
        app, host=host, port=port, log_level=log_level.lower(), timeout_graceful_shutdown=GRACEFUL_SHUTDOWN
    )


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(cli_errors(serve))


def _register_on_cli() -> None:
    # Imported by the last line of cli.py; importing cli here is safe because `app` exists by then.
    from sorastudio import cli

    register(cli.app)


_register_on_cli()

__all__ = ["register", "serve"]
