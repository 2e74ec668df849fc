"""Ids never repeat across emulator restarts unless a seed asks for an exact replay."""

from __future__ import annotations

from sorastudio.emulator.clock import ManualClock
from sorastudio.emulator.config import EmulatorConfig
from sorastudio.emulator.jobs import JobStore


def _first_ids(config: EmulatorConfig) -> list[str]:
    store = JobStore(config, ManualClock())
    sora = config.deployment("sora")
    assert sora is not None
    return [store.create("sora1", sora, "a kite", 480, 480, 1).id for _ in range(2)]


def test_unseeded_restarts_issue_fresh_ids() -> None:
    assert set(_first_ids(EmulatorConfig())).isdisjoint(_first_ids(EmulatorConfig()))


def test_a_seed_replays_the_same_ids() -> None:
    assert _first_ids(EmulatorConfig(seed=7)) == _first_ids(EmulatorConfig(seed=7))
