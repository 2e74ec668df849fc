"""Profiles keep API keys encrypted at rest and out of every listing, repr and log."""

from __future__ import annotations

import os
import pickle
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from sorastudio import secrets
from sorastudio.errors import SorastudioError, ValidationError
from sorastudio.secrets import Secret
from sorastudio.store.db import Store
from sorastudio.store.models import Generation, Profile
from sorastudio.store.profiles import (
    EMULATOR_KEY,
    EMULATOR_PROFILE,
    add_profile,
    api_key,
    default_profile,
    get_profile,
    list_profiles,
    remove_profile,
)
from tests.store.factories import generation

KEY = "sk-test-0123456789abcdefSECRET"


def _add(store: Store, name: str = "azure", **kw: object) -> None:
    values: dict[str, object] = {
        "api_kind": "azure_videos",
        "endpoint": "https://res.openai.azure.com",
        "api_key": KEY,
        "deployment": "sora-2",
    }
    values.update(kw)
    with store.write() as session:
        add_profile(session, name, **values)  # type: ignore[arg-type]


def _database_bytes(store: Store) -> bytes:
    path = Path(str(store.engine.url.database))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_key_is_encrypted_at_rest_and_decrypts(sqlite_store: Store) -> None:
    _add(sqlite_store)
    with sqlite_store.session() as session:
        blob = session.scalar(select(Profile.api_key_encrypted))
    assert blob and KEY.encode() not in blob
    assert KEY.encode() not in _database_bytes(sqlite_store)
    with sqlite_store.session() as session:
        secret = api_key(session, "azure")
    assert isinstance(secret, Secret) and secret.reveal() == KEY


def test_key_file_is_owner_only_and_reused(sqlite_store: Store) -> None:
    _add(sqlite_store)
    path = secrets.key_path()
    assert path.parent == Path(os.environ["SORASTUDIO_HOME"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    _add(sqlite_store, "second")
    assert path.read_bytes() == before


def test_concurrent_first_use_agrees_on_one_key() -> None:
    tokens: list[bytes] = []
    barrier = threading.Barrier(6)

    def run() -> None:
        barrier.wait(timeout=10)
        tokens.append(secrets.encrypt("value"))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(tokens) == 6
    assert {secrets.decrypt(token) for token in tokens} == {"value"}
    assert not [p for p in secrets.key_path().parent.iterdir() if p.name.endswith(".tmp")]


def test_listing_and_reprs_never_show_the_key(sqlite_store: Store) -> None:
    _add(sqlite_store)
    _add(sqlite_store, "entra", auth_method="entra", api_key=None)
    with sqlite_store.session() as session:
        infos = list_profiles(session)
        row = session.scalar(select(Profile).where(Profile.name == "azure"))
        secret = api_key(session, "azure")
        assert api_key(session, "entra") is None
    assert [(p.name, p.has_key) for p in infos] == [("azure", True), ("entra", False)]
    shown = " ".join(
        [repr(infos), str(infos), repr(row), repr(secret), str(secret), f"{secret}", f"{secret!r}"]
    )
    assert KEY not in shown
    assert "********" in str(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_limits_default_by_api_kind(sqlite_store: Store) -> None:
    _add(sqlite_store, "sora2")
    _add(sqlite_store, "sora1", api_kind="azure_sora1")
    _add(sqlite_store, "custom", api_kind="compatible", running_cap=5, creates_per_minute=7, api_key=None)
    with sqlite_store.session() as session:
        by_name = {p.name: p for p in list_profiles(session)}
    assert (by_name["sora2"].running_cap, by_name["sora2"].creates_per_minute) == (2, 2)
    assert by_name["sora2"].requests_per_minute == 60
    assert by_name["sora2"].auth_method == "api-key"
    assert by_name["sora1"].creates_per_minute == 0
    assert (by_name["custom"].running_cap, by_name["custom"].creates_per_minute) == (5, 7)
    assert by_name["custom"].auth_method == "bearer" and not by_name["custom"].has_key


@pytest.mark.parametrize(
    ("kw", "field", "message"),
    [
        ({"api_kind": "azure"}, "api_kind", "azure_sora1, azure_videos, openai, compatible"),
        ({"endpoint": "res.openai.azure.com"}, "endpoint", "http:// or https://"),
        ({"api_key": None}, "api_key", "required"),
        ({"auth_method": "entra"}, "api_key", "not allowed"),
        ({"auth_method": "basic"}, "auth_method", "api-key, bearer, entra"),
        ({"running_cap": 0}, "running_cap", "at least 1"),
        ({"creates_per_minute": -1}, "creates_per_minute", "0 for unlimited"),
    ],
)
def test_bad_input_names_field_and_allowed(
    sqlite_store: Store, kw: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        _add(sqlite_store, **kw)
    assert caught.value.field == field
    assert KEY not in str(caught.value)


def test_names_are_unique_and_unknown_names_list_known_ones(sqlite_store: Store) -> None:
    _add(sqlite_store)
    with pytest.raises(ValidationError, match="taken"):
        _add(sqlite_store)
    with pytest.raises(ValidationError, match="name"):
        _add(sqlite_store, "has space")
    with (
        sqlite_store.session() as session,
        pytest.raises(ValidationError, match="known profiles are azure") as e,
    ):
        get_profile(session, "nope")
    assert e.value.allowed == ("azure",)


def test_remove_refuses_while_generations_are_unfinished(sqlite_store: Store) -> None:
    _add(sqlite_store)
    with sqlite_store.write() as session:
        profile_id = get_profile(session, "azure").id
        session.add(generation(profile_id=profile_id, status="running"))
    with sqlite_store.write() as session, pytest.raises(ValidationError, match="1 unfinished"):
        remove_profile(session, "azure")
    with sqlite_store.write() as session:
        session.scalar(select(Generation)).status = "completed"  # type: ignore[union-attr]
    with sqlite_store.write() as session:
        remove_profile(session, "azure")
    with sqlite_store.session() as session:
        assert list_profiles(session) == []
        # History stays; it just no longer points at the profile.
        assert session.scalar(select(Generation.profile_id)) is None


def test_emulator_profile_when_none_exists(sqlite_store: Store) -> None:
    with sqlite_store.write() as session:
        first = default_profile(session, "http://127.0.0.1:8765")
    assert first.name == EMULATOR_PROFILE and first.endpoint == "http://127.0.0.1:8765"
    with sqlite_store.write() as session:
        assert api_key(session, EMULATOR_PROFILE).reveal() == EMULATOR_KEY  # type: ignore[union-attr]
        assert default_profile(session, "http://ignored").id == first.id  # not created twice
    _add(sqlite_store)
    with sqlite_store.write() as session:
        assert default_profile(session, "http://127.0.0.1:8765").name == "azure"


def test_key_file_replaced_gives_a_clear_error(sqlite_store: Store) -> None:
    _add(sqlite_store)
    secrets.key_path().unlink()
    with sqlite_store.session() as session, pytest.raises(SorastudioError, match="cannot be decrypted") as e:
        api_key(session, "azure")
    assert KEY not in str(e.value)


def test_secret_compares_without_revealing() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert not Secret("") and Secret("x")
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
