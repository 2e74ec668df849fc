"""The web API: a model the profile cannot run is a 422 with nothing stored; remote delete really deletes
at the emulator; profiles take creates- and requests-per-minute from the Settings form."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from sorastudio.media import generation_dir
from sorastudio.store.models import Generation
from tests.web.conftest import EMULATOR_KEY, RecordingClient, create, wait_done


def _remote_url(client: RecordingClient, generation_id: str) -> str:
    """Where the emulator serves this generation's video (the API does not show remote ids)."""
    studio = client.app.state.studio  # type: ignore[attr-defined]
    with studio.store.session() as session:
        remote_id = session.scalar(select(Generation.remote_id).where(Generation.id == generation_id))
    assert remote_id
    endpoint = client.get("/api/profiles").json()[0]["endpoint"]
    return f"{endpoint}/openai/v1/videos/{remote_id}"


def test_a_model_the_profile_cannot_run_is_refused_and_nothing_stored(client: RecordingClient) -> None:
    fields = {"prompt": "a boat", "model": "sora", "size": "480x480", "seconds": "2"}

    response = client.post("/api/generations", data=fields)
    estimate = client.post("/api/estimate", json={"model": "sora", "size": "480x480", "seconds": 2})

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "model"
    assert "model=sora cannot run on profile 'emulator'" in body["detail"]
    assert "azure_videos" in body["detail"] and "sora-2 or sora-2-pro" in body["detail"]
    assert estimate.status_code == 422 and estimate.json()["field"] == "model"
    assert client.get("/api/generations").json()["items"] == []
    assert all(row["reserved"] == "0.0000" for row in client.get("/api/costs").json()["by_model"])


def test_remote_delete_removes_the_video_at_the_emulator_and_the_local_files(
    client: RecordingClient,
) -> None:
    done = wait_done(client, create(client, "a paper boat", seconds=4)["id"])
    assert done["status"] == "completed", done
    remote = _remote_url(client, done["id"])
    ask = {"headers": {"api-key": EMULATOR_KEY}, "params": {"api-version": "preview"}}
    assert httpx.get(remote, **ask).status_code == 200  # type: ignore[arg-type]
    folder = generation_dir(done["id"])
    assert folder.is_dir()

    deleted = client.delete(f"/api/generations/{done['id']}", params={"remote": "true"})

    assert deleted.status_code == 200, deleted.text
    gone = httpx.get(remote, **ask)  # type: ignore[arg-type]
    assert gone.status_code == 404 and "deleted" in gone.text
    assert not folder.exists()
    assert client.get(f"/api/generations/{done['id']}").status_code == 404


def test_local_delete_keeps_the_video_at_the_emulator(client: RecordingClient) -> None:
    done = wait_done(client, create(client, "a paper kite", seconds=4)["id"])
    remote = _remote_url(client, done["id"])

    assert client.delete(f"/api/generations/{done['id']}").status_code == 200

    kept = httpx.get(remote, headers={"api-key": EMULATOR_KEY}, params={"api-version": "preview"})
    assert kept.status_code == 200 and not generation_dir(done["id"]).exists()


def test_settings_form_sets_creates_and_requests_per_minute(client: RecordingClient) -> None:
    form = client.get("/settings").text
    assert 'name="creates_per_minute"' in form and 'name="requests_per_minute"' in form
    endpoint = client.get("/api/profiles").json()[0]["endpoint"]
    base = {"api_kind": "azure_videos", "endpoint": endpoint, "api_key": EMULATOR_KEY, "deployment": "sora-2"}

    # settings.js sends the form's values as strings, empty ones as null.
    slow = client.post(
        "/api/profiles", json=base | {"name": "slow", "creates_per_minute": "1", "requests_per_minute": "30"}
    )
    plain = client.post(
        "/api/profiles",
        json=base | {"name": "plain", "creates_per_minute": None, "requests_per_minute": None},
    )
    free = client.post(
        "/api/profiles", json=base | {"name": "free", "creates_per_minute": 0, "requests_per_minute": 0}
    )
    bad = client.post("/api/profiles", json=base | {"name": "bad", "requests_per_minute": -1})

    assert slow.status_code == 201, slow.text
    assert (slow.json()["creates_per_minute"], slow.json()["requests_per_minute"]) == (1, 30)
    assert (plain.json()["creates_per_minute"], plain.json()["requests_per_minute"]) == (2, 60)  # defaults
    assert (free.json()["creates_per_minute"], free.json()["requests_per_minute"]) == (0, 0)
    assert bad.status_code == 422 and bad.json()["field"] == "requests_per_minute"
    listed = {p["name"]: p for p in client.get("/api/profiles").json()}
    assert listed["slow"]["requests_per_minute"] == 30 and "bad" not in listed
    page = client.get("/settings").text
    row = page[page.index('data-profile="slow"') :]
    assert "1 creates/min · 30 requests/min" in row[: row.index("</tr>")]
