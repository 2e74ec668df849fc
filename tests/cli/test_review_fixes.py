"""`-p emulator` in a fresh home, a closed output pipe, and `delete --remote` checked at the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sorastudio.local_emulator import emulator_endpoint
from sorastudio.media import generation_dir
from sorastudio.studio import AsyncStudio
from tests.cli.conftest import Invoke, as_json, generation_count

KEY = "emulator-key"


def test_the_emulator_profile_by_name_is_created_on_first_use(invoke: Invoke, cli_env: str) -> None:
    result = invoke("generate", "a boat", "-p", "emulator", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["total"] == "0.4000"  # the emulator profile's sora-2, 4 s
    (profile,) = as_json(invoke("profile", "list", "--json"))
    assert (profile["name"], profile["endpoint"], profile["api"]) == (
        "emulator",
        cli_env,
        "azure_videos",
    )
    assert generation_count() == 0


def test_the_emulator_profile_by_name_next_to_an_own_profile(invoke: Invoke, cli_env: str) -> None:
    added = invoke(
        "profile", "add", "mine", "--api", "azure_videos", "--endpoint", "https://example.invalid",
        "--deployment", "sora-2", "--key-stdin", input="k\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    queued = invoke("generate", "a boat", "-p", "emulator", "-t", "4", "--json")  # runs on a local emulator
    assert queued.exit_code == 0, queued.output
    assert as_json(queued)["status"] == "completed" and as_json(queued)["profile"] == "emulator"
    assert {p["name"] for p in as_json(invoke("profile", "list", "--json"))} == {"mine", "emulator"}


@pytest.mark.anyio
async def test_the_library_creates_the_emulator_profile_when_named(isolated_home: Path) -> None:
    url = "http://127.0.0.1:9"
    async with AsyncStudio(emulator_url=url) as studio:
        studio.profiles.add("mine", api_kind="openai", endpoint="https://api.openai.com", api_key="k")
        assert emulator_endpoint(studio.profiles, "emulator") is not None  # it will be created there
        cost = await studio.estimate(profile="emulator", seconds=8)
        assert cost.total == 8 * cost.rate_per_second
        assert studio.profiles.get("emulator").endpoint == url
        assert emulator_endpoint(studio.profiles, "emulator") == url
        assert emulator_endpoint(studio.profiles, None) is None  # the default is still the user's own


def _reader_that_leaves(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout a pipe whose reader is gone before anything is written (`| head -c0`)."""
    env = os.environ | {"SORASTUDIO_RAISE_ERRORS": ""}  # as a user runs it
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "sorastudio", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [("list", "--json"), ("list",), ("cost",), ("profile", "list")])
def test_a_closed_output_pipe_ends_quietly(args: tuple[str, ...], invoke: Invoke) -> None:
    assert invoke("generate", "a kite", "-t", "4", "--no-wait").exit_code == 0  # something to list
    result = _reader_that_leaves(*args)
    assert result.returncode == 141, result.stderr  # as a shell reports SIGPIPE
    assert result.stderr == ""  # no "unexpected BrokenPipeError", no "Exception ignored"


def test_head_reads_the_start_of_the_list(invoke: Invoke) -> None:
    for n in range(3):
        assert invoke("generate", f"a kite {n}", "-t", "4", "--no-wait").exit_code == 0
    env = os.environ | {"SORASTUDIO_RAISE_ERRORS": ""}
    with subprocess.Popen(
        [sys.executable, "-m", "sorastudio", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as cli:
        assert cli.stdout is not None and cli.stderr is not None
        assert cli.stdout.read(10) == b"[\n  {\n    "
        cli.stdout.close()  # `head -c 10` has what it wants and leaves
        errors = cli.stderr.read().decode()
        code = cli.wait(timeout=60)
    assert code in (0, 141) and errors == ""


def test_delete_remote_removes_the_video_at_the_emulator(
    invoke: Invoke, served_emulator: str, isolated_home: Path
) -> None:
    made = invoke("generate", "a paper boat", "-t", "4", "--json")
    assert made.exit_code == 0, made.output
    info = as_json(made)
    remote = f"{served_emulator}/openai/v1/videos/{info['remote_id']}"
    headers = {"api-key": KEY}
    params = {"api-version": "preview"}
    assert httpx.get(remote, headers=headers, params=params).status_code == 200
    folder = generation_dir(info["id"])
    assert folder.is_dir() and any(folder.iterdir())

    result = invoke("delete", info["id"], "--remote", "--yes")

    assert result.exit_code == 0, result.output
    gone = httpx.get(remote, headers=headers, params=params)
    assert gone.status_code == 404 and "deleted" in gone.text
    assert httpx.get(f"{remote}/content", headers=headers, params=params).status_code == 404
    assert not folder.exists()
    assert "does not exist" in invoke("show", info["id"]).stderr  # the row went too
