"""Money: estimate → `reserve()` (atomic against budgets) → `settle()` with the actual cost, or `release()`.

One `LedgerEntry` per generation. What an entry counts against budgets depends on its state:
`reserved` counts the reservation, `settled` the actual cost, `released` nothing (failed and cancelled
jobs cost 0). Budgets (`budget_set`) cap the total, each calendar day (local date of the reservation)
and each profile; `reserve()` refuses with `BudgetExceeded` carrying the numbers.

Atomicity: the check and the insert happen in one transaction that holds a write lock — on SQLite the
transaction starts with `BEGIN IMMEDIATE` (concurrent reservers queue on the busy timeout), on
PostgreSQL the applicable budget rows are locked with `SELECT … FOR UPDATE`. Functions here flush but
never commit: the caller commits, so a generation row and its reservation land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from sorastudio.domain import Status
from sorastudio.errors import BudgetExceeded, ValidationError
from sorastudio.store.db import begin_immediate, in_db_transaction, is_sqlite
from sorastudio.store.models import Budget, BudgetScope, Generation, LedgerEntry, LedgerState, Profile

CENT = Decimal("0.0001")  # storage precision: Numeric(12, 4)
MAX_AMOUNT = Decimal("99999999.9999")
ZERO = Decimal("0.0000")
TotalsBy = Literal["day", "model", "profile"]


@dataclass(frozen=True)
class BudgetStatus:
    scope: BudgetScope
    profile: str | None  # profile name for scope "profile"
    limit: Decimal
    used: Decimal  # reserved (pending) + actual (settled), for today if scope is "day"
    remaining: Decimal


@dataclass(frozen=True)
class LedgerTotal:
    key: str  # ISO day, model name or profile name
    count: int
    estimated: Decimal
    reserved: Decimal  # still pending
    actual: Decimal  # settled
    total: Decimal  # reserved + actual: what counts against budgets


def money(value: object, field: str = "amount") -> Decimal:
    """A non-negative amount of dollars as Decimal at storage precision; floats are refused."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise ValidationError(
            f"{field}={value!r} is not allowed: give dollars as a Decimal, int or string (not float)",
            field=field,
            value=value,
        )
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValidationError(
            f"{field}={value!r} is not allowed: an amount of dollars from 0 to {MAX_AMOUNT}",
            field=field,
            value=value,
        )
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """`$1.20`, `$0.3375`: two decimals, more only when they matter."""
    text_ = f"{amount.quantize(CENT):f}".rstrip("0")
    whole, _, frac = text_.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def _as_decimal(value: object) -> Decimal:
    # SQLite sums Numeric as floating point; bring results back to storage precision.
    return Decimal(str(value if value is not None else 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _counted() -> ColumnElement[Decimal]:
    """What an entry counts against budgets, by state."""
    return case(
        (LedgerEntry.state == LedgerState.RESERVED.value, LedgerEntry.reserved),
        (LedgerEntry.state == LedgerState.SETTLED.value, func.coalesce(LedgerEntry.actual, 0)),
        else_=0,
    )


def _lock(session: Session, *, strict: bool) -> None:
    """Write-lock the SQLite database for this transaction; `strict` refuses a transaction that
    already read without the lock (its read could be stale by the time it writes)."""
    if strict or not in_db_transaction(session):
        begin_immediate(session)


def _entry(session: Session, generation: Generation, *, lock: bool = True) -> LedgerEntry | None:
    stmt = select(LedgerEntry).where(LedgerEntry.generation_id == generation.id)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def _usage(session: Session, budgets: list[Budget], today: date) -> list[Decimal]:
    """Amount counted against each budget, in one query."""
    counted = _counted()
    columns = []
    for budget in budgets:
        if budget.scope == BudgetScope.DAY:
            columns.append(func.sum(case((LedgerEntry.day == today, counted), else_=0)))
        elif budget.scope == BudgetScope.PROFILE:
            columns.append(func.sum(case((LedgerEntry.profile_id == budget.profile_id, counted), else_=0)))
        else:
            columns.append(func.sum(counted))
    if not columns:
        return []
    row = session.execute(select(*columns).select_from(LedgerEntry)).one()
    return [_as_decimal(value) for value in row]


def _describe(budget: Budget, today: date) -> str:
    if budget.scope == BudgetScope.DAY:
        return f"daily budget for {today.isoformat()}"
    if budget.scope == BudgetScope.PROFILE:
        name = budget.profile.name if budget.profile else f"#{budget.profile_id}"
        return f"budget of profile {name!r}"
    return "total budget"


def reserve(
    session: Session, generation: Generation, amount: object, *, today: date | None = None
) -> LedgerEntry:
    """Reserve `amount` for `generation` against every applicable budget, or raise `BudgetExceeded`.

    Adds and flushes `generation` if needed. On SQLite the session's transaction must not have read
    anything yet (the write lock is taken first). Reserving a generation that already holds a
    reservation returns it unchanged; a released one is reserved again (retry).
    """
    amount = money(amount)
    today = today or date.today()
    _lock(session, strict=True)
    if generation not in session:
        session.add(generation)
    session.flush()
    entry = _entry(session, generation)
    if entry is not None and entry.state == LedgerState.RESERVED:
        return entry
    if entry is not None and entry.state == LedgerState.SETTLED:
        raise ValidationError(
            f"generation {generation.id} is already settled at {format_money(entry.actual or ZERO)}; "
            "retry it as a new generation",
            field="generation",
            value=generation.id,
        )
    applicable = or_(
        Budget.scope.in_([BudgetScope.TOTAL.value, BudgetScope.DAY.value]),
        and_(Budget.scope == BudgetScope.PROFILE.value, Budget.profile_id == generation.profile_id),
    )
    # FOR UPDATE (PostgreSQL) serializes reservers on the budget rows; SQLite ignores it (BEGIN IMMEDIATE).
    budgets = list(session.scalars(select(Budget).where(applicable).order_by(Budget.id).with_for_update()))
    for budget, used in zip(budgets, _usage(session, budgets, today), strict=True):
        if used + amount > budget.limit_amount:
            what = _describe(budget, today)
            raise BudgetExceeded(
                f"{what} exceeded: limit {format_money(budget.limit_amount)}, already reserved or spent "
                f"{format_money(used)}, this estimate {format_money(amount)} "
                f"(would make {format_money(used + amount)})",
                budget=budget.scope,
                limit=budget.limit_amount,
                spent=used,
                requested=amount,
            )
    if generation.estimated_cost is None:
        estimated = amount
    else:
        estimated = money(generation.estimated_cost, "estimated_cost")
    if entry is None:
        entry = LedgerEntry(generation_id=generation.id)
        session.add(entry)
    entry.profile_id = generation.profile_id
    entry.model = generation.model
    entry.day = today
    entry.estimated = estimated
    entry.reserved = amount
    entry.actual = None
    entry.state = LedgerState.RESERVED.value
    generation.estimated_cost = estimated
    session.flush()
    return entry


def _missing(generation: Generation) -> ValidationError:
    return ValidationError(
        f"generation {generation.id} has no ledger reservation", field="generation", value=generation.id
    )


def settle(session: Session, generation: Generation, actual: object) -> LedgerEntry:
    """Record what the generation really cost. A failed or cancelled generation costs 0 (released)."""
    if generation.status in (Status.FAILED, Status.CANCELLED):
        entry = release(session, generation)
        if entry is None:
            raise _missing(generation)
        return entry
    cost = money(actual, "actual")
    _lock(session, strict=False)
    entry = _entry(session, generation)
    if entry is None:
        raise _missing(generation)
    entry.actual = cost
    entry.state = LedgerState.SETTLED.value
    generation.actual_cost = cost
    session.flush()
    return entry


def release(session: Session, generation: Generation) -> LedgerEntry | None:
    """Give the reservation back (failed/cancelled: cost 0). None if nothing was reserved."""
    _lock(session, strict=False)
    entry = _entry(session, generation)
    if entry is None:
        return None
    entry.actual = ZERO
    entry.state = LedgerState.RELEASED.value
    generation.actual_cost = ZERO
    session.flush()
    return entry


def _scope(value: object) -> BudgetScope:
    try:
        return BudgetScope(value)
    except ValueError:
        allowed = [s.value for s in BudgetScope]
        raise ValidationError(
            f"budget scope {value!r} is not allowed: choose one of {', '.join(allowed)}",
            field="scope",
            value=value,
            allowed=allowed,
        ) from None


def _profile_id(session: Session, scope: BudgetScope, profile: str | None) -> int | None:
    if scope is not BudgetScope.PROFILE:
        if profile is not None:
            raise ValidationError(
                f"a {scope.value!r} budget applies to every profile: "
                "omit the profile, or use scope 'profile'",
                field="profile",
                value=profile,
            )
        return None
    if not profile:
        raise ValidationError("a 'profile' budget needs a profile name", field="profile", value=profile)
    profile_id = session.scalar(select(Profile.id).where(Profile.name == profile))
    if profile_id is None:
        names = list(session.scalars(select(Profile.name).order_by(Profile.name)))
        raise ValidationError(
            f"profile {profile!r} does not exist: known profiles are {', '.join(names) or 'none'}",
            field="profile",
            value=profile,
            allowed=names,
        )
    return profile_id


def budget_set(
    session: Session, scope: BudgetScope | str, limit: object | None, *, profile: str | None = None
) -> None:
    """Set (or with `limit=None` remove) the budget for `scope` (`profile` names the profile)."""
    budget_scope = _scope(scope)
    profile_id = _profile_id(session, budget_scope, profile)
    amount = None if limit is None else money(limit, "limit")
    _lock(session, strict=False)
    if not is_sqlite(session):
        # NULL profile_id is not covered by the unique constraint: serialize budget writers instead.
        session.execute(text("LOCK TABLE budgets IN SHARE ROW EXCLUSIVE MODE"))
    same_profile = Budget.profile_id.is_(None) if profile_id is None else Budget.profile_id == profile_id
    row = session.scalar(select(Budget).where(Budget.scope == budget_scope.value, same_profile))
    if amount is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Budget(scope=budget_scope.value, profile_id=profile_id, limit_amount=amount))
    else:
        row.limit_amount = amount
    session.flush()


def budget_show(session: Session, *, today: date | None = None) -> list[BudgetStatus]:
    """Every budget with what is used against it (today's usage for the daily budget)."""
    today = today or date.today()
    budgets = list(session.scalars(select(Budget).order_by(Budget.scope, Budget.id)))
    result = []
    for budget, used in zip(budgets, _usage(session, budgets, today), strict=True):
        result.append(
            BudgetStatus(
                scope=BudgetScope(budget.scope),
                profile=budget.profile.name if budget.profile else None,
                limit=budget.limit_amount,
                used=used,
                remaining=max(budget.limit_amount - used, ZERO),
            )
        )
    return result


def totals(session: Session, by: TotalsBy = "day") -> list[LedgerTotal]:
    """Ledger sums grouped by reservation day, model, or profile name, sorted by key."""
    # Literal (not bound) fallbacks: PostgreSQL must see the GROUP BY expression identical to the column.
    keys: dict[str, ColumnElement[object]] = {
        "day": LedgerEntry.day,
        "model": func.coalesce(LedgerEntry.model, literal_column("'(unknown)'")),
        "profile": func.coalesce(Profile.name, literal_column("'(removed)'")),
    }
    if by not in keys:
        raise ValidationError(
            f"totals by {by!r} is not allowed: choose one of day, model, profile",
            field="by",
            value=by,
            allowed=list(keys),
        )
    key = keys[by].label("key")
    reserved = func.sum(
        case((LedgerEntry.state == LedgerState.RESERVED.value, LedgerEntry.reserved), else_=0)
    )
    actual = func.sum(
        case((LedgerEntry.state == LedgerState.SETTLED.value, func.coalesce(LedgerEntry.actual, 0)), else_=0)
    )
    stmt = (
        select(key, func.count(LedgerEntry.id), func.sum(LedgerEntry.estimated), reserved, actual)
        .select_from(LedgerEntry)
        .outerjoin(Profile, Profile.id == LedgerEntry.profile_id)
        .group_by(key)
        .order_by(key)
    )
    result = []
    for row_key, count, est, res, act in session.execute(stmt):
        reserved_sum, actual_sum = _as_decimal(res), _as_decimal(act)
        result.append(
            LedgerTotal(
                key=row_key.isoformat() if isinstance(row_key, date) else str(row_key),
                count=count,
                estimated=_as_decimal(est),
                reserved=reserved_sum,
                actual=actual_sum,
                total=reserved_sum + actual_sum,
            )
        )
    return result
