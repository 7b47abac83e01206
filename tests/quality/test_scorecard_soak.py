"""SOAK=1: the scorecard of a shop with 20,000 cases (and its category's pool of 5 such shops) answers fast.

A local measure of the same queries; the figure of record is `make bench`'s B5 on the 1M-case data
(`manage.py bench --only b5`, docs/benchmarks.md).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import AfterSalesCase, CaseEvent, Refund
from cases.scorecard import shop_scorecard
from portal.models import Order, OrderItem
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not os.environ.get("SOAK"), reason="SOAK=1 only")]


def fill(shop, consumer, product, n_cases: int, now):  # type: ignore[no-untyped-def]
    rnd = random.Random(shop.pk)
    orders = Order.objects.bulk_create([
        Order(number=f"P{shop.code}-{i}", consumer=consumer, shop=shop,
              paid_at=now - timedelta(days=rnd.uniform(0, 365)), address_region="310104")
        for i in range(n_cases)])
    items = OrderItem.objects.bulk_create([
        OrderItem(order=o, position=0, product=product, quantity=1, unit_price=Decimal("10.00"),
                  paid=Decimal("10.00")) for o in orders])
    cases, events, refunds = [], [], []
    for i, item in enumerate(items):
        created = item.order.paid_at + timedelta(days=1)
        cases.append(AfterSalesCase(number=f"C{shop.code}-{i}", order_item=item, consumer=consumer, shop=shop,
                                    kind="refund_only", reason=rnd.choice(["quality_issue", "other"]),
                                    state="refunded", created_at=created, closed_at=created + timedelta(days=2),
                                    escalated=i % 10 == 0))
    AfterSalesCase.objects.bulk_create(cases)
    for c in cases:
        events.append(CaseEvent(case=c, at=c.created_at, role="consumer", action="submit", to_state="pending_merchant"))
        events.append(CaseEvent(case=c, at=c.created_at + timedelta(hours=5), role="merchant", action="reject",
                                to_state="rejected"))
        if c.escalated:
            events.append(CaseEvent(case=c, at=c.created_at + timedelta(days=1), role="consumer", action="escalate",
                                    to_state="in_arbitration"))
            events.append(CaseEvent(case=c, at=c.closed_at, role="staff", action="rule", to_state="refunded",
                                    payload={"decision": "refund"}))
        refunds.append(Refund(case=c, amount=Decimal("10.00"), status="succeeded", idempotency_key=f"r-{c.number}",
                              paid_at=c.closed_at))
    CaseEvent.objects.bulk_create(events)
    Refund.objects.bulk_create(refunds)


def test_scorecard_p95_for_a_20000_case_shop():
    now = timezone.now()
    consumer = f.ConsumerFactory(username="soak")
    shops = [f.ShopFactory(code=f"soak{i}") for i in range(5)]
    for shop in shops:
        fill(shop, consumer, f.ProductFactory(shop=shop, category="apparel"), 20_000, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    times = []
    for _ in range(20):
        start = time.perf_counter()
        card = shop_scorecard(shops[0])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    print(f"scorecard ms: median {statistics.median(times):.1f} p95 {p95:.1f}; {card.as_json()['counts']}")
    assert card.counts.opened > 0
