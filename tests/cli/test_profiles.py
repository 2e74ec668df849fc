"""`profile add/list/test/remove`: keys come in hidden, are stored encrypted and never come back out."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Invoke, as_json

KEY = "sk-test-3f9c1e7a5b2d4c6e8f0a1b2c3d4e5f60"


def home_bytes(home: Path) -> bytes:
    """Every file of the home except media: the database, its WAL and the key file."""
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file() and "media" not in p.parts)


def test_added_key_never_appears_in_output_or_database(invoke: Invoke, isolated_home: Path) -> None:
    result = invoke(
        "profile", "add", "azure-east", "--api", "azure_videos",
        "--endpoint", "https://east.openai.azure.com", "--deployment", "sora-2",
        input=KEY + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert KEY not in result.output  # the prompt hides the input
    listing = invoke("profile", "list")
    assert "azure-east" in listing.stdout and "stored" in listing.stdout
    assert KEY not in listing.output
    (profile,) = as_json(invoke("profile", "list", "--json"))
    assert profile["name"] == "azure-east" and profile["has_key"] is True and profile["default"] is True
    assert KEY not in str(profile)
    assert KEY.encode() not in home_bytes(isolated_home / "sorastudio")
    assert b"east.openai.azure.com" in home_bytes(isolated_home / "sorastudio")  # we did read the database


def test_key_from_an_environment_variable(invoke: Invoke, isolated_home: Path) -> None:
    result = invoke(
        "profile", "add", "openai", "--api", "openai", "--endpoint", "https://api.openai.com",
        "--key-env", "MY_OPENAI_KEY", env={"MY_OPENAI_KEY": KEY},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert KEY not in result.output
    assert KEY.encode() not in home_bytes(isolated_home / "sorastudio")
    missing = invoke(
        "profile", "add", "other", "--api", "openai", "--endpoint", "https://api.openai.com",
        "--key-env", "NOT_SET_ANYWHERE",
    )  # fmt: skip
    assert missing.exit_code == 2 and "NOT_SET_ANYWHERE" in missing.stderr


def test_profile_validation_errors(invoke: Invoke) -> None:
    bad = invoke("profile", "add", "x", "--api", "azure_videos", "--endpoint", "east.azure.com", input="k\n")
    assert bad.exit_code == 2 and "endpoint" in bad.stderr
    assert as_json(invoke("profile", "list", "--json")) == []


def test_profile_test_against_the_emulator(invoke: Invoke, served_emulator: str) -> None:
    added = invoke(
        "profile", "add", "local", "--api", "azure_videos", "--endpoint", served_emulator,
        "--deployment", "sora-2", "--key-stdin", input="emulator-key\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    ok = invoke("profile", "test", "local")
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.stdout
    wrong = invoke(
        "profile", "add", "wrong", "--api", "azure_videos", "--endpoint", served_emulator,
        "--deployment", "sora-2", "--key-stdin", input="not-the-key\n",
    )  # fmt: skip
    assert wrong.exit_code == 0
    refused = invoke("profile", "test", "wrong")
    assert refused.exit_code == 1 and "failed its test" in refused.stderr
    assert "not-the-key" not in refused.output


def test_remove_profile(invoke: Invoke) -> None:
    invoke("profile", "add", "p1", "--api", "compatible", "--endpoint", "http://127.0.0.1:9", "--no-key")
    assert invoke("profile", "remove", "p1", "--yes").exit_code == 0
    assert as_json(invoke("profile", "list", "--json")) == []
    gone = invoke("profile", "remove", "p1", "--yes")
    assert gone.exit_code == 2 and "does not exist" in gone.stderr
