"""The web app in a real browser (Debian's Chromium through Playwright) against the emulator.

Screenshots of every page go to `artifacts/screenshots/`. Skipped when /usr/bin/chromium is absent
(`.ci/run` installs it; Playwright's own browser download is unreachable from these machines).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from PIL import Image
from pydantic import SecretStr

from tests.web.conftest import Seen, api_session, wait_done_http

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
TIMEOUT = 30_000  # ms: a job on the time-scaled emulator takes 1–3 s; this is the ceiling

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)
sync_api = pytest.importorskip("playwright.sync_api")
sync_api.expect.set_options(timeout=TIMEOUT)  # expect() has its own 5 s default


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def studio_page(browser: Any, live_server: Callable[..., tuple[str, FastAPI]], seen: Seen) -> Iterator[Any]:
    """A page on a fresh studio; every HTML/JSON body the browser receives is recorded in `seen`."""
    base, _ = live_server()
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    def record(response: Any) -> None:
        kind = response.headers.get("content-type", "")
        if kind.startswith(("text/html", "application/json", "text/javascript", "text/css")):
            # A body the browser already discarded (it navigated away) has nothing left to search.
            with contextlib.suppress(Exception):
                seen.add(f"browser {response.url}", response.body())

    page.on("response", record)
    page.base = base  # type: ignore[attr-defined]
    yield page
    context.close()
    # An error response to a deliberate bad request logs "Failed to load resource"; anything else is a bug.
    assert [e for e in errors if "Failed to load resource" not in e] == []


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def video_facts(page: Any, selector: str) -> dict[str, float]:
    page.wait_for_function(f"() => document.querySelector('{selector}').readyState >= 1", timeout=TIMEOUT)
    return page.evaluate(  # type: ignore[no-any-return]
        f"""() => {{ const v = document.querySelector('{selector}');
            return {{duration: v.duration, width: v.videoWidth, height: v.videoHeight}}; }}"""
    )


def plays(page: Any, selector: str) -> bool:
    page.evaluate(
        f"() => {{ const v = document.querySelector('{selector}'); v.muted = true; return v.play(); }}"
    )
    page.wait_for_function(f"() => document.querySelector('{selector}').currentTime > 0.3", timeout=TIMEOUT)
    return True


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (240, 240, 240)).save(out, "PNG")
    return out.getvalue()


def test_text_to_video_from_click_to_a_playing_video(studio_page: Any) -> None:
    page = studio_page
    page.goto("/create")
    page.fill("#prompt", "Wide shot of a red kite over a park, golden hour, camera pans upward")
    page.select_option("#model", "sora-2")
    page.select_option("#size", "1280x720")
    page.select_option("#seconds", "4")
    sync_api.expect(page.locator("#estimate-total")).to_have_text("$0.40")
    shown = page.text_content("#estimate-total")
    assert page.locator("#size option").all_text_contents() == ["720×1280", "1280×720"]  # only sora-2's sizes
    assert page.locator("#seconds option").all_text_contents() == ["4 s", "8 s", "12 s"]
    assert "generated with the video" in (page.text_content("#audio-note") or "")
    shot(page, "create")

    page.click("#submit")
    sync_api.expect(page.locator("#result-video")).to_be_visible(timeout=TIMEOUT)
    facts = video_facts(page, "#result-video")
    assert abs(facts["duration"] - 4) < 0.5, facts
    assert (facts["width"], facts["height"]) == (1280, 720)
    assert plays(page, "#result-video")
    sync_api.expect(page.locator("#result-cost")).to_contain_text(f"charged {shown}")
    shot(page, "create-result")

    api = api_session(page.base, Seen())
    generation_id = page.get_attribute("#result", "data-generation")
    ledger = api.get("/api/costs").json()["by_model"]
    assert api.get(f"/api/generations/{generation_id}").json()["actual_cost"] == "0.4000"
    assert [(row["key"], row["actual"]) for row in ledger] == [("sora-2", "0.4000")]  # estimate == ledger


def test_a_failed_job_shows_zero(studio_page: Any) -> None:
    page = studio_page
    page.goto("/create")
    page.fill("#prompt", "a battlefield full of gore")  # refused by the emulator's moderation
    sync_api.expect(page.locator("#estimate-total")).not_to_have_text("…")
    page.click("#submit")
    sync_api.expect(page.locator("#result")).to_have_attribute("data-status", "failed", timeout=TIMEOUT)
    sync_api.expect(page.locator("#result-cost")).to_contain_text("charged $0.00")
    assert page.locator("#result-video").is_hidden()


def test_image_to_video_with_a_wrong_size_image_previews_the_fitted_frame(studio_page: Any) -> None:
    page = studio_page
    page.goto("/create")
    page.click('[role="tab"][data-mode="image"]')
    page.fill("#prompt", "animate this photo with gentle wind")
    page.select_option("#size", "1280x720")
    page.set_input_files(
        "#image", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png(800, 600)}]
    )
    page.check('input[name="fit"][value="contain"]')
    sync_api.expect(page.locator("#preview-caption")).to_contain_text("(contain) from your 800x600 image")
    page.wait_for_function(
        "document.getElementById('preview').complete && document.getElementById('preview').naturalWidth > 0"
    )
    frame = page.evaluate(
        """() => {
            const img = document.getElementById('preview');
            const c = document.createElement('canvas');
            c.width = img.naturalWidth;
            c.height = img.naturalHeight;
            const g = c.getContext('2d');
            g.drawImage(img, 0, 0);
            const pixel = (x, y) => Array.from(g.getImageData(x, y, 1, 1).data).slice(0, 3);
            const y = c.height / 2;
            return {w: c.width, h: c.height, edge: pixel(3, y), middle: pixel(c.width / 2, y)};
        }"""
    )
    assert (frame["w"], frame["h"]) == (480, 270)  # the 16:9 frame that will be sent, not the 4:3 upload
    assert max(frame["edge"]) < 30 and min(frame["middle"]) > 200  # letterbox bars, image in the middle
    shot(page, "create-image")

    page.click("#submit")
    sync_api.expect(page.locator("#result-video")).to_be_visible(timeout=TIMEOUT)
    assert video_facts(page, "#result-video")["width"] == 1280


def test_a_remix_appears_under_its_source_in_the_lineage(studio_page: Any) -> None:
    page = studio_page
    api = api_session(page.base, Seen())
    source = api.post("/api/generations", data={"prompt": "a harbour at dawn", "seconds": "4"}).json()
    source = wait_done_http(api, source["id"])

    page.goto(f"/create?remix_of={source['id']}")
    assert page.get_attribute('[role="tab"][data-mode="remix"]', "aria-selected") == "true"
    page.fill("#prompt", "the same harbour at night, lanterns glowing")
    sync_api.expect(page.locator("#estimate-total")).to_have_text("$0.40")
    page.click("#submit")
    sync_api.expect(page.locator("#result-video")).to_be_visible(timeout=TIMEOUT)
    remix_id = page.get_attribute("#result", "data-generation")

    page.goto(f"/gallery/{remix_id}")
    nested = page.locator(f'li[data-lineage="{source["id"]}"] li[data-lineage="{remix_id}"]')
    sync_api.expect(nested).to_be_visible()
    sync_api.expect(nested).to_have_attribute("aria-current", "true")
    shot(page, "lineage")


def test_gallery_search_filters_scrub_and_play(studio_page: Any) -> None:
    page = studio_page
    api = api_session(page.base, Seen())
    ids = {}
    for prompt in (
        "aerial shot of a lighthouse in a storm",
        "close-up of a cat by a window",
        "a scene of gore",
    ):
        ids[prompt] = api.post("/api/generations", data={"prompt": prompt, "seconds": "4"}).json()["id"]
    for generation_id in ids.values():
        wait_done_http(api, generation_id)

    page.goto("/gallery")
    sync_api.expect(page.locator("article.card")).to_have_count(3)
    page.fill("#search", "lighthouse")
    page.press("#search", "Enter")
    sync_api.expect(page.locator("article.card")).to_have_count(1)
    sync_api.expect(page.locator("article.card .prompt")).to_have_text(
        "aerial shot of a lighthouse in a storm"
    )

    page.goto("/gallery?status=failed")
    sync_api.expect(page.locator("article.card")).to_have_count(1)
    assert page.get_attribute("article.card", "data-generation") == ids["a scene of gore"]

    page.goto("/gallery")
    thumb = page.locator(f'article[data-generation="{ids["close-up of a cat by a window"]}"] .thumb')
    box = thumb.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    sync_api.expect(thumb).to_have_attribute("data-frame", "22")  # 90% across → frame 22 of 25
    shot(page, "gallery")
    thumb.click()
    sync_api.expect(page.locator("#player")).to_be_visible()
    assert plays(page, "#player-video")
    shot(page, "gallery-player")


def test_queue_shows_live_status_and_cancels(
    browser: Any, live_server: Callable[..., tuple[str, FastAPI]], seen: Seen
) -> None:
    base, _ = live_server(scale=0.1)  # slow enough to watch: a job takes 6–30 s
    page = browser.new_page(base_url=base)
    page.set_default_timeout(TIMEOUT)
    api = api_session(base, seen)
    created = api.post(
        "/api/generations", data={"prompt": "a slow sunrise over hills", "seconds": "4"}
    ).json()

    page.goto("/queue")
    row = page.locator(f"#row-{created['id']}")
    sync_api.expect(row).to_be_visible()
    sync_api.expect(row.locator('[data-field="elapsed"]')).to_have_text(re.compile(r"0:\d\d"))
    # Live from the event stream: the seed's message and the provider's real progress.
    sync_api.expect(row.locator('[data-field="message"]')).to_have_text("Generating video...")
    sync_api.expect(row.locator('[data-field="percent"]')).not_to_have_text("0%")
    sync_api.expect(row.locator('[data-field="place"]')).to_have_text("at provider")
    shot(page, "queue")
    row.locator('[data-action="cancel"]').click()
    sync_api.expect(row).to_have_class(re.compile("finished"))
    assert api.get(f"/api/generations/{created['id']}").json()["status"] == "cancelled"
    page.close()


def test_costs_and_settings_pages(studio_page: Any) -> None:
    page = studio_page
    api = api_session(page.base, Seen())
    wait_done_http(
        api, api.post("/api/generations", data={"prompt": "a paper boat", "seconds": "4"}).json()["id"]
    )

    page.goto("/costs")
    page.select_option('#budget-form select[name="scope"]', "day")
    page.fill('#budget-form input[name="limit"]', "5")
    page.click('#budget-form button[type="submit"]')
    sync_api.expect(page.locator('.budget[data-scope="day"] meter')).to_be_visible()
    sync_api.expect(page.locator(".chart rect.bar")).to_have_count(1)
    shot(page, "costs")

    page.goto("/create")
    page.fill("#prompt", "x")
    page.select_option("#seconds", "12")
    api.put("/api/budgets", json={"scope": "day", "limit": "1.00"})
    page.select_option("#seconds", "8")  # $0.40 spent + $0.80 > $1.00
    sync_api.expect(page.locator("#budget")).to_contain_text("exceed today's budget")
    assert page.locator("#submit").is_disabled()
    shot(page, "create-budget")

    page.goto("/settings")
    page.fill('#profile-form input[name="name"]', "my-azure")
    page.fill('#profile-form input[name="endpoint"]', page.base)
    page.fill('#profile-form input[name="api_key"]', "sk-web-test-7f3a9c2e5b1d4f60a8e2c9b7d5f3a1e0")
    page.fill('#profile-form input[name="deployment"]', "sora-2")
    page.fill('#profile-form input[name="creates_per_minute"]', "1")
    page.fill('#profile-form input[name="requests_per_minute"]', "30")
    page.click('#profile-form button[type="submit"]')
    sync_api.expect(page.locator('tr[data-profile="my-azure"]')).to_contain_text(
        "1 creates/min · 30 requests/min"
    )
    page.click('tr[data-profile="emulator"] [data-profile-action="test"]')
    sync_api.expect(page.locator('[data-result="emulator"]')).to_contain_text("connected")
    assert "sk-web-test" not in page.content()
    shot(page, "settings")


def test_login_off_loopback_in_the_browser(
    browser: Any, live_server: Callable[..., tuple[str, FastAPI]], seen: Seen
) -> None:
    # Configured as if bound to every interface (the test server itself listens on 127.0.0.1 only).
    base, _ = live_server(host="0.0.0.0", password=SecretStr("open sesame"))
    page = browser.new_page(base_url=base)
    page.on(
        "response",
        lambda r: (
            seen.add(f"browser {r.url}", r.body()) if "html" in r.headers.get("content-type", "") else None
        ),
    )

    page.goto("/gallery")
    sync_api.expect(page).to_have_url(re.compile(r"/login\?next=/gallery$"))
    shot(page, "login")
    page.fill('input[name="password"]', "wrong")
    page.click('button[type="submit"]')
    sync_api.expect(page.locator(".error")).to_have_text("That password is not right.")
    page.fill('input[name="password"]', "open sesame")
    page.click('button[type="submit"]')
    sync_api.expect(page).to_have_url(re.compile(r"/gallery$"))
    sync_api.expect(page.locator("nav a[aria-current=page]")).to_have_text("Gallery")
    page.close()
