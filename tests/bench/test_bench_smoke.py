"""The benchmark data generator at a tiny scale: row counts, every state, and data the real code accepts.

No timing asserts: this only proves that `make bench` measures a consistent marketplace.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from cases.choices import State
from cases.models import AfterSalesCase, CaseEvent, Deadline, Refund
from portal.benchmarks.common import token_key
from portal.benchmarks.generate import generate
from portal.models import Order, Shop, User

pytestmark = pytest.mark.django_db(transaction=True)

TERMINAL = {State.REFUNDED, State.COMPLETED, State.CLOSED}


@pytest.fixture
def generated(postgres):  # type: ignore[no-untyped-def]
    result = generate(0.001, log=lambda message: None)
    connection.close()  # the generator wrote through its own connections; start from a fresh one
    return result


def test_row_counts_follow_the_plan(generated) -> None:  # type: ignore[no-untyped-def]
    plan = generated.plan
    assert Shop.objects.count() == plan.shops
    assert User.objects.filter(role="consumer").count() == plan.consumers
    assert AfterSalesCase.objects.count() == plan.cases
    assert Order.objects.count() == plan.cases + plan.fresh_orders
    assert Shop.objects.get(code=plan.big_shop_code).cases.count() == plan.big_shop_cases
    assert generated.counts["cases_caseevent"] == CaseEvent.objects.count()


def test_every_state_is_present_with_consistent_clocks_and_refunds(generated) -> None:  # type: ignore[no-untyped-def]
    from portal.benchmarks.shapes import CLOCK

    states = set(AfterSalesCase.objects.values_list("state", flat=True).distinct())
    # every state of the marketplace's shape (the states added with appeals and interception are not in it yet)
    assert states == set(CLOCK) | TERMINAL
    assert states <= set(State.values)
    open_cases = AfterSalesCase.objects.exclude(state__in=TERMINAL)
    running = Deadline.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True)
    assert running.count() == open_cases.count()
    assert not running.filter(due_at__lte=timezone.now()).exists()  # a live sweep would have fired them
    mismatched = [d for d in running.select_related("case")[:500]
                  if d.case.state != d.state or d.case.deadline_due_at != d.due_at or d.case.deadline_name != d.name]
    assert mismatched == []
    assert Refund.objects.count() == AfterSalesCase.objects.filter(state=State.REFUNDED).count()
    assert not AfterSalesCase.objects.filter(state__in=TERMINAL, closed_at__isnull=True).exists()
    # Each case's events chain from submit to its current state.
    case = AfterSalesCase.objects.filter(state=State.COMPLETED).first()
    events = list(case.events.order_by("at", "id"))
    assert events[0].action == "submit" and events[-1].to_state == case.state
    assert all(a.to_state == b.from_state for a, b in zip(events, events[1:], strict=False))


def test_the_api_accepts_the_generated_tokens_and_b1_b4_see_the_same_rows(generated, client) -> None:  # type: ignore[no-untyped-def]
    from portal.benchmarks.reads import b1_queue, b4_case_page

    b1 = b1_queue(n=2)
    assert b1["same_rows"] is True
    assert b1["api"].status == 200 and b1["shop_cases"] == generated.plan.big_shop_cases
    b4 = b4_case_page(n=2)
    assert (b4["events"], b4["messages"], b4["evidence"]) == (100, 20, 9)
    consumer = AfterSalesCase.objects.get(pk=b4["case"]).consumer
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {token_key(consumer.pk)}")
    assert response.status_code == 200 and response.json()["count"] >= 1


def test_b5_scorecard_answers_and_its_sql_agrees_with_a_row_by_row_count(generated) -> None:  # type: ignore[no-untyped-def]
    """B5's figures (one aggregate query per table, p90 by percentile_disc) equal the same figures counted row by
    row in Python on the generated shop."""
    from datetime import datetime

    from cases.choices import QUALITY_REASONS
    from cases.scorecard import mean_hours, p90_hours, shop_scorecard
    from portal.benchmarks.scorecard import b5_scorecard
    from portal.models import OrderItem

    b5 = b5_scorecard(n=2)
    assert b5["api"].status == 200 and b5["shop_cases"] == generated.plan.big_shop_cases
    shop = Shop.objects.get(code=b5["shop"])
    card = shop_scorecard(shop).as_json()
    lo, hi = datetime.fromisoformat(card["from"]), datetime.fromisoformat(card["to"])
    cases = list(AfterSalesCase.objects.filter(shop=shop))
    opened = [c for c in cases if lo <= c.created_at < hi]
    ended = [c for c in cases if c.closed_at and lo <= c.closed_at < hi]
    refunds = [r for r in Refund.objects.filter(case__shop=shop).select_related("case")
               if r.paid_at and lo <= r.paid_at < hi]
    durations = [(r.paid_at - r.case.created_at).total_seconds() for r in refunds]
    responses = [(c.first_response_at - c.created_at).total_seconds() for c in opened if c.first_response_at]
    assert card["counts"] == {**card["counts"],
                              "order_items_paid": OrderItem.objects.filter(order__shop=shop, order__paid_at__gte=lo,
                                                                          order__paid_at__lt=hi).count(),
                              "opened": len(opened), "terminal": len(ended),
                              "self_resolved": len([c for c in ended if not c.escalated]),
                              "refunds_paid": len(refunds), "responded": len(responses),
                              "quality_refunds": len([r for r in refunds if r.case.reason in QUALITY_REASONS])}
    assert card["refund_hours"] == {"mean": str(mean_hours(durations)) if durations else None,
                                    "p90": str(p90_hours(durations)) if durations else None}
    assert card["first_response_hours"] == (str(mean_hours(responses)) if responses else None)
    assert card["counts"]["refunds_paid"] > 0 and card["counts"]["opened"] > 0
