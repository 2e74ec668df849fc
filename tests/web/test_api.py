"""The JSON API against a time-scaled emulator: create → complete → media; errors; money; lineage."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from sorastudio.catalog import DEFAULT_CATALOG
from tests.web.conftest import RecordingClient, create, wait_done


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def test_text_to_video_completes_and_media_are_served_with_their_types(client: RecordingClient) -> None:
    estimate = client.post("/api/estimate", json={"model": "sora-2", "size": "1280x720", "seconds": 4}).json()
    assert estimate["display"] == "$0.40"
    created = create(client, "a red kite over a grassy park", model="sora-2", size="1280x720", seconds=4)
    assert created["status"] == "queued" and created["estimated_cost"] == "0.4000"

    done = wait_done(client, created["id"])

    assert done["status"] == "completed", done
    assert Decimal(done["actual_cost"]) == Decimal(estimate["total"])  # estimate shown == ledger
    video = client.get(done["video_url"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert client.get(done["thumbnail_url"]).headers["content-type"] == "image/webp"
    assert client.get(done["spritesheet_url"]).headers["content-type"] == "image/jpeg"
    attachment = client.get(done["video_url"], params={"download": "true"})
    assert attachment.headers["content-disposition"].startswith("attachment")
    assert "path" not in str(done["assets"])  # files are reached by id, never by a server path


def test_failed_job_costs_nothing(client: RecordingClient) -> None:
    created = create(client, "a scene full of gore", seconds=4)  # the emulator's moderation word

    done = wait_done(client, created["id"])

    assert done["status"] == "failed"
    assert done["error"]
    assert Decimal(done["actual_cost"]) == 0
    by_model = client.get("/api/costs").json()["by_model"]
    assert [(row["key"], row["actual"], row["reserved"]) for row in by_model] == [
        ("sora-2", "0.0000", "0.0000")
    ]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"prompt": "x", "model": "sora-2", "seconds": "5"}, "seconds", ["seconds=5", "4, 8 or 12"]),
        ({"prompt": "x", "model": "sora-9"}, "model", ["model=sora-9", "not in the catalog"]),
        ({"prompt": "x", "model": "sora-2", "size": "640x480"}, "size", ["size=640x480", "1280x720"]),
        ({"prompt": "x", "mode": "image"}, "image", ["image is missing"]),
        ({"prompt": "x", "mode": "remix"}, "remix_of", ["remix_of is missing"]),
        ({"prompt": "   "}, "prompt", ["prompt is empty"]),
        ({"prompt": "x", "profile": "nope"}, "profile", ["profile 'nope' does not exist"]),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_field(
    client: RecordingClient, fields: dict[str, str], field: str, words: list[str]
) -> None:
    response = client.post("/api/generations", data=fields)

    assert response.status_code in (404, 422), response.text
    body = response.json()
    assert body["field"] == field
    for word in words:
        assert word in body["detail"]
    assert client.get("/api/generations").json()["items"] == []  # nothing was stored


def test_form_type_errors_are_422_with_the_field(client: RecordingClient) -> None:
    response = client.post("/api/generations", data={"prompt": "x", "seconds": "four"})
    assert response.status_code == 422
    assert response.json()["field"] == "seconds"
    assert "seconds:" in response.json()["detail"]


def test_budget_exceeded_is_refused_clearly_and_estimate_warns_first(client: RecordingClient) -> None:
    budgets = client.put("/api/budgets", json={"scope": "day", "limit": "0.50"})
    assert budgets.status_code == 200, budgets.text

    estimate = client.post("/api/estimate", json={"model": "sora-2", "seconds": 8}).json()
    response = client.post(
        "/api/generations", data={"prompt": "a lighthouse", "model": "sora-2", "seconds": "8"}
    )

    assert "exceed today's budget" in estimate["budget_message"]
    assert "$0.80" in estimate["budget_message"]
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == "BudgetExceeded"
    assert "limit $0.50" in body["detail"] and "$0.80" in body["detail"]
    allowed = client.post("/api/estimate", json={"model": "sora-2", "seconds": 4}).json()
    assert allowed["budget_message"] is None


def test_the_form_offers_only_models_a_profile_can_run(client: RecordingClient) -> None:
    endpoint = client.get("/api/profiles").json()[0]["endpoint"]
    client.post(
        "/api/profiles",
        json={"name": "any", "api_kind": "azure_videos", "endpoint": endpoint, "api_key": "emulator-key"},
    )
    client.post(
        "/api/profiles",
        json={"name": "s1", "api_kind": "azure_sora1", "endpoint": endpoint, "api_key": "emulator-key"},
    )

    catalog = {p["name"]: p for p in client.get("/api/catalog").json()["profiles"]}
    sora1 = catalog["s1"]["models"][0]

    assert [m["model"] for m in catalog["emulator"]["models"]] == ["sora-2"]  # its deployment's model
    assert [m["model"] for m in catalog["any"]["models"]] == ["sora-2", "sora-2-pro"]  # /videos models only
    assert [m["model"] for m in catalog["s1"]["models"]] == ["sora"]
    assert sora1["modes"] == ["text", "image"] and sora1["audio"] is False
    assert sora1["max_variants"]["480x480"] == 4 and sora1["max_variants"]["1920x1080"] == 1
    assert sora1["seconds"] == list(range(1, 21))
    assert catalog["emulator"]["models"][0]["sizes"] == ["720x1280", "1280x720"]


def test_retiring_and_retired_models_are_flagged(make_client: Callable[..., RecordingClient]) -> None:
    soon = date.today() + timedelta(days=10)
    catalog = DEFAULT_CATALOG.with_retirements({"azure/sora-2": soon, "azure/sora-2-pro": date(2000, 1, 1)})
    client = make_client(catalog=catalog, run_engine=False)
    endpoint = client.get("/api/profiles").json()[0]["endpoint"]
    client.post(
        "/api/profiles",
        json={"name": "any", "api_kind": "azure_videos", "endpoint": endpoint, "api_key": "emulator-key"},
    )

    profiles = {p["name"]: p for p in client.get("/api/catalog").json()["profiles"]}
    models = {m["model"]: m for m in profiles["any"]["models"]}
    estimate = client.post("/api/estimate", json={"profile": "any", "model": "sora-2", "seconds": 4}).json()
    retired = client.post("/api/generations", data={"prompt": "x", "profile": "any", "model": "sora-2-pro"})

    assert list(models) == ["sora-2"]  # the Create form never offers a retired model
    assert f"retires on {soon.isoformat()} (in 10 days)" in models["sora-2"]["warnings"][0]
    assert estimate["warnings"] == models["sora-2"]["warnings"]
    assert retired.status_code == 422
    assert "was retired on 2000-01-01" in retired.json()["detail"]
    assert "in 10 days" in client.get("/create").text  # in the catalog data the form shows as a warning


def test_list_filters_search_and_keyset_pages(make_client: Callable[..., RecordingClient]) -> None:
    client = make_client(run_engine=False)  # everything stays queued: a stable list
    ids = {
        create(client, "aerial shot of a lighthouse in a storm", model="sora-2")["id"]: "sora-2",
        create(client, "close-up of a cat by a window", model="sora-2-pro")["id"]: "sora-2-pro",
        create(client, "wide shot of lighthouses at dusk", model="sora-2-pro")["id"]: "sora-2-pro",
        create(client, "tracking shot of a train in mountains", model="sora-2")["id"]: "sora-2",
        create(client, "a red kite, golden hour", model="sora-2")["id"]: "sora-2",
    }

    walked: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/generations", params=params).json()
        walked += [g["id"] for g in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    search = client.get("/api/generations", params={"q": "lighthouse"}).json()["items"]
    first = client.get("/api/generations", params={"q": "shot", "limit": 2}).json()
    second = client.get(
        "/api/generations", params={"q": "shot", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    narrowed = client.get("/api/generations", params={"q": "lighthouse", "model": "sora-2-pro"}).json()[
        "items"
    ]
    by_model = client.get("/api/generations", params={"model": "sora-2-pro"}).json()["items"]
    future = client.get("/api/generations", params={"since": "2999-01-01"}).json()["items"]
    today_items = client.get("/api/generations", params={"status": "queued", "mode": "text"}).json()["items"]

    assert walked == sorted(ids, reverse=True)  # newest first (ULIDs sort by time), no gaps, no repeats
    assert {g["prompt"] for g in search} == {
        "aerial shot of a lighthouse in a storm",
        "wide shot of lighthouses at dusk",  # stemmed / prefix match
    }
    assert [g["prompt"] for g in narrowed] == ["wide shot of lighthouses at dusk"]
    shots = [g["prompt"] for g in first["items"] + second["items"]]
    assert shots == [  # search pages newest first, like the gallery
        "tracking shot of a train in mountains",
        "wide shot of lighthouses at dusk",
        "aerial shot of a lighthouse in a storm",
    ]
    assert second["next_cursor"] is None
    assert {g["id"] for g in by_model} == {i for i, m in ids.items() if m == "sora-2-pro"}
    assert future == []
    assert len(today_items) == 5
    bad = client.get("/api/generations", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    bad_status = client.get("/api/generations", params={"status": "done"})
    assert bad_status.status_code == 422 and "choose queued" in bad_status.json()["detail"]


def test_image_preview_shows_the_fitted_frame_for_each_fit(client: RecordingClient) -> None:
    image = png(800, 600, (250, 250, 250))  # 4:3, the wrong size for a 16:9 video
    frames = {}
    for fit in ("cover", "contain", "stretch"):
        response = client.post(
            "/api/images/preview",
            data={"size": "1280x720", "fit": fit},
            files={"image": ("photo.png", image, "image/png")},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-frame-size"] == "1280x720"
        assert response.headers["x-original-size"] == "800x600"
        frames[fit] = Image.open(io.BytesIO(response.content)).convert("RGB")

    for frame in frames.values():
        assert frame.size == (480, 270)  # the 16:9 frame, scaled to the preview size
    # contain letterboxes a 4:3 image in 16:9: black bars left and right; cover and stretch fill the frame.
    assert max(frames["contain"].getpixel((5, 135))) < 30
    assert min(frames["cover"].getpixel((5, 135))) > 220
    assert min(frames["stretch"].getpixel((5, 135))) > 220
    bad = client.post(
        "/api/images/preview",
        data={"size": "1280x720"},
        files={"image": ("x.png", b"not an image", "image/png")},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "image"


def test_image_to_video_with_a_wrong_size_image_succeeds(client: RecordingClient) -> None:
    created = create(
        client,
        "animate this photo with gentle wind",
        mode="image",
        model="sora-2",
        size="1280x720",
        seconds=4,
        fit="contain",
        files={"image": ("photo.png", png(800, 600), "image/png")},
    )
    assert created["mode"] == "image" and created["fit"] == "contain"

    done = wait_done(client, created["id"])

    assert done["status"] == "completed", done
    assert done["size"] == "1280x720"


def test_remix_appears_under_its_source_in_the_lineage(client: RecordingClient) -> None:
    source = wait_done(client, create(client, "a harbour at dawn", seconds=4)["id"])
    response = client.post(f"/api/generations/{source['id']}/remix", json={"prompt": "the harbour at night"})
    assert response.status_code == 201, response.text
    remix = wait_done(client, response.json()["id"])
    again = create(client, "the harbour in snow", mode="remix", remix_of=remix["id"])

    tree = client.get(f"/api/generations/{again['id']}/lineage").json()

    assert remix["status"] == "completed" and remix["parent_id"] == source["id"]
    assert remix["size"] == source["size"] and remix["seconds"] == source["seconds"]
    assert tree["generation"]["id"] == source["id"]
    assert [c["generation"]["id"] for c in tree["children"]] == [remix["id"]]
    assert [c["generation"]["id"] for c in tree["children"][0]["children"]] == [again["id"]]
    page = client.get(f"/gallery/{remix['id']}").text
    assert page.index(f'data-lineage="{source["id"]}"') < page.index(f'data-lineage="{remix["id"]}"')


def test_delete_removes_row_and_files_but_refuses_unfinished(
    make_client: Callable[..., RecordingClient],
) -> None:
    client = make_client()
    done = wait_done(client, create(client, "a paper boat", seconds=4)["id"])

    deleted = client.delete(f"/api/generations/{done['id']}", params={"remote": "true"})

    assert deleted.status_code == 200
    assert client.get(f"/api/generations/{done['id']}").status_code == 404
    assert client.get(done["video_url"]).status_code == 404
    costs = client.get("/api/costs").json()["by_model"]
    assert costs[0]["actual"] == "0.4000"  # the ledger keeps what was spent

    idle = make_client(run_engine=False)
    queued = create(idle, "waiting in line")
    refused = idle.delete(f"/api/generations/{queued['id']}")
    assert refused.status_code == 422 and "cancel it first" in refused.json()["detail"]


def test_cancel_then_retry_a_queued_generation(make_client: Callable[..., RecordingClient]) -> None:
    client = make_client(run_engine=False)
    queued = create(client, "a slow sunrise")

    cancelled = client.post(f"/api/generations/{queued['id']}/cancel").json()
    retried = client.post(f"/api/generations/{queued['id']}/retry")

    assert cancelled["status"] == "cancelled" and Decimal(cancelled["actual_cost"]) == 0
    assert retried.status_code == 202 and retried.json()["status"] == "queued"
    again = client.post(f"/api/generations/{queued['id']}/retry")
    assert again.status_code == 422 and "only failed, cancelled or expired" in again.json()["detail"]


def test_media_is_served_by_id_only(client: RecordingClient) -> None:
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/01ARZ3NDEKTSV4RRFFQ69G5FAV/video/0").status_code == 404
    assert client.get("/media/01ARZ3NDEKTSV4RRFFQ69G5FAV/passwd/0").status_code == 422
    assert client.get("/media/%2E%2E%2Fsecret/video/0").status_code == 404


def test_profiles_add_test_remove_and_keys_never_come_back(client: RecordingClient) -> None:
    emulator_url = client.get("/api/profiles").json()[0]["endpoint"]
    added = client.post(
        "/api/profiles",
        json={
            "name": "wrong-key",
            "api_kind": "azure_videos",
            "endpoint": emulator_url,
            "api_key": "sk-web-test-7f3a9c2e5b1d4f60a8e2c9b7d5f3a1e0",
            "deployment": "sora-2",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["has_key"] is True and "api_key" not in added.json()

    good = client.post("/api/profiles/emulator/test").json()
    bad = client.post("/api/profiles/wrong-key/test").json()
    page = client.get("/settings").text
    removed = client.delete("/api/profiles/wrong-key")
    missing = client.post(
        "/api/profiles", json={"name": "k", "api_kind": "azure_videos", "endpoint": "ftp://x"}
    )

    assert good["ok"] is True, good
    assert bad["ok"] is False and bad["message"]
    assert "wrong-key" in page and "stored" in page
    assert removed.status_code == 200
    assert [p["name"] for p in client.get("/api/profiles").json()] == ["emulator"]
    assert missing.status_code == 422 and missing.json()["field"] == "endpoint"


def test_every_page_renders(client: RecordingClient) -> None:
    done = wait_done(client, create(client, "a lantern festival over a river", seconds=4)["id"])
    for path in ("/create", "/queue", "/gallery", f"/gallery/{done['id']}", "/costs", "/settings", "/docs"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    gallery = client.get("/gallery", params={"q": "lantern"}).text
    empty = client.get("/gallery", params={"q": "submarine"}).text
    assert done["id"] in gallery and done["id"] not in empty
    remix_form = client.get("/create", params={"remix_of": done["id"]}).text
    assert f'<option value="{done["id"]}" selected>' in remix_form
    missing = client.get("/gallery/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "does not exist" in missing.text and "<html" in missing.text
    assert client.get("/openapi.json").json()["info"]["title"] == "sorastudio"
