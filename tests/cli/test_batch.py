"""`batch`: every line is checked before any is queued; problems are reported with line numbers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke, as_json, generation_count


def jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_a_bad_line_stops_the_whole_batch_with_its_line_number(invoke: Invoke, tmp_path: Path) -> None:
    file = jsonl(
        tmp_path / "shots.jsonl",
        {"prompt": "a kite", "seconds": 4},
        "",  # blank lines are skipped but still counted
        {"prompt": "a storm", "seconds": 6},
        {"prompt": "a desert", "seconds": "8"},
    )
    result = invoke("batch", str(file), env={"SORASTUDIO_RAISE_ERRORS": ""})
    assert result.exit_code == 2
    assert "shots.jsonl:3: seconds=6" in result.stderr
    assert "error: nothing queued" in result.stderr and "unexpected" not in result.stderr
    assert generation_count() == 0


def test_skip_invalid_queues_the_good_lines(invoke: Invoke, tmp_path: Path) -> None:
    file = jsonl(
        tmp_path / "shots.jsonl",
        {"prompt": "a kite", "seconds": 4},
        "{not json",
        {"prompt": "a storm", "colour": "red"},
        {"seconds": 4},
        {"prompt": "a desert", "seconds": "8", "priority": 5},
    )
    result = invoke("batch", str(file), "--skip-invalid", "--json")
    assert result.exit_code == 0, result.output
    for line, words in ((2, "not valid JSON"), (3, "colour"), (4, "prompt is missing")):
        assert f"shots.jsonl:{line}: " in result.stderr and words in result.stderr
    queued = as_json(result)
    assert [q["line"] for q in queued] == [1, 5]
    assert generation_count() == 2
    assert as_json(invoke("show", queued[1]["id"], "--json"))["priority"] == 5


def test_csv_rows_are_numbered_by_file_line(invoke: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "shots.csv"
    file.write_text(
        'prompt,seconds,model\n"a kite, in wind",4,sora-2\n"a storm\nat sea",8,sora-2\na desert,five,sora-2\n'
    )
    result = invoke("batch", str(file))
    assert result.exit_code == 2
    assert "shots.csv:5: seconds='five'" in result.stderr  # the quoted newline makes row 3 start at line 5
    assert generation_count() == 0


def test_dry_run_prices_everything_and_queues_nothing(invoke: Invoke, tmp_path: Path) -> None:
    file = jsonl(tmp_path / "b.jsonl", {"prompt": "a", "seconds": 4}, {"prompt": "b", "seconds": 12})
    result = invoke("batch", str(file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "estimated total $1.60" in result.stdout
    priced = as_json(invoke("batch", str(file), "--dry-run", "--json"))
    assert [(p["line"], p["estimate"]["total"]) for p in priced] == [(1, "0.4000"), (2, "1.2000")]
    assert generation_count() == 0


def test_a_batch_over_budget_is_refused_whole(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("budget", "set", "total", "1").exit_code == 0
    file = jsonl(tmp_path / "b.jsonl", {"prompt": "a", "seconds": 4}, {"prompt": "b", "seconds": 8})
    result = invoke("batch", str(file))
    assert result.exit_code == 1
    assert "$1.20" in result.stderr and "$1.00" in result.stderr
    assert generation_count() == 0


def test_batch_wait_runs_every_line(invoke: Invoke, tmp_path: Path) -> None:
    file = jsonl(
        tmp_path / "b.jsonl", {"prompt": "a kite", "seconds": 4}, {"prompt": "a storm", "seconds": 4}
    )
    result = invoke("batch", str(file), "--wait", "--json")
    assert result.exit_code == 0, result.output
    done = as_json(result)
    assert [g["status"] for g in done] == ["completed", "completed"]
    assert all(Path(g["paths"][0]).is_file() for g in done)


def test_unsupported_file_type(invoke: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "b.txt"
    file.write_text("a kite\n")
    result = invoke("batch", str(file))
    assert result.exit_code == 2 and ".jsonl" in result.stderr


def test_a_model_the_profile_cannot_run_is_reported_at_its_line(invoke: Invoke, tmp_path: Path) -> None:
    file = jsonl(
        tmp_path / "mixed.jsonl",
        {"prompt": "a kite", "seconds": 4},
        {"prompt": "a boat", "model": "sora", "size": "480x480", "seconds": 2},
    )
    result = invoke("batch", str(file))
    assert result.exit_code == 2
    assert "mixed.jsonl:2: model=sora cannot run on profile 'emulator'" in result.stderr
    assert "mixed.jsonl:1" not in result.stderr and "error: nothing queued: 1 invalid line" in result.stderr
    assert generation_count() == 0
