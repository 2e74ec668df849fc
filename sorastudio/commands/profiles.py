"""`profile add/list/test/remove`: named provider connections.

Keys are taken from a hidden prompt, an environment variable (`--key-env VAR`) or stdin (`--key-stdin`),
never from a command-line argument (it would land in shell history and `ps`). They are encrypted at
rest by the store and never printed back: listings say only whether a key is stored.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sorastudio.commands.generate import Json
from sorastudio.commands.output import print_json, print_table
from sorastudio.commands.runtime import cli_errors, out, run
from sorastudio.engine.providers import build_provider, resolve_profile
from sorastudio.errors import ProviderError, SorastudioError, TransportError, ValidationError
from sorastudio.secrets import Secret
from sorastudio.store.models import ApiKind, AuthMethod
from sorastudio.store.profiles import (
    DEFAULT_AUTH,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_RUNNING_CAP,
    EMULATOR_PROFILE,
    ProfileInfo,
)
from sorastudio.studio import AsyncStudio

PANEL = "Setup"
TEST_TIMEOUT = 30.0

profile_app = typer.Typer(
    help="Provider connections (endpoint, deployment, key, limits).", no_args_is_help=True
)


def _read_key(key_env: str | None, key_stdin: bool, name: str) -> Secret:
    if key_env is not None:
        value = os.environ.get(key_env, "")
        if not value.strip():
            raise ValidationError(
                f"--key-env {key_env}: that environment variable is not set or empty",
                field="key_env",
                value=key_env,
            )
        return Secret(value.strip())
    value = sys.stdin.readline() if key_stdin else typer.prompt(f"API key for {name}", hide_input=True)
    if not value.strip():
        raise ValidationError("the API key is empty", field="api_key", value="(hidden)")
    return Secret(value.strip())


@profile_app.command("add")
@cli_errors
def add(
    name: Annotated[str, typer.Argument(help="A short name, e.g. azure-east.")],
    api: Annotated[
        ApiKind,
        typer.Option(
            help="azure_videos (Azure Sora 2), azure_sora1, openai, or compatible (any /v1/videos)."
        ),
    ],
    endpoint: Annotated[str, typer.Option(help="Base URL, e.g. https://NAME.openai.azure.com.")],
    deployment: Annotated[str | None, typer.Option(help="Azure deployment name.")] = None,
    model: Annotated[str | None, typer.Option(help="Default model for this profile.")] = None,
    api_version: Annotated[str | None, typer.Option(help="Azure api-version, if needed.")] = None,
    auth: Annotated[
        AuthMethod | None, typer.Option(help="api-key, bearer or entra (default: the API's usual one).")
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", metavar="VAR", help="Read the key from this environment variable."),
    ] = None,
    key_stdin: Annotated[bool, typer.Option("--key-stdin", help="Read the key from standard input.")] = False,
    no_key: Annotated[bool, typer.Option("--no-key", help="A server that needs no key.")] = False,
    running_cap: Annotated[
        int, typer.Option(min=1, help="Jobs running at once on this resource.")
    ] = DEFAULT_RUNNING_CAP,
    creates_per_minute: Annotated[
        int | None, typer.Option(min=0, help="Creates a minute (0 = no limit; default 2 for Sora 2).")
    ] = None,
    requests_per_minute: Annotated[
        int, typer.Option(min=0, help="Requests a minute (0 = no limit).")
    ] = DEFAULT_REQUESTS_PER_MINUTE,
) -> None:
    """Add a profile. The key is asked for with hidden input unless --key-env or --key-stdin is given."""
    method = auth or DEFAULT_AUTH[api]
    key = None
    if method is not AuthMethod.ENTRA and not no_key:
        key = _read_key(key_env, key_stdin, name)

    async def work(studio: AsyncStudio) -> ProfileInfo:
        return studio.profiles.add(
            name,
            api_kind=api,
            endpoint=endpoint,
            api_key=key,
            auth_method=method,
            deployment=deployment,
            model=model,
            api_version=api_version,
            running_cap=running_cap,
            creates_per_minute=creates_per_minute,
            requests_per_minute=requests_per_minute,
        )

    info = run(work)
    stored = "key stored encrypted" if info.has_key else "no key stored"
    out.print(escape(f"Added profile {info.name} ({info.api_kind.value}, {info.endpoint}; {stored})."))
    out.print(escape(f"Check it with `sorastudio profile test {info.name}`."), highlight=False)


def _profile_json(p: ProfileInfo, default: str | None) -> dict[str, object]:
    return {
        "name": p.name,
        "default": p.name == default,
        "api": p.api_kind.value,
        "endpoint": p.endpoint,
        "deployment": p.deployment,
        "model": p.model,
        "api_version": p.api_version,
        "auth": p.auth_method.value,
        "has_key": p.has_key,
        "running_cap": p.running_cap,
        "creates_per_minute": p.creates_per_minute,
        "requests_per_minute": p.requests_per_minute,
        "created_at": p.created_at.isoformat(),
    }


def _default_name(profiles: list[ProfileInfo]) -> str | None:
    # The library's rule (store.profiles.default_profile): the oldest non-emulator profile, else the emulator.
    candidates = [p for p in profiles if p.name != EMULATOR_PROFILE] or profiles
    return candidates[0].name if candidates else None


@profile_app.command("list")
@cli_errors
def list_(as_json: Json = False) -> None:
    """Your profiles (never their keys)."""

    async def work(studio: AsyncStudio) -> list[ProfileInfo]:
        return studio.profiles.list()

    profiles = run(work)
    default = _default_name(profiles)
    if as_json:
        print_json([_profile_json(p, default) for p in profiles])
        return
    if not profiles:
        out.print("No profiles yet: the first generation uses the built-in emulator profile.")
        out.print("Add your own with `sorastudio profile add NAME --api azure_videos --endpoint URL`.")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "NAME", "API", "ENDPOINT", "DEPLOYMENT", "AUTH", "KEY", "LIMITS"):
        table.add_column(column, no_wrap=column in ("NAME", "API"))
    for p in profiles:
        limits = f"{p.running_cap} running, {p.creates_per_minute or '∞'} creates/min"
        table.add_row(
            "*" if p.name == default else "",
            escape(p.name),
            p.api_kind.value,
            escape(p.endpoint),
            escape(p.deployment or "-"),
            p.auth_method.value,
            "stored" if p.has_key else "-",
            limits,
        )
    print_table(table)
    out.print("* used when --profile is not given", highlight=False)


@profile_app.command("test")
@cli_errors
def test(name: Annotated[str, typer.Argument(help="The profile to try.")]) -> None:
    """Try a profile: reach its endpoint and list recent jobs with its credentials (creates nothing)."""

    async def work(studio: AsyncStudio) -> tuple[ProfileInfo, int]:
        info = studio.profiles.get(name)
        with studio.store.session() as session:
            provider = build_provider(session, resolve_profile(session, name), sleep=studio.clock.sleep)
        try:
            jobs = await asyncio.wait_for(provider.list(limit=5), TEST_TIMEOUT)
        except ProviderError as exc:
            hint = ""
            if name == EMULATOR_PROFILE and isinstance(exc, TransportError):
                hint = (
                    " (nothing listens there: `sorastudio generate --wait` starts a built-in emulator by "
                    "itself, or run `sorastudio emulator`)"
                )
            raise SorastudioError(f"profile {name} failed its test: {exc}{hint}") from exc
        except TimeoutError:
            raise SorastudioError(
                f"profile {name} failed its test: no answer within {TEST_TIMEOUT:g} s"
            ) from None
        finally:
            await provider.aclose()
        return info, len(jobs)

    info, count = run(work)
    out.print(
        escape(
            f"OK: {info.endpoint} answered and accepted the credentials of profile {info.name} "
            f"({count} recent job{'s' if count != 1 else ''} visible)."
        ),
        highlight=False,
    )


@profile_app.command("remove")
@cli_errors
def remove(
    name: Annotated[str, typer.Argument(help="The profile to remove.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a profile and its stored key (refused while it has unfinished generations)."""
    if not yes:
        typer.confirm(f"Remove profile {name} and its stored key?", abort=True)

    async def work(studio: AsyncStudio) -> None:
        studio.profiles.remove(name)

    run(work)
    out.print(escape(f"Removed profile {name}."), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(profile_app, name="profile", rich_help_panel=PANEL)


__all__ = ["register"]
