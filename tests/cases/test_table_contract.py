"""The lifecycle table's rows against the contract written from lifecycle.md (tests/invariants/contract.py):
for every action the contract names, the same roles, and for each role the same source states. Catches a
role or a source added to or dropped from a row (mutation/table.py) without building a case."""

from __future__ import annotations

import pytest

from cases.lifecycle import ACTIONS
from tests.invariants.contract import ARROWS, S_PM

# the contract's rows that lifecycle.md extends elsewhere: approve by the system also leaves `intercepting`
# and staff may intervene in it (docs/interception.md), which the contract's core table predates
EXTRA_SOURCES = {("approve", "system"): {"intercepting"}, ("intervene", "staff"): {"intercepting"}}
NAMED = sorted(a for a in ARROWS if a != "submit")
# marked as a database test only so that pytest-django runs it first (it orders database tests before the
# others): mutation/table.py runs with -x, and this is the fast way to a failure
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", NAMED)
def test_the_tables_row_is_the_contracts(action: str) -> None:
    spec = ACTIONS[action]
    assert spec.roles == frozenset(ARROWS[action]), "roles"
    for role, (sources, _targets) in ARROWS[action].items():
        assert spec.sources_for(role) == sources | EXTRA_SOURCES.get((action, role), set()), role


def test_every_action_of_the_table_outside_the_contract_is_listed() -> None:
    """Appeals, interception: their rows are checked by their own tests (tests/appeals, tests/pickups)."""
    assert set(ACTIONS) - set(ARROWS) == {"appeal", "answer_appeal", "decide_appeal", "intercept",
                                          "intercept_failed"}
    assert S_PM in ACTIONS["intercept"].sources
