"""`generate` and `remix`: estimate first; nothing stored on a dry run or bad input; an MP4 with --wait."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import pytest

from tests.cli.conftest import Invoke, as_json, generation_count


@pytest.mark.parametrize(
    ("args", "price"),
    [
        (["-p", "s1", "-m", "sora", "--size", "1920x1080", "--seconds", "12"], "$1.35"),  # seed: Sora 1 1080p
        (["-p", "s1", "-m", "sora", "--size", "1280x720", "--seconds", "12", "--variants", "2"], "$1.20"),
        (["-p", "emulator", "-m", "sora-2", "--size", "1280x720", "--seconds", "4"], "$0.40"),  # seed: Sora 2
    ],
)
def test_dry_run_prints_the_seed_price_and_queues_nothing(
    invoke: Invoke, cli_env: str, args: list[str], price: str
) -> None:
    add_sora1_profile(invoke, cli_env)
    result = invoke("generate", "a kite", *args, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"= {price}" in result.stdout
    assert "nothing was queued" in result.stdout
    assert generation_count() == 0


def add_sora1_profile(invoke: Invoke, url: str, name: str = "s1") -> None:
    """A Sora 1 (azure_sora1) profile at the emulator's address: the only kind that runs `sora`."""
    added = invoke(
        "profile", "add", name, "--api", "azure_sora1", "--endpoint", url, "--deployment", "sora",
        "--key-stdin", input="emulator-key\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output


def test_a_model_the_profile_cannot_run_is_refused_before_anything_is_queued(invoke: Invoke) -> None:
    args = ("generate", "a boat", "--model", "sora", "--size", "480x480", "--seconds", "2")
    for extra in ((), ("--dry-run",), ("--no-wait",), ("-p", "emulator")):
        result = invoke(*args, *extra)
        assert result.exit_code == 2, result.output
        assert "model=sora cannot run on profile 'emulator'" in result.stderr
        assert "azure_videos" in result.stderr and "sora-2 or sora-2-pro" in result.stderr
        assert "Queued" not in result.output
    assert generation_count() == 0


def test_dry_run_json_is_the_estimate(invoke: Invoke) -> None:
    result = invoke("generate", "a kite", "-m", "sora-2", "-t", "12", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    estimate = as_json(result)
    assert estimate["total"] == "1.2000"
    assert estimate["display"] == "$1.20"
    assert estimate["seconds"] == 12
    assert generation_count() == 0


def test_wait_saves_a_playable_mp4_with_the_seed_status_messages(invoke: Invoke) -> None:
    result = invoke("generate", "a lighthouse in a storm", "--seconds", "4")
    assert result.exit_code == 0, result.output
    assert "Estimate: " in result.stdout and "$0.40" in result.stdout
    # Progress goes to stderr, one line per change when not on a terminal.
    assert "Job queued..." in result.stderr
    assert "Generating video..." in result.stderr
    saved = [line.removeprefix("Saved ") for line in result.stdout.splitlines() if line.startswith("Saved ")]
    assert len(saved) == 1 and saved[0].endswith(".mp4")
    with av.open(saved[0]) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (720, 1280)
        assert next(container.decode(stream)) is not None
        assert container.duration is not None and container.duration > 3_000_000  # µs


def test_invalid_seconds_is_refused_with_the_rule_and_nothing_queued(invoke: Invoke) -> None:
    result = invoke("generate", "a kite", "--model", "sora-2", "--seconds", "6")
    assert result.exit_code == 2
    assert "seconds=6" in result.stderr and "4, 8 or 12" in result.stderr
    assert "Traceback" not in result.output
    assert generation_count() == 0


def test_unknown_fit_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("generate", "a kite", "--fit", "squash", "--dry-run")
    assert result.exit_code == 2
    assert "squash" in result.output


def test_image_to_video(invoke: Invoke, tmp_path: Path) -> None:
    from PIL import Image

    image = tmp_path / "start.png"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(image)
    result = invoke("generate", "the red wall starts to move", "-t", "4", "--image", str(image), "--json")
    assert result.exit_code == 0, result.output
    info = as_json(result)
    assert info["mode"] == "image" and info["status"] == "completed"


def test_no_wait_only_queues(invoke: Invoke) -> None:
    result = invoke("generate", "a kite", "-t", "4", "--no-wait", "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["status"] == "queued"
    assert generation_count() == 1


@pytest.mark.usefixtures("served_emulator")
def test_remix_of_a_finished_video(invoke: Invoke, completed: dict[str, Any]) -> None:
    result = invoke("remix", completed["id"], "the same park in snow", "--json")
    assert result.exit_code == 0, result.output
    info = as_json(result)
    assert info["status"] == "completed"
    assert info["mode"] == "remix" and info["parent_id"] == completed["id"]
    assert "Estimate: " in result.stderr  # with --json, remarks go to stderr


def test_remix_without_a_lasting_emulator_says_why(invoke: Invoke, completed: dict[str, Any]) -> None:
    # `completed` was made by an in-process emulator that is gone: its video cannot be remixed.
    result = invoke("remix", completed["id"], "the same park in snow")
    assert result.exit_code == 1
    assert "sorastudio emulator" in result.stderr
    assert generation_count() == 1


def test_a_failed_job_exits_1_with_the_reason(invoke: Invoke) -> None:
    # The emulator's input moderation fails prompts with this word.
    result = invoke("generate", "blocked-by-moderation scene", "-t", "4", env={"SORASTUDIO_RAISE_ERRORS": ""})
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith("error: generation ")
    assert "failed" in result.stderr and "unexpected" not in result.stderr


def test_on_a_terminal_the_progress_is_a_live_bar(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from sorastudio.commands import progress

    screen = io.StringIO()
    monkeypatch.setattr(progress, "err", Console(file=screen, force_terminal=True, width=100))
    result = invoke("generate", "a kite", "-t", "4")
    assert result.exit_code == 0, result.output
    drawn = screen.getvalue()
    assert "Job queued..." in drawn and "Generating video..." in drawn
    assert "\x1b[" in drawn and "100%" in drawn  # redrawn in place, ends full
