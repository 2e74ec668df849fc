"""`budget set/show` and `cost`: a submission past a budget is refused with the numbers."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Invoke, as_json, generation_count


def test_budget_refuses_a_generation_that_would_exceed_it(invoke: Invoke) -> None:
    assert invoke("budget", "set", "total", "0.50").exit_code == 0
    result = invoke("generate", "a kite", "-t", "8")  # sora-2 8 s = $0.80
    assert result.exit_code == 1
    assert "total budget exceeded" in result.stderr
    assert "limit $0.50" in result.stderr and "$0.80" in result.stderr
    assert generation_count() == 0
    # What fits still goes through (estimate only: --no-wait).
    assert invoke("generate", "a kite", "-t", "4", "--no-wait").exit_code == 0
    shown = as_json(invoke("budget", "show", "--json"))
    assert shown == [
        {"scope": "total", "profile": None, "limit": "0.5000", "used": "0.4000", "remaining": "0.1000"}
    ]


def test_budget_set_show_and_remove(invoke: Invoke) -> None:
    assert "No budgets" in invoke("budget", "show").stdout
    result = invoke("budget", "set", "day", "$2.50")
    assert result.exit_code == 0 and "$2.50" in result.stdout
    table = invoke("budget", "show").stdout
    assert "day" in table and "$2.50" in table
    assert invoke("budget", "set", "day", "none").exit_code == 0
    assert as_json(invoke("budget", "show", "--json")) == []


def test_budget_rejects_bad_amounts_and_scopes(invoke: Invoke) -> None:
    bad_amount = invoke("budget", "set", "total", "lots")
    assert bad_amount.exit_code == 2 and "lots" in bad_amount.stderr
    bad_scope = invoke("budget", "set", "week", "5")
    assert bad_scope.exit_code == 2 and "week" in bad_scope.output
    no_profile = invoke("budget", "set", "profile", "5", "--profile", "nope")
    assert no_profile.exit_code == 2 and "nope" in no_profile.stderr


def test_cost_sums_the_ledger(invoke: Invoke, completed: dict[str, Any]) -> None:
    assert invoke("generate", "a kite", "-t", "8", "--no-wait").exit_code == 0
    ledger = as_json(invoke("cost", "--by", "model", "--json"))
    assert ledger["rows"] == [
        {
            "key": "sora-2",
            "count": 2,
            "estimated": "1.2000",
            "reserved": "0.8000",
            "actual": "0.4000",
            "total": "1.2000",
        }
    ]
    human = invoke("cost").stdout
    assert "$1.20" in human and "$0.40" in human
