"""Budget acceptance: 50 concurrent submissions against a budget that fits 10 → exactly 10 accepted."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from sorastudio import ledger
from sorastudio.errors import BudgetExceeded
from sorastudio.store.models import Generation, GenerationEvent
from sorastudio.sync import Studio

SUBMISSIONS = 50


def test_fifty_concurrent_submissions_against_a_budget_for_ten(db_url: str) -> None:
    studio = Studio(database_url=db_url, emulator_url="http://127.0.0.1:9")  # nothing is sent anyway
    try:
        estimate = studio.estimate(seconds=4)  # sora-2 on the built-in emulator profile: $0.40
        assert estimate.total == Decimal("0.4000")
        studio.budgets.set("total", Decimal("4.00"))
        barrier = threading.Barrier(SUBMISSIONS)
        accepted: list[str] = []
        refused: list[BudgetExceeded] = []
        lock = threading.Lock()

        def submit(n: int) -> None:
            barrier.wait()
            try:
                handle = studio.generate(f"kite number {n}", seconds=4)
            except BudgetExceeded as exc:
                with lock:
                    refused.append(exc)
            else:
                with lock:
                    accepted.append(handle.id)

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(SUBMISSIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(accepted) == 10
        assert len(refused) == 40
        for exc in refused:
            assert (exc.budget, exc.limit, exc.spent, exc.requested) == (
                "total",
                Decimal("4.0000"),
                Decimal("4.0000"),
                Decimal("0.4000"),
            )
            assert "$4.00" in str(exc) and "$0.40" in str(exc)
        with studio.store.session() as session:
            assert session.scalar(select(func.count()).select_from(Generation)) == 10
            # A refused submission leaves nothing behind: no row, no event, no reservation.
            assert session.scalar(select(func.count()).select_from(GenerationEvent)) == 10
            (status,) = ledger.budget_show(session)
            assert (status.used, status.remaining) == (Decimal("4.0000"), Decimal("0.0000"))
        assert {g.id for g in studio.list(limit=100)} == set(accepted)
    finally:
        studio.close()


def test_dry_run_stores_nothing_and_a_refusal_names_the_numbers(db_url: str) -> None:
    with Studio(database_url=db_url, emulator_url="http://127.0.0.1:9") as studio:
        estimate = studio.generate("a kite", seconds=8, dry_run=True)
        assert estimate.total == Decimal("0.8000")
        assert studio.list() == []
        studio.budgets.set("day", "0.50")
        with pytest.raises(BudgetExceeded) as info:
            studio.generate("a kite", seconds=8)
        assert info.value.limit == Decimal("0.5000") and info.value.requested == Decimal("0.8000")
        assert "daily budget" in str(info.value)
        assert studio.list() == []
