"""`list`, `status`, `show`, `open`, `download`, `cancel`, `retry`, `delete`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from tests.cli.conftest import Invoke, as_json, generation_count


def queue(invoke: Invoke, prompt: str, *args: str) -> str:
    result = invoke("generate", prompt, *args, "--no-wait", "--json")
    assert result.exit_code == 0, result.output
    return str(as_json(result)["id"])


def test_list_json_parses_and_filters(invoke: Invoke, completed: dict[str, Any]) -> None:
    lighthouse = queue(invoke, "a lighthouse in a storm", "-t", "8")
    pro = queue(invoke, "a desert caravan at dusk", "-m", "sora-2-pro", "-s", "1280x720", "-t", "4")

    everything = as_json(invoke("list", "--json"))
    assert [g["id"] for g in everything] == [pro, lighthouse, completed["id"]]  # newest first
    for key in ("id", "status", "prompt", "model", "mode", "size", "seconds", "estimated_cost", "paths"):
        assert key in everything[0]

    assert [g["id"] for g in as_json(invoke("list", "--status", "queued", "--json"))] == [pro, lighthouse]
    assert [g["id"] for g in as_json(invoke("list", "--status", "completed", "--json"))] == [completed["id"]]
    assert [g["id"] for g in as_json(invoke("list", "--model", "sora-2-pro", "--json"))] == [pro]
    assert [g["id"] for g in as_json(invoke("list", "-q", "lighthouse", "--json"))] == [lighthouse]
    assert len(as_json(invoke("list", "--limit", "1", "--json"))) == 1
    assert as_json(invoke("list", "--mode", "image", "--json")) == []


def test_list_human_and_bad_filter(invoke: Invoke, completed: dict[str, Any]) -> None:
    result = invoke("list")
    assert result.exit_code == 0
    assert completed["id"] in result.stdout and "a red kite over a park" in result.stdout
    bad = invoke("list", "--status", "done")
    assert bad.exit_code == 2 and "done" in bad.output


def test_status_of_one_and_of_the_queue(invoke: Invoke) -> None:
    queued = queue(invoke, "a kite", "-t", "4")
    one = invoke("status", queued)
    assert one.exit_code == 0 and "queued" in one.stdout and "Job queued..." in one.stdout
    active = as_json(invoke("status", "--json"))
    assert [g["id"] for g in active] == [queued]
    done = invoke("status", queued, "--wait", "--json")
    assert done.exit_code == 0, done.output
    assert as_json(done)["status"] == "completed"
    assert as_json(invoke("status", "--json")) == []


def test_show_has_fields_costs_files_and_events(invoke: Invoke, completed: dict[str, Any]) -> None:
    result = invoke("show", completed["id"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert f"id:             {completed['id']}" in text
    assert "a red kite over a park" in text and "remote_id:" in text
    assert "actual_cost:    $0.40" in text
    assert completed["paths"][0] in text
    assert "Job queued..." in text and "Video ready." in text
    detail = as_json(invoke("show", completed["id"], "--json"))
    assert detail["events"][0]["status"] == "queued"
    assert detail["events"][-1]["status"] == "completed"
    assert {a["kind"] for a in detail["assets"]} >= {"video", "thumbnail"}


def test_show_unknown_id(invoke: Invoke) -> None:
    result = invoke("show", "01M89Z2E3BA4K3FWG8WTYYGPTN")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_download_to_a_file_and_to_a_folder(
    invoke: Invoke, completed: dict[str, Any], tmp_path: Path
) -> None:
    original = Path(completed["paths"][0]).read_bytes()
    target = tmp_path / "kite.mp4"
    result = invoke("download", completed["id"], "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == original
    folder = tmp_path / "out"
    folder.mkdir()
    assert invoke("download", completed["id"], "--output", str(folder)).exit_code == 0
    assert [p.read_bytes() for p in folder.iterdir()] == [original]


def test_download_without_a_video(invoke: Invoke, tmp_path: Path) -> None:
    queued = queue(invoke, "a kite", "-t", "4")
    result = invoke("download", queued, "-o", str(tmp_path / "x.mp4"))
    assert result.exit_code == 2 and "no video" in result.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_open_uses_the_system_opener_or_prints_the_path(
    invoke: Invoke, completed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(typer, "launch", lambda url, **_: opened.append(url) or 0)
    result = invoke("open", completed["id"])
    assert result.exit_code == 0 and opened == completed["paths"]
    monkeypatch.setattr(typer, "launch", lambda url, **_: 127)
    result = invoke("open", completed["id"])
    assert result.exit_code == 0
    assert completed["paths"][0] in result.stdout and "No program to open it" in result.stdout


def test_cancel_a_queued_generation_costs_nothing(invoke: Invoke, completed: dict[str, Any]) -> None:
    queued = queue(invoke, "a kite", "-t", "12")
    result = invoke("cancel", queued)
    assert result.exit_code == 0, result.output
    assert f"Cancelled {queued}" in result.stdout
    info = as_json(invoke("status", queued, "--json"))
    assert info["status"] == "cancelled" and info["actual_cost"] == "0.0000"
    done = invoke("cancel", completed["id"])  # already made and paid
    assert done.exit_code == 2 and "already made" in done.stderr


def test_retry_a_cancelled_generation(invoke: Invoke) -> None:
    queued = queue(invoke, "a kite", "-t", "4")
    assert invoke("cancel", queued).exit_code == 0
    result = invoke("retry", queued, "--wait", "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["status"] == "completed"


def test_delete_asks_then_removes_row_and_files(invoke: Invoke, completed: dict[str, Any]) -> None:
    path = Path(completed["paths"][0])
    kept = invoke("delete", completed["id"], input="n\n")
    assert kept.exit_code != 0 and path.exists() and generation_count() == 1
    result = invoke("delete", completed["id"], "--yes")
    assert result.exit_code == 0, result.output
    assert not path.exists() and generation_count() == 0
    assert invoke("show", completed["id"]).exit_code == 2


def test_delete_refuses_unfinished_work(invoke: Invoke) -> None:
    queued = queue(invoke, "a kite", "-t", "4")
    result = invoke("delete", queued, "-y")
    assert result.exit_code == 2 and "cancel it first" in result.stderr
    assert generation_count() == 1
