"""Wire types: what we send matches the official schemas; what we read is parsed defensively."""

from __future__ import annotations

import json
from typing import get_args

import httpx
import pytest

from sorastudio.domain import Status
from sorastudio.errors import ProviderError
from sorastudio.providers.azure_sora1 import STATUSES as SORA1_STATUSES
from sorastudio.providers.azure_sora1 import AzureSora1
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.http import parse_body
from sorastudio.providers.sora1_wire import (
    CreateVideoGenerationRequest,
    InpaintItem,
    JobStatus,
    VideoGenerationJob,
)
from sorastudio.providers.videos_api import STATUSES as VIDEOS_STATUSES
from sorastudio.providers.videos_api import VideosAPI
from sorastudio.providers.videos_wire import CreateVideoBody, RemixBody, Video, VideoList, VideoStatus
from tests.schemas import assert_valid

NOW = 1_760_000_000


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(body).encode())


def test_every_wire_status_has_a_translation() -> None:
    assert set(SORA1_STATUSES) == set(get_args(JobStatus))
    assert set(VIDEOS_STATUSES) == set(get_args(VideoStatus))
    assert SORA1_STATUSES["processing"] is Status.RUNNING
    assert SORA1_STATUSES["succeeded"] is Status.COMPLETED
    assert VIDEOS_STATUSES["in_progress"] is Status.RUNNING


def test_request_bodies_match_the_official_schemas() -> None:
    sora1 = CreateVideoGenerationRequest(
        model="sora", prompt="a kite", width=480, height=480, n_seconds=1, n_variants=2
    )
    assert_valid(sora1.model_dump(), "azure/CreateVideoGenerationRequest.json")
    fields = dict(sora1.form_fields([InpaintItem(file_name="start.png")]))
    items = json.loads(fields["inpaint_items"][1])
    assert items == [{"frame_index": 0, "type": "image", "file_name": "start.png"}]
    for item in items:
        assert_valid(item, "azure/InpaintItem.json")
    assert fields["n_seconds"] == (None, "1")  # multipart fields are strings

    videos = CreateVideoBody(prompt="a train", model="sora-2", size="1280x720", seconds="8")
    form = {name: value for name, (_, value) in videos.form_fields()}
    assert_valid(form, "openai/CreateVideoMultipartBody.json")
    assert_valid(RemixBody(prompt="at night").model_dump(), "openai/CreateVideoRemixBody.json")


def test_a_video_with_nulls_numbers_and_extra_fields_is_read() -> None:
    wire = Video.model_validate(
        {
            "id": "video_1",
            "object": "video",
            "status": "completed",
            "progress": 99.6,
            "created_at": NOW,
            "seconds": None,  # seen from a compatible server after success
            "size": "1280x720",
            "usage": {"duration_seconds": 4.0},  # Azure's extra field
            "quality": "standard",
        }
    )
    assert wire.seconds is None and wire.progress == 99 and wire.model is None
    assert Video.model_validate({"id": "v", "status": "queued", "seconds": 8}).seconds == "8"
    assert Video.model_validate({"id": "v", "status": "failed", "error": "boom"}).error is not None


def test_a_videos_job_translates_to_remote_job() -> None:
    api = VideosAPI(normalize_endpoint("https://api.openai.com/v1"), wall_clock=lambda: NOW)
    wire = Video.model_validate(
        {
            "id": "video_1",
            "status": "failed",
            "progress": None,
            "created_at": NOW - 60,
            "completed_at": NOW,
            "prompt": None,
            "seconds": "x",
            "error": {"code": "moderation_blocked", "message": "blocked"},
        }
    )
    job = api._job(wire, httpx.Headers({"openai-poll-after-ms": "1500"}))
    assert (job.status, job.raw_status, job.seconds, job.prompt) == (Status.FAILED, "failed", None, None)
    assert (job.failure_reason, job.failure_message) == ("moderation_blocked", "blocked")
    assert job.poll_hint == 1.5
    assert job.generation_ids == ("video_1",)


def test_unknown_statuses_are_errors_not_guesses() -> None:
    with pytest.raises(ProviderError, match=r"not a Video sorastudio can read \(status"):
        parse_body(Video, ok({"id": "v", "status": "paused"}), "video status")
    with pytest.raises(ProviderError, match="not a VideoList"):
        parse_body(VideoList, httpx.Response(200, content=b"<html>"), "video list")


def test_a_sora1_job_with_missing_optionals_is_read() -> None:
    api = AzureSora1(normalize_endpoint("https://res.openai.azure.com"), wall_clock=lambda: NOW)
    wire = parse_body(
        VideoGenerationJob,
        ok({"id": "task_1", "status": "succeeded", "generations": [{"id": "gen_1"}, {"id": "gen_2"}]}),
        "job",
    )
    job = api._job(wire)
    assert job.generation_ids == ("gen_1", "gen_2") and job.variants == 2
    assert job.status is Status.COMPLETED and job.size is None and job.created_at is None


def test_a_sora1_job_past_its_expiry_is_expired() -> None:
    api = AzureSora1(normalize_endpoint("https://res.openai.azure.com"), wall_clock=lambda: NOW)
    wire = VideoGenerationJob.model_validate(
        {"id": "task_1", "status": "succeeded", "created_at": NOW - 90_000, "expires_at": NOW - 3600}
    )
    assert api._job(wire).status is Status.EXPIRED
