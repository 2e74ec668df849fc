"""Benchmark the gallery at scale: server time of a gallery page and of a search at 100 000 rows.

Run from the repo root:  .venv/bin/python bench/gallery.py [--rows 100000] [--requests 200]

Fills a fresh SQLite database (the embedded default) with generations — realistic prompts, a mix of
models, modes and statuses, three assets per finished video — then times requests through the app
in this process (no network; the figure is what the server spends). Target: p95 < 50 ms.
Cases: the first HTML page, a deep page (keyset cursor half-way down), a filtered page, the JSON API
page, and full-text searches for a rare word, a common word, and a word plus a filter.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import insert

from sorastudio.store.models import Asset, Generation, Profile, new_id
from sorastudio.studio import AsyncStudio
from sorastudio.web import WebSettings, create_app

TARGET_MS = 50.0
SHOTS = ["wide shot", "close-up", "aerial shot", "tracking shot", "medium shot", "low angle"]
SUBJECTS = [
    "a red kite",
    "a lighthouse",
    "a cat",
    "a train",
    "a fox",
    "a paper boat",
    "a dancer",
    "a harbour",
]
PLACES = ["in a grassy park", "in a storm", "by a window", "through mountains", "in snow", "at a market"]
LIGHT = ["golden hour", "soft light", "dramatic light", "neon glow", "overcast", "moonlight"]
CAMERA = ["camera pans upward", "slow dolly in", "handheld", "static camera", "drone orbit", "tilt down"]
RARE = "zeppelin"  # in ~0.5% of prompts
STATUSES = ["completed"] * 8 + ["failed", "cancelled"]
MODELS = ["sora-2"] * 6 + ["sora-2-pro"] * 3 + ["sora"]


def prompt(rng: random.Random) -> str:
    subject = "a zeppelin" if rng.random() < 0.005 else rng.choice(SUBJECTS)
    return f"{rng.choice(SHOTS)} of {subject} {rng.choice(PLACES)}, {rng.choice(LIGHT)}, {rng.choice(CAMERA)}"


def fill(studio: AsyncStudio, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=120)
    with studio.store.write() as session:
        profile = Profile(
            name="bench", api_kind="azure_videos", endpoint="http://127.0.0.1:9", auth_method="bearer"
        )
        session.add(profile)
        session.flush()
        profile_id = profile.id
    batch = 5000
    for first in range(0, rows, batch):
        generations, assets = [], []
        for i in range(first, min(rows, first + batch)):
            created = start + timedelta(seconds=i * 100)
            status = rng.choice(STATUSES)
            gid = new_id()
            generations.append(
                {
                    "id": gid,
                    "profile_id": profile_id,
                    "model": rng.choice(MODELS),
                    "mode": "text" if rng.random() < 0.8 else "image",
                    "prompt": prompt(rng),
                    "width": 1280,
                    "height": 720,
                    "seconds": 4,
                    "variants": 1,
                    "status": status,
                    "progress": 100 if status == "completed" else 0,
                    "estimated_cost": Decimal("0.4000"),
                    "actual_cost": Decimal("0.4000") if status == "completed" else Decimal(0),
                    "created_at": created,
                    "updated_at": created,
                    "remote_generation_ids": [],
                }
            )
            if status == "completed":
                for kind, mime in (
                    ("video", "video/mp4"),
                    ("thumbnail", "image/webp"),
                    ("spritesheet", "image/jpeg"),
                ):
                    path = f"{gid}/{kind}"
                    assets.append(
                        {
                            "generation_id": gid,
                            "kind": kind,
                            "variant": 0,
                            "path": path,
                            "bytes": 1,
                            "content_type": mime,
                            "created_at": created,
                        }
                    )
        with studio.store.write() as session:
            session.execute(insert(Generation), generations)
            if assets:
                session.execute(insert(Asset), assets)


def measure(client: TestClient, url: str, requests: int) -> tuple[float, float, int]:
    client.get(url)  # warm caches (templates, statement cache), as a running server would be
    times = []
    status = 0
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        status = response.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["SORASTUDIO_HOME"] = home
        studio = AsyncStudio(home)
        began = time.perf_counter()
        fill(studio, args.rows)
        print(f"filled {args.rows} generations in {time.perf_counter() - began:.1f} s ({studio.store.url})")
        app = create_app(studio, settings=WebSettings(run_engine=False, embedded_emulator=False))
        with TestClient(app, base_url="http://127.0.0.1") as client:
            middle = client.get("/api/generations", params={"limit": 200}).json()
            cursor = None
            for _ in range(args.rows // 2 // 200):  # walk half-way down with keyset pages
                page = client.get("/api/generations", params={"limit": 200, "cursor": cursor or ""}).json()
                cursor = page["next_cursor"]
            assert middle["items"] and cursor
            cases = [
                ("gallery page 1 (HTML, 24 cards)", "/gallery"),
                ("gallery deep page (HTML, row ~50 000)", f"/gallery?cursor={cursor}"),
                ("gallery filtered (model + status)", "/gallery?model=sora-2-pro&status=failed"),
                ("API page (JSON, 24 items)", "/api/generations"),
                (f"search rare word ({RARE!r}, HTML)", f"/gallery?q={RARE}"),
                ("search common word ('lighthouse', HTML)", "/gallery?q=lighthouse"),
                ("search + filter ('storm', failed, HTML)", "/gallery?q=storm&status=failed"),
                ("search two words (JSON)", "/api/generations?q=golden%20kite"),
            ]
            print(f"{'case':<44} {'p50 ms':>8} {'p95 ms':>8}  target p95 < {TARGET_MS:g} ms")
            worst = 0.0
            for label, url in cases:
                p50, p95, status = measure(client, url, args.requests)
                assert status == 200, (url, status)
                worst = max(worst, p95)
                flag = "" if p95 < TARGET_MS else "  OVER TARGET"
                print(f"{label:<44} {p50:8.1f} {p95:8.1f}{flag}")
            print(f"worst p95: {worst:.1f} ms ({'meets' if worst < TARGET_MS else 'misses'} the target)")
        studio.store.close()


if __name__ == "__main__":
    main()
