"""The allowed-transitions table and `transition()`: the only way a status changes, always with an event."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from sorastudio.domain import Status
from sorastudio.engine.transitions import (
    ALLOWED,
    MESSAGES,
    InvalidTransition,
    message_for,
    record_created,
    transition,
)
from sorastudio.store.db import Store
from sorastudio.store.models import Generation, GenerationEvent


def _generation(store: Store, status: Status = Status.QUEUED) -> str:
    with store.write() as session:
        row = Generation(model="sora", prompt="a kite", width=480, height=480, seconds=1, status=status.value)
        session.add(row)
        session.flush()
        record_created(session, row)
        return row.id


def _events(store: Store, generation_id: str) -> list[GenerationEvent]:
    with store.session() as session:
        return list(
            session.scalars(
                select(GenerationEvent)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.id)
            )
        )


def test_table_covers_every_status_and_final_states_are_closed() -> None:
    assert set(ALLOWED) == set(Status)
    for status in (Status.COMPLETED, Status.EXPIRED):
        assert ALLOWED[status] == frozenset()
    # Paid work never ends as failed or cancelled: once downloading, only completed or expired.
    assert ALLOWED[Status.DOWNLOADING] == {Status.DOWNLOADING, Status.COMPLETED, Status.EXPIRED}
    # Nothing goes backwards except an explicit retry of a failed or cancelled job.
    order = [Status.QUEUED, Status.PREPROCESSING, Status.RUNNING, Status.DOWNLOADING, Status.COMPLETED]
    for earlier, later in itertools.combinations(order, 2):
        assert earlier not in ALLOWED[later]
    assert {s for s in Status if Status.QUEUED in ALLOWED[s]} == {
        Status.QUEUED,
        Status.FAILED,
        Status.CANCELLED,
    }


def test_every_pair_is_allowed_or_refused_as_the_table_says(store: Store) -> None:
    for current, target in itertools.product(Status, Status):
        allowed = target in ALLOWED[current]
        generation_id = _generation(store, current)
        with store.write() as session:
            row = session.get(Generation, generation_id)
            assert row is not None
            if allowed:
                assert transition(session, row, target, progress=50, message=f"to {target}") is not None
            else:
                with pytest.raises(InvalidTransition) as info:
                    transition(session, row, target)
                assert current.value in str(info.value) and target.value in str(info.value)
        with store.session() as session:
            stored = session.get(Generation, generation_id)
            assert stored is not None
            assert stored.status == (target.value if allowed else current.value), (current, target)
        assert len(_events(store, generation_id)) == (2 if allowed else 1), (current, target)


def test_event_is_inserted_in_the_same_transaction(store: Store) -> None:
    generation_id = _generation(store)
    with pytest.raises(RuntimeError), store.write() as session:
        row = session.get(Generation, generation_id)
        assert row is not None
        transition(session, row, Status.RUNNING)
        raise RuntimeError("roll back")
    with store.session() as session:
        assert session.get(Generation, generation_id).status == "queued"  # type: ignore[union-attr]
        count = session.scalar(
            select(func.count())
            .select_from(GenerationEvent)
            .where(GenerationEvent.generation_id == generation_id)
        )
    assert count == 1  # only the creation event


def test_messages_progress_and_no_op_self_transitions(store: Store) -> None:
    generation_id = _generation(store)
    with store.write() as session:
        row = session.get(Generation, generation_id)
        assert row is not None
        transition(session, row, Status.PREPROCESSING)
        assert row.status_message == "Preprocessing your request..."
        transition(
            session, row, Status.RUNNING, progress=40, message=message_for(Status.RUNNING, "processing")
        )
        assert row.status_message == "Processing video..."
        assert transition(session, row, Status.RUNNING, progress=40) is None  # nothing changed
        transition(session, row, Status.RUNNING, progress=30)  # noisy report: progress never goes back
        assert row.progress == 40
        transition(session, row, Status.FAILED, error="moderation")
        assert row.error == "moderation"
        transition(session, row, Status.QUEUED)  # retry: starts over, error cleared
        assert (row.progress, row.error, row.status_message) == (0, None, MESSAGES[Status.QUEUED])
    statuses = [e.status for e in _events(store, generation_id)]
    assert statuses == ["queued", "preprocessing", "running", "failed", "queued"]
    assert message_for(Status.QUEUED) == "Job queued..."
    assert message_for(Status.RUNNING, "in_progress") == "Generating video..."
