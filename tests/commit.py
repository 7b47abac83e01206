"""Committing in tests without patching `transaction.on_commit`.

Inside a test's transaction nothing commits, so the after-commit work (payouts, emails, courier calls) is
registered and never run. `committed()` runs a block as one "transaction that commits": the block runs with
its on_commit callbacks held back; when it ends, it first checks that the payment provider was paid nothing
while the transaction was still open (payouts go to the provider only after commit), then runs the callbacks
in order — including any they register — the way a real commit would (Django's own
`captureOnCommitCallbacks(execute=True)`, plus that check).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger(__name__)
T = TypeVar("T")


def gateway_payouts() -> int:
    from cases.payments import SimulatedPayout

    return SimulatedPayout.objects.count()


def paid_at_gateway(case_number: str) -> list[Decimal]:
    """What the provider paid for one case, in order, under any key of its refund (`refund-{number}` and
    `refund-{number}-{n}`): counted per case, not per key, so a second payout under a new key shows."""
    from django.db.models import Q

    from cases.payments import SimulatedPayout

    key = f"refund-{case_number}"
    return list(SimulatedPayout.objects.filter(Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}-"))
                .order_by("pk").values_list("amount", flat=True))


@contextmanager
def committed(using: str = DEFAULT_DB_ALIAS) -> Iterator[list[Callable[[], object]]]:
    """Run the block, assert nothing was paid before "commit", then run its on_commit callbacks."""
    connection = connections[using]
    start = len(connection.run_on_commit)
    paid_before = gateway_payouts()
    ran: list[Callable[[], object]] = []
    yield ran
    assert gateway_payouts() == paid_before, "a payout reached the provider before the transaction committed"
    while len(connection.run_on_commit) > start:
        batch = connection.run_on_commit[start:]
        start = len(connection.run_on_commit)
        for _sids, callback, robust in batch:
            ran.append(callback)
            if robust:
                try:
                    callback()
                except Exception:
                    log.exception("robust on_commit callback failed")
            else:
                callback()


def commit(call: Callable[[], T]) -> T:
    """`call()` as one committed transaction (see `committed`): its after-commit work runs when it returns."""
    with committed():
        return call()
