"""Ledger: reservations are atomic against budgets; failed costs 0; totals add up."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from sorastudio import ledger
from sorastudio.errors import BudgetExceeded, ValidationError
from sorastudio.store.db import Store, open_store
from sorastudio.store.models import Generation, LedgerEntry
from sorastudio.store.profiles import add_profile
from tests.store.factories import generation

D = Decimal
DAY1, DAY2 = date(2030, 5, 1), date(2030, 5, 2)


def _profile(store: Store, name: str) -> int:
    with store.write() as session:
        return add_profile(
            session, name, api_kind="openai", endpoint="https://api.openai.com", api_key="k"
        ).id


def _reserve(store: Store, amount: str, *, today: date = DAY1, **kw: object) -> str:
    with store.write() as session:
        row = generation(**kw)
        session.add(row)
        ledger.reserve(session, row, D(amount), today=today)
        return row.id


def _finish(store: Store, gid: str, status: str, actual: str) -> None:
    with store.write() as session:
        row = session.get(Generation, gid)
        assert row is not None
        row.status = status
        ledger.settle(session, row, D(actual))


def _budget(store: Store, scope: str, limit: str | None, profile: str | None = None) -> None:
    with store.write() as session:
        ledger.budget_set(session, scope, None if limit is None else D(limit), profile=profile)


def test_settle_records_actual_and_failed_costs_zero(store: Store) -> None:
    done = _reserve(store, "1.20", model="sora-2")
    failed = _reserve(store, "0.80", model="sora-2")
    cancelled = _reserve(store, "0.40", model="sora-2")
    _finish(store, done, "completed", "1.1000")
    _finish(store, failed, "failed", "0.80")  # the provider's number is ignored: failed costs 0
    _finish(store, cancelled, "cancelled", "0.40")
    with store.session() as session:
        entries = {e.generation_id: e for e in session.scalars(select(LedgerEntry))}
        assert (entries[done].state, entries[done].actual, entries[done].reserved) == (
            "settled",
            D("1.1"),
            D("1.2"),
        )
        assert (entries[failed].state, entries[failed].actual) == ("released", D(0))
        assert entries[cancelled].state == "released"
        assert session.get(Generation, done).actual_cost == D("1.1")  # type: ignore[union-attr]
        assert session.get(Generation, failed).actual_cost == D(0)  # type: ignore[union-attr]
        [total] = ledger.totals(session, by="model")
    assert (total.key, total.count, total.actual, total.reserved, total.total) == (
        "sora-2",
        3,
        D("1.1"),
        D(0),
        D("1.1"),
    )
    assert total.estimated == D("2.4")


def test_refusal_carries_the_numbers(store: Store) -> None:
    _budget(store, "total", "1.00")
    _reserve(store, "0.60")
    with pytest.raises(BudgetExceeded) as caught:
        _reserve(store, "0.50")
    err = caught.value
    assert (err.budget, err.limit, err.spent, err.requested) == ("total", D("1"), D("0.6"), D("0.5"))
    assert "limit $1.00" in str(err) and "$0.60" in str(err) and "$0.50" in str(err)
    _reserve(store, "0.40")  # exactly fits
    with store.session() as session:
        # The refused generation was rolled back with its transaction.
        assert session.scalar(select(func.count()).select_from(Generation)) == 2


def test_release_frees_the_budget_and_settled_actual_counts(store: Store) -> None:
    _budget(store, "total", "1.00")
    gid = _reserve(store, "1.00")
    with pytest.raises(BudgetExceeded):
        _reserve(store, "0.10")
    _finish(store, gid, "completed", "0.70")  # settled below the estimate: the difference is free again
    _reserve(store, "0.30")
    with pytest.raises(BudgetExceeded):
        _reserve(store, "0.01")


def test_day_budget_counts_only_that_day(store: Store) -> None:
    _budget(store, "day", "1.00")
    _reserve(store, "0.80", today=DAY1)
    _reserve(store, "0.80", today=DAY2)
    with pytest.raises(BudgetExceeded, match="daily budget for 2030-05-02") as caught:
        _reserve(store, "0.30", today=DAY2)
    assert caught.value.budget == "day"
    with store.session() as session:
        [status] = ledger.budget_show(session, today=DAY1)
    assert (status.scope, status.limit, status.used, status.remaining) == ("day", D(1), D("0.8"), D("0.2"))


def test_profile_budget_counts_only_that_profile(store: Store) -> None:
    a, b = _profile(store, "a"), _profile(store, "b")
    _budget(store, "profile", "1.00", profile="a")
    _reserve(store, "0.90", profile_id=a)
    _reserve(store, "5.00", profile_id=b)
    with pytest.raises(BudgetExceeded, match="profile 'a'"):
        _reserve(store, "0.20", profile_id=a)
    with store.session() as session:
        [status] = ledger.budget_show(session)
    assert (status.profile, status.used) == ("a", D("0.9"))


def test_budget_set_replaces_and_removes(store: Store) -> None:
    _profile(store, "a")
    _budget(store, "total", "5")
    _budget(store, "total", "7.5")
    _budget(store, "profile", "2", profile="a")
    with store.session() as session:
        shown = {(s.scope, s.profile): s.limit for s in ledger.budget_show(session)}
    assert shown == {("total", None): D("7.5"), ("profile", "a"): D(2)}
    _budget(store, "total", None)
    with store.session() as session:
        assert [s.scope for s in ledger.budget_show(session)] == ["profile"]
    with pytest.raises(ValidationError, match="choose one of total, day, profile"):
        _budget(store, "weekly", "1")
    with pytest.raises(ValidationError, match="needs a profile"):
        _budget(store, "profile", "1")
    with pytest.raises(ValidationError, match="known profiles are a"):
        _budget(store, "profile", "1", profile="zzz")


def test_totals_by_day_model_and_profile(store: Store) -> None:
    a = _profile(store, "a")
    g1 = _reserve(store, "1.20", today=DAY1, model="sora-2", profile_id=a)
    _reserve(store, "0.60", today=DAY1, model="sora", profile_id=a)
    g3 = _reserve(store, "2.00", today=DAY2, model="sora-2")
    _finish(store, g1, "completed", "1.20")
    _finish(store, g3, "failed", "0")
    with store.session() as session:
        by_day = {t.key: (t.count, t.reserved, t.actual, t.total) for t in ledger.totals(session, by="day")}
        by_model = {t.key: (t.count, t.total) for t in ledger.totals(session, by="model")}
        by_profile = {t.key: (t.count, t.total) for t in ledger.totals(session, by="profile")}
        with pytest.raises(ValidationError, match="day, model, profile"):
            ledger.totals(session, by="week")  # type: ignore[arg-type]
    assert by_day == {"2030-05-01": (2, D("0.6"), D("1.2"), D("1.8")), "2030-05-02": (1, D(0), D(0), D(0))}
    assert by_model == {"sora": (1, D("0.6")), "sora-2": (2, D("1.2"))}
    assert by_profile == {"(removed)": (1, D(0)), "a": (2, D("1.8"))}


def test_reserving_twice_counts_once(store: Store) -> None:
    _budget(store, "total", "1.00")
    with store.write() as session:
        row = generation()
        first = ledger.reserve(session, row, D("0.60"), today=DAY1)
        again = ledger.reserve(session, row, D("0.60"), today=DAY1)
        assert first.id == again.id
    _reserve(store, "0.40")


def test_amounts_must_be_decimal_dollars(store: Store) -> None:
    with store.write() as session, pytest.raises(ValidationError, match="not float"):
        ledger.reserve(session, generation(), 0.4)
    for bad in ("-1", "NaN", "abc"):
        with pytest.raises(ValidationError, match="amount"):
            ledger.money(bad)
    assert ledger.money("0.33335") == D("0.3334")
    assert ledger.format_money(D("1.2")) == "$1.20" and ledger.format_money(D("0.3375")) == "$0.3375"


def test_settle_without_reservation_is_an_error(store: Store) -> None:
    with store.write() as session, pytest.raises(ValidationError, match="no ledger reservation"):
        row = generation()
        session.add(row)
        session.flush()
        ledger.settle(session, row, D(1))


def test_fifty_concurrent_submissions_against_a_budget_for_ten(db_url: str) -> None:
    """Acceptance (issue 5): exactly 10 of 50 concurrent submissions are accepted."""
    setup = open_store(db_url)
    with setup.write() as session:
        ledger.budget_set(session, "total", D("4.00"))
    setup.close()
    barrier = threading.Barrier(50)
    accepted: list[str] = []
    refused: list[BudgetExceeded] = []
    errors: list[BaseException] = []

    def submit() -> None:
        # One engine per thread: as separate processes would, sharing nothing but the database.
        mine = open_store(db_url, migrate=False)
        try:
            barrier.wait(timeout=20)
            # A plain session: reserve() itself must take the lock (Store.write() would do it for us).
            with mine.session() as session:
                row = generation(estimated_cost=D("0.40"))
                session.add(row)
                ledger.reserve(session, row, D("0.40"))
                gid = row.id
                session.commit()
            accepted.append(gid)
        except BudgetExceeded as exc:
            refused.append(exc)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            mine.close()

    threads = [threading.Thread(target=submit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert (len(accepted), len(refused)) == (10, 40)
    assert all(e.spent == D(4) and e.limit == D(4) for e in refused)
    check = open_store(db_url, migrate=False)
    try:
        with check.session() as session:
            assert session.scalar(select(func.count()).select_from(Generation)) == 10
            assert set(session.scalars(select(LedgerEntry.generation_id))) == set(accepted)
            [status] = ledger.budget_show(session)
            assert status.used == D(4) and status.remaining == D(0)
    finally:
        check.close()
