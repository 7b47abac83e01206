"""The sweep writes one log line per case it moved (issue 17): id, number, action, from, to, the clock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, Deadline
from cases.sweep import deadline_fire, deadlines_sweep
from tests import factories as f

pytestmark = pytest.mark.django_db


def _cases(n: int) -> list[AfterSalesCase]:
    consumer, shop = f.ConsumerFactory(), f.ShopFactory()
    made = []
    for _ in range(n):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        made.append(services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                         reason="other", quantity=1))
    return made


def _moves(caplog) -> list[logging.LogRecord]:  # type: ignore[no-untyped-def]
    return [r for r in caplog.records if r.name == "cases" and hasattr(r, "case_id")]


def test_one_line_per_case_moved_by_a_batch(caplog, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    cases = _cases(3)
    later = timezone.now() + timedelta(days=30)
    caplog.set_level(logging.INFO, logger="cases")
    with django_capture_on_commit_callbacks(execute=True):
        deadlines_sweep(now=later)
        assert _moves(caplog) == []  # written once the sweep's transaction commits, not before
    lines = {r.case_id: r for r in _moves(caplog)}  # type: ignore[attr-defined]
    assert set(lines) == {c.pk for c in cases}
    for case in cases:
        line = lines[case.pk]
        assert (line.case, line.action, line.deadline) == (case.number, "approve", "merchant_response")  # type: ignore[attr-defined]
        assert getattr(line, "from") == "pending_merchant"
        assert line.to == AfterSalesCase.objects.get(pk=case.pk).state == "awaiting_return"  # type: ignore[attr-defined]


def test_the_one_case_path_logs_too_and_a_clock_that_moves_nothing_does_not(  # type: ignore[no-untyped-def]
        caplog, django_capture_on_commit_callbacks):
    case = _cases(1)[0]
    deadline = Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)
    caplog.set_level(logging.INFO, logger="cases")
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_fire(deadline_id=deadline.pk, now=timezone.now()) is False  # not due yet
    assert _moves(caplog) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(seconds=1)) is True
    [line] = _moves(caplog)
    assert (line.case_id, line.to) == (case.pk, "awaiting_return")  # type: ignore[attr-defined]
