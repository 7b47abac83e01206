"""Issue #18, consequences: each threshold's consequence on and off again, the volume rule, the quota's arithmetic,
and that every consequence left an event saying why."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, CaseEvent, CaseMessage, Notification, PlatformSetting, Refund
from cases.quality import consequences as q
from cases.quality.models import BuyerStanding, QualityEvent, QualitySetting, ShopStanding
from cases.services.flow import fast_refund_quota
from portal.models import OrderItem
from tests import factories as f
from tests.quality import dataset

pytestmark = pytest.mark.django_db


def paid_items(shop, consumer, n: int, paid_at):  # type: ignore[no-untyped-def]
    """n order items on one order paid at `paid_at` (bulk: the scorecard counts rows)."""
    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=paid_at, shipped_at=paid_at, signed_at=paid_at)
    product = f.ProductFactory(shop=shop)
    OrderItem.objects.bulk_create([OrderItem(order=order, position=i, product=product, quantity=1,
                                             unit_price=Decimal("10.00"), paid=Decimal("10.00")) for i in range(n)])
    return order


def ruled_refund(shop, consumer, when):  # type: ignore[no-untyped-def]
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, paid_at=when - timedelta(days=60)))
    c = dataset.case(shop, consumer, item, created=when - timedelta(days=2), reason="quality_issue",
                     state="refunded", closed=when, escalated=True)
    dataset.event(c, when, "rule", "staff", "refunded", decision="refund")


@pytest.fixture
def now():  # type: ignore[no-untyped-def]
    return timezone.now()


def test_dispute_consequence_on_fast_approval_then_off(consumer, merchant, shop, item, now,
                                                       django_capture_on_commit_callbacks):
    other = f.ConsumerFactory(username="zed")
    paid_items(shop, other, 98, now - timedelta(days=3))  # + the item fixture's order = 99 items paid
    ruled_refund(shop, other, now - timedelta(days=1))
    ruled_refund(shop, other, now - timedelta(days=1))
    # 2 ruled ÷ 99 items = 0.0202 > 0.0100, but below 100 items a shop is not held to a threshold
    assert q.shops_evaluate(now=now) == []
    assert not ShopStanding.objects.filter(over_dispute_threshold=True).exists()

    paid_items(shop, other, 1, now - timedelta(days=3))  # 100 items: 2 ÷ 100 = 0.0200
    [event] = q.shops_evaluate(now=now)
    assert event.kind == "dispute_consequence_on" and event.shop_id == shop.pk
    assert event.payload["why"] == "over_threshold"
    assert (event.payload["dispute_rate"], event.payload["dispute_rate_threshold"],
            event.payload["order_items_paid"], event.payload["ruled_refund"]) == ("0.0200", "0.0100", 100, 2)
    assert q.shops_evaluate(now=now) == []  # idempotent: nothing changed, nothing written

    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                    quantity=1, amount="50.00")
    case.refresh_from_db()
    assert case.state == "refunded" and not case.auto_approved and case.deadline_name == ""
    approve = CaseEvent.objects.get(case=case, action="approve")
    assert approve.role == "system" and approve.payload["consequence"] == "shop_over_dispute_threshold"
    assert approve.payload["dispute_rate"] == "0.0200" and approve.payload["fast_refund_limit"] == "500.00"
    refund = Refund.objects.get(case=case)
    assert refund.amount == Decimal("50.00") and refund.status == "succeeded"  # paid at once

    # a return, or an amount over the fast-refund limit, goes to the merchant as usual
    limit = PlatformSetting.current()
    limit.fast_refund_limit = Decimal("20.00")
    limit.save()
    big = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                               quantity=1, amount="30.00")
    assert AfterSalesCase.objects.get(pk=big.pk).state == "pending_merchant"

    # back under: 300 items → 2 ÷ 300 = 0.0067 ≤ 0.0100
    paid_items(shop, other, 200, now - timedelta(days=2))
    [off] = q.shops_evaluate(now=now)
    assert off.kind == "dispute_consequence_off" and off.payload["why"] == "back_under_threshold"
    assert off.payload["dispute_rate"] == "0.0067"
    assert not ShopStanding.objects.get(shop=shop).over_dispute_threshold
    services.case_withdraw(case_id=big.pk, actor=consumer)
    small = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                 quantity=1, amount="5.00")
    assert AfterSalesCase.objects.get(pk=small.pk).state == "pending_merchant"


def test_volume_leaving_the_window_lifts_the_consequence(consumer, shop, now):
    paid_items(shop, consumer, 100, now - timedelta(days=3))
    ruled_refund(shop, consumer, now - timedelta(days=1))
    ruled_refund(shop, consumer, now - timedelta(days=1))
    assert [e.kind for e in q.shops_evaluate(now=now)] == ["dispute_consequence_on"]
    [off] = q.shops_evaluate(now=now + timedelta(days=28))  # the items left the 30-day window
    assert off.kind == "dispute_consequence_off" and off.payload["why"] == "volume_below_minimum"


def test_slow_response_warns_the_desk_and_lifts(consumer, merchant, shop, item, now, client):
    paid_items(shop, consumer, 100, now - timedelta(days=3))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="5.00", now=now - timedelta(days=2))
    CaseMessage.objects.create(case=case, author=merchant, role="merchant", body="稍等",
                               created_at=now - timedelta(days=2) + timedelta(hours=30))
    [event] = q.shops_evaluate(now=now)
    assert event.kind == "response_warning_on" and event.payload["first_response_hours"] == "30.0"
    assert event.payload["first_response_hours_threshold"] == "24.0"
    assert Notification.objects.filter(user=merchant, kind="quality_warning").count() == 1
    client.force_login(merchant)
    assert 'data-testid="response-warning"' in client.get(reverse("merchant:metrics")).content.decode()

    setting = QualitySetting.current()
    setting.first_response_hours_threshold = Decimal("48.0")
    setting.save()
    [off] = q.shops_evaluate(now=now)
    assert off.kind == "response_warning_off" and off.payload["why"] == "back_under_threshold"
    assert 'data-testid="response-warning"' not in client.get(reverse("merchant:metrics")).content.decode()


def refunded_orders(consumer, shop, n: int, refunded: int, now):  # type: ignore[no-untyped-def]
    for i in range(n):
        order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=now - timedelta(days=20))
        item = f.OrderItemFactory(order=order)
        if i < refunded:
            c = dataset.case(shop, consumer, item, created=now - timedelta(days=10), reason="other",
                             state="refunded", closed=now - timedelta(days=9))
            dataset.refund(c, now - timedelta(days=9))


def test_serial_returner_needs_volume_is_flagged_with_evidence_and_never_blocked(consumer, shop, item, now,
                                                                                  agent, client):
    refunded_orders(consumer, shop, 8, 8, now)  # with `item`'s order: 9 orders, 8 refunded → 0.8889, but < 10
    assert q.buyers_evaluate(now=now) == []
    refunded_orders(consumer, shop, 1, 0, now)  # 10 orders, 8 refunded → 0.8000 > 0.5000
    [flag] = q.buyers_evaluate(now=now)
    assert flag.kind == "serial_returner_flagged" and flag.consumer_id == consumer.pk
    assert flag.payload["why"] == "refund_rate_over_threshold"
    assert (flag.payload["orders"], flag.payload["refunded_orders"], flag.payload["refund_rate"]) == (10, 8, "0.8000")
    assert len(flag.payload["cases"]) == 8
    assert BuyerStanding.objects.get(consumer=consumer).serial_returner
    assert Notification.objects.filter(user=agent, kind="serial_returner").exists()
    client.force_login(agent)
    page = client.get(reverse("admin:cases_dashboard")).content.decode()
    assert 'data-testid="serial-returners"' in page and "alice" in page
    # the flag never blocks a request by itself
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="5.00")
    assert case.pk
    refunded_orders(consumer, shop, 7, 0, now)  # 17 orders, 8 refunded → 0.4706 ≤ 0.5000
    [clear] = q.buyers_evaluate(now=now)
    assert clear.kind == "serial_returner_cleared" and clear.payload["why"] == "back_under_threshold"


def test_quota_arithmetic(consumer, shop, now):
    limit = Decimal("500.00")
    assert fast_refund_quota(consumer, limit=limit, now=now) == Decimal("1500.00")  # clean: 3 ×
    refunded_orders(consumer, shop, 10, 1, now)  # 10 orders, 1 refunded: 0.1000 ≤ 0.1000 trusted → 5 ×
    assert fast_refund_quota(consumer, limit=limit, now=now) == Decimal("2500.00")
    refunded_orders(consumer, shop, 1, 1, now)  # a second case to lose a dispute on below
    c = AfterSalesCase.objects.filter(consumer=consumer).first()
    dataset.event(c, now - timedelta(days=5), "refuse_receipt", "merchant", "rejected")
    assert fast_refund_quota(consumer, limit=limit, now=now) == Decimal("500.00")  # one blemish: 1 ×
    lost = AfterSalesCase.objects.filter(consumer=consumer).exclude(pk=c.pk).first()
    AfterSalesCase.objects.filter(pk=lost.pk).update(closure_reason="ruled_for_merchant",
                                                     closed_at=now - timedelta(days=3))
    assert fast_refund_quota(consumer, limit=limit, now=now) == Decimal("0.00")  # two: none
    # 91 days on, the blemishes have left the 90 days (and so have the orders): clean again, 3 ×
    assert fast_refund_quota(consumer, limit=limit, now=now + timedelta(days=91)) == Decimal("1500.00")


def test_supervisor_edits_thresholds_audited_agents_cannot(client, supervisor, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:quality_qualitysetting_add")).status_code == 403
    client.force_login(supervisor)
    r = client.post(reverse("admin:quality_qualitysetting_add"), {
        "dispute_rate_threshold": "0.0200", "first_response_hours_threshold": "24.0",
        "serial_returner_refund_rate": "0.5000", "trusted_refund_rate": "0.1000",
        "courier_on_time_threshold": "0.9000"})
    assert r.status_code == 302, r.content.decode()[:2000]
    event = QualityEvent.objects.get(kind="settings_changed")
    assert event.actor == supervisor and event.payload["changed"] == {"dispute_rate_threshold": ["0.0100", "0.0200"]}
    bad = client.post(reverse("admin:quality_qualitysetting_change", args=[QualitySetting.objects.get().pk]), {
        "dispute_rate_threshold": "2", "first_response_hours_threshold": "24.0",
        "serial_returner_refund_rate": "0.5000", "trusted_refund_rate": "0.1000",
        "courier_on_time_threshold": "0.9000"})
    assert bad.status_code == 200 and QualitySetting.current().dispute_rate_threshold == Decimal("0.0200")
