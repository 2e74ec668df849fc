"""providers/download.py against hand-made responses: what is saved, what is refused, what is never lost."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sorastudio.errors import ContentError, NotFound
from sorastudio.providers.base import Asset, AssetKind
from sorastudio.providers.download import download_file
from sorastudio.providers.endpoints import normalize_endpoint
from sorastudio.providers.http import ApiClient
from sorastudio.providers.retry import RetryPolicy, TruncatedContent

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 64


def api_for(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[ApiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def no_sleep(_: float) -> None:
        return None

    api = ApiClient(
        normalize_endpoint("https://api.openai.com/v1"),
        "openai",
        transport=httpx.MockTransport(record),
        retry=RetryPolicy(attempts=3),
        sleep=no_sleep,
        rng=random.Random(0),
    )
    return api, seen


async def fetch(api: ApiClient, directory: Path, kind: AssetKind = "video", stem: str = "video_1") -> Asset:
    return await download_file(
        api,
        "/videos/video_1/content",
        {"variant": kind},
        directory=directory,
        stem=stem if kind == "video" else f"{stem}.{kind}",
        kind=kind,
        variant=0,
        source_id="video_1",
    )


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.mark.anyio
async def test_a_video_is_streamed_into_place_with_its_checksum(tmp_path: Path) -> None:
    api, seen = api_for(lambda r: httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"}))
    asset = await fetch(api, tmp_path / "out")
    assert seen[0].url.params["variant"] == "video"
    assert asset.path == tmp_path / "out" / "video_1.mp4"
    assert asset.path.read_bytes() == MP4
    assert asset.size_bytes == len(MP4)
    assert asset.sha256 == hashlib.sha256(MP4).hexdigest()
    assert asset.content_type == "video/mp4"
    assert files_in(tmp_path / "out") == ["video_1.mp4"]


@pytest.mark.anyio
async def test_the_extension_comes_from_the_content(tmp_path: Path) -> None:
    api, _ = api_for(lambda r: httpx.Response(200, content=WEBP, headers={"content-type": "image/webp"}))
    asset = await fetch(api, tmp_path, "thumbnail")
    assert asset.path.name == "video_1.thumbnail.webp"
    api, _ = api_for(lambda r: httpx.Response(200, content=JPEG, headers={"content-type": "image/jpg"}))
    asset = await fetch(api, tmp_path, "spritesheet")
    assert asset.path.name == "video_1.spritesheet.jpg"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            "application/json",
            b'{"error":{"message":"not ready","type":"x"}}',
            r"JSON body instead of the file \(not ready\)",
        ),
        ("video/mp4", b'{"error":{"message":"oops"}}', "the body is JSON"),
        ("text/html", b"<html>login</html>", "Content-Type is text/html"),
        ("video/mp4", b"\x00\x00\x00\x18moovxxxxxxxxxxxxxxxx", "no 'ftyp' box"),
        ("video/mp4", b"", "empty"),
    ],
)
async def test_bad_bodies_are_refused_and_nothing_is_saved(
    tmp_path: Path, content_type: str, body: bytes, message: str
) -> None:
    api, seen = api_for(lambda r: httpx.Response(200, content=body, headers={"content-type": content_type}))
    with pytest.raises(ContentError, match=message) as caught:
        await fetch(api, tmp_path)
    assert not isinstance(caught.value, TruncatedContent)
    assert len(seen) == 1  # a wrong body is not worth retrying
    assert files_in(tmp_path) == []


@pytest.mark.anyio
async def test_an_image_kind_needs_an_image(tmp_path: Path) -> None:
    api, _ = api_for(lambda r: httpx.Response(200, content=MP4, headers={"content-type": "image/webp"}))
    with pytest.raises(ContentError, match="not a JPEG, PNG or WebP"):
        await fetch(api, tmp_path, "thumbnail")
    assert files_in(tmp_path) == []


@pytest.mark.anyio
async def test_a_short_body_is_retried_then_reported_and_nothing_is_left(tmp_path: Path) -> None:
    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=MP4[:100], headers={"content-type": "video/mp4", "content-length": str(len(MP4))}
        )

    api, seen = api_for(short)
    with pytest.raises(TruncatedContent, match=f"received 100 of the {len(MP4)} bytes"):
        await fetch(api, tmp_path)
    assert len(seen) == 3  # the whole retry budget
    assert files_in(tmp_path) == []


@pytest.mark.anyio
async def test_a_truncation_then_a_good_answer_succeeds(tmp_path: Path) -> None:
    answers = iter(
        [
            httpx.Response(
                200, content=MP4[:50], headers={"content-type": "video/mp4", "content-length": "999999"}
            ),
            httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"}),
        ]
    )
    api, seen = api_for(lambda r: next(answers))
    asset = await fetch(api, tmp_path)
    assert asset.path.read_bytes() == MP4
    assert len(seen) == 2
    assert files_in(tmp_path) == ["video_1.mp4"]


@pytest.mark.anyio
async def test_http_errors_are_mapped_not_saved(tmp_path: Path) -> None:
    api, seen = api_for(
        lambda r: httpx.Response(404, json={"error": {"message": "Video 'video_1' not found", "type": "x"}})
    )
    with pytest.raises(NotFound, match="not found"):
        await fetch(api, tmp_path)
    assert len(seen) == 1
    assert files_in(tmp_path) == []


@pytest.mark.anyio
async def test_an_existing_different_file_is_never_overwritten(tmp_path: Path) -> None:
    paid = tmp_path / "video_1.mp4"
    paid.write_bytes(b"\x00\x00\x00\x18ftyp the video we paid for")
    api, _ = api_for(lambda r: httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"}))
    asset = await fetch(api, tmp_path)
    assert paid.read_bytes() == b"\x00\x00\x00\x18ftyp the video we paid for"
    assert asset.path == tmp_path / "video_1-1.mp4"
    assert asset.path.read_bytes() == MP4


@pytest.mark.anyio
async def test_downloading_the_same_bytes_again_reuses_the_file(tmp_path: Path) -> None:
    api, _ = api_for(lambda r: httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"}))
    first = await fetch(api, tmp_path)
    second = await fetch(api, tmp_path)
    assert first.path == second.path
    assert files_in(tmp_path) == ["video_1.mp4"]
