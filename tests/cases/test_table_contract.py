"""The lifecycle table's rows against the contract written from lifecycle.md (tests/invariants/contract.py):
for every action the contract names, the same roles, and for each role the same source states. Catches a
role or a source added to or dropped from a row (mutation/table.py) without building a case."""

from __future__ import annotations

import pytest

from cases.lifecycle import ACTIONS
from tests.invariants.contract import ARROWS

NAMED = sorted(a for a in ARROWS if a != "submit")
# marked as a database test only so that pytest-django runs it first (it orders database tests before the
# others): mutation/table.py runs with -x, and this is the fast way to a failure
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", NAMED)
def test_the_tables_row_is_the_contracts(action: str) -> None:
    spec = ACTIONS[action]
    assert spec.roles == frozenset(ARROWS[action]), "roles"
    for role, (sources, _targets) in ARROWS[action].items():
        assert spec.sources_for(role) == sources, role


def test_every_action_of_the_table_is_in_the_contract() -> None:
    """Appeals, interception and visits included (lifecycle.md "Added 2026-12-02", docs/visits.md)."""
    assert set(ACTIONS) == set(ARROWS) - {"submit"}
