"""Deleted `/videos` ids are remembered for the "was deleted" 404, but only the newest few: a long-running
emulator's memory stays bounded."""

from __future__ import annotations

import pytest

from sorastudio.emulator import routes_videos
from sorastudio.emulator.routes_videos import RecentIds
from tests.emulator.test_videos_api import (  # noqa: F401 - stub_render is an autouse fixture
    OPENAI,
    auth,
    emulator,
    stub_render,
)


def test_recent_ids_keep_at_most_the_limit_dropping_the_oldest() -> None:
    ids = RecentIds(3)
    for n in range(10):
        ids.add(f"video_{n}")
        assert len(ids) == min(n + 1, 3)
    assert [f"video_{n}" in ids for n in range(10)] == [False] * 7 + [True] * 3
    ids.add("video_7")  # re-adding makes it the newest again
    ids.add("video_10")
    assert "video_7" in ids and "video_8" not in ids and len(ids) == 3


def test_default_limit_is_ten_thousand() -> None:
    assert routes_videos.DELETED_REMEMBERED == 10_000


@pytest.mark.anyio
async def test_only_the_newest_deleted_ids_say_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_videos, "DELETED_REMEMBERED", 2)
    async with emulator() as emu:
        ids = [(await emu.created())["id"] for _ in range(3)]
        for video_id in ids:
            await emu.finish(video_id)
            response = await emu.client.delete(f"{OPENAI}/videos/{video_id}", headers=auth(OPENAI))
            assert response.status_code == 200
        messages = []
        for video_id in ids:
            response = await emu.client.get(f"{OPENAI}/videos/{video_id}", headers=auth(OPENAI))
            assert response.status_code == 404
            messages.append(response.json()["error"]["message"])
        assert messages == [
            f"No video found with id '{ids[0]}'.",
            f"Video '{ids[1]}' was deleted; its status and content are no longer available.",
            f"Video '{ids[2]}' was deleted; its status and content are no longer available.",
        ]
