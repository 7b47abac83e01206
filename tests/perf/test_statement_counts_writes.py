"""Regression guard on the statements the write paths send (issue #26): the case submission through the API, the
shop scorecard, one deadline-sweep batch. Counts, not times (times are the bench's: docs/benchmarks.md).

Every statement is counted as PostgreSQL receives it, BEGIN and COMMIT included (portal.benchmarks.load's
StatementLog, which the bench uses too). The numbers are exact on purpose: when a feature really needs another
statement on one of these paths, update the number here in the same commit and say why in its message — a count
that grows by accident is what this test is for. Tasks are published to the broker, not run eagerly, so the
counts are the request's own (as in production).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, Deadline, Refund
from cases.sweep import deadlines_sweep
from portal.benchmarks.load import StatementLog
from portal.models import OutboxMessage
from tests import factories as f
from tests.workers import use_broker

pytestmark = pytest.mark.django_db(transaction=True)

# The submission (POST /api/v1/cases/, a return on an eligible item, no evidence files):
#   the Bearer token (1);
#   the service's transaction: BEGIN, the item locked with its order, product, shop, the shop's member ids, the
#   new case's id, the item's earlier cases (the ledger) and the calendar's version (1: the deadline policies
#   and holidays come from the process's copy at that version, cases.policy.calendar),
#   INSERT case, event, clock, notification, outbox message (5), COMMIT;
#   after the commit, the outbox message marked sent: BEGIN, SET LOCAL synchronous_commit TO OFF, UPDATE, COMMIT
#   (one query; the mark waits for no WAL flush: portal.outbox.outbox_publish);
#   the 201's case JSON is built from the rows just written: nothing is read back (cases.api.case_created_json).
# 12 -> 13, 13 -> 14, 8 -> 9: the item's earlier cases are read after the item's lock, not as a subquery of the
# locking statement (whose snapshot predates the lock: two concurrent submissions both saw no open case;
# tests/cases/test_races.py::test_double_submitted_case_creation). Correctness over issue #26's "at most 8".
SUBMISSION_WRITE = 13  # token + BEGIN + 7 + COMMIT + BEGIN, SET LOCAL, outbox UPDATE
SUBMISSION = 14  # the whole request: the mark's COMMIT is the last statement
SUBMISSION_QUERIES = 9  # of which not transaction control (issue #26 asks at most 8)
# One sweep batch of due `merchant_response` clocks (the merchant did not answer: the system approves), half of
# them refund_only (refunded at once: refund, payout, points/coupons, payout message) and half return_refund
# (a return clock starts), whatever the batch's size.
#   BEGIN, the batch locked (deadlines with their cases, and whether each case already has a refund: 1), clocks
#   fired and cancelled (2), holidays and deadline policies (2), the cases (one UPDATE … FROM unnest for the
#   batch: 1), INSERT clocks and events (2), refunds of the refunded: INSERT refunds and payouts, the items for
#   points and coupons, the payout message (4), the refunded cases' shop notices (1), the shop members and
#   INSERT notifications with their email message (3), COMMIT; after it, both messages marked sent in one UPDATE
#   (BEGIN, SET LOCAL synchronous_commit TO OFF, UPDATE, COMMIT: 4, one WAL flush fewer; portal.outbox publishes a
#   transaction's messages together); then the empty next batch and the reminders' empty batch (BEGIN, SELECT,
#   COMMIT each: 6).
#   28 → 25 (docs/benchmarks.md, "B2, round three"): the refunds already paid are read with the lock instead of
#   twice on their own, and the cases' UPDATEs (one per group of identical changes) are one statement.
#   25 → 28: the outbox's mark in its own transaction without a WAL flush (BEGIN, SET LOCAL, COMMIT).
SWEEP_BATCH = 28
SCORECARD = 9  # token (with the merchant's shop ids: no membership query), shop, six aggregates (items, events, opened,
#               ended, refunds, ratings), category


def _submission_statements(api: Any, consumer: Any, shop: Any) -> StatementLog:
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=1, unit_price="50.00",
                              paid="50.00")
    client = api(consumer)
    with StatementLog() as log:
        response = client.post("/api/v1/cases/", {"order_item": item.pk, "kind": "return_refund", "reason": "other"},
                               format="json")
    assert response.status_code == 201, response.content
    assert AfterSalesCase.objects.get(pk=response.json()["id"]).number == response.json()["number"]
    return log


def _prefix_until_response(log: StatementLog) -> list[str]:
    """The request's statements up to the last write (the outbox message marked sent); what follows is the
    response's case JSON."""
    last = max(i for i, sql in enumerate(log.sql) if sql.startswith("UPDATE \"portal_outboxmessage\""))
    return log.sql[:last + 1]


def test_submission_statements(api, consumer, shop, postgres, redis_url, monkeypatch):  # type: ignore[no-untyped-def]
    use_broker(monkeypatch, redis_url)
    _submission_statements(api, consumer, shop)  # first use of the connection and of the token
    log = _submission_statements(api, consumer, shop)
    writes = _prefix_until_response(log)
    assert len(writes) == SUBMISSION_WRITE, "\n".join(s[:120] for s in writes)
    assert [s for s in writes if s in ("BEGIN", "COMMIT")] == ["BEGIN", "COMMIT", "BEGIN"]
    assert sum(1 for s in writes if s.startswith("INSERT")) == 5
    assert not any(s.startswith("UPDATE \"cases_") for s in writes)  # the number and clock go into the INSERT
    assert len(log) == SUBMISSION, "\n".join(s[:120] for s in log.sql)  # the 201 reads nothing back
    assert log.queries == SUBMISSION_QUERIES
    assert "SET LOCAL synchronous_commit TO OFF" in log.sql
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()  # published and marked sent


def test_scorecard_statements(api, merchant, shop, postgres):  # type: ignore[no-untyped-def]
    client = api(merchant)
    url = f"/api/v1/shops/{shop.code}/scorecard/"
    assert client.get(url).status_code == 200  # fills the category's 5-minute cache
    with StatementLog() as log:
        response = client.get(url)
    assert response.status_code == 200
    assert len(log) == SCORECARD, "\n".join(s[:120] for s in log.sql)


def _due_clocks(consumer: Any, shop: Any, n: int) -> None:
    for i in range(n):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=1, unit_price="30.00",
                                  paid="30.00")
        services.case_submit(consumer=consumer, order_item_id=item.pk,
                             kind="refund_only" if i % 2 else "return_refund", reason="other")


def _sweep_statements(consumer: Any, shop: Any, n: int) -> tuple[StatementLog, int]:
    _due_clocks(consumer, shop, n)
    later = timezone.now() + timedelta(days=60)
    with StatementLog() as log:
        fired = deadlines_sweep(now=later, batch=500)
    return log, fired


def test_one_sweep_batch_costs_the_same_for_4_or_8(consumer, shop, postgres, redis_url, monkeypatch):  # type: ignore[no-untyped-def]
    use_broker(monkeypatch, redis_url)
    small, fired_small = _sweep_statements(consumer, shop, 4)
    assert fired_small == 4
    large, fired_large = _sweep_statements(consumer, shop, 8)
    assert fired_large == 8
    assert Refund.objects.count() == 2 + 4  # the refund_only halves were refunded
    assert Deadline.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, name="consumer_ship").count() == 6
    assert len(large) == len(small) == SWEEP_BATCH, "\n".join(s[:120] for s in large.sql)
