"""The shop's "don't ship" notice (docs/shop-notices.md): a `not_shipped` refund tells the shop's system not to
ship, recorded on the case, signed, idempotent, and re-sent by the outbox sweep until the shop answers 2xx."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, CaseEvent, ShopNotice
from cases.shop_notices import ShopUnavailable, shop_notice_send
from portal.outbox import resend_outgoing
from portal.signing import verify
from tests import factories as f

pytestmark = pytest.mark.django_db

SECRET = "shop-secret-" + "x" * 20


class FakeShop:
    """The shop's endpoint: records every POST, answers with the scripted statuses (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.calls: list[dict[str, Any]] = []

    def post(self, url: str, data: bytes, headers: dict[str, str], timeout: float) -> Any:
        self.calls.append({"url": url, "body": data, "headers": headers})
        status = self.statuses.pop(0) if self.statuses else 200
        return type("Response", (), {"status_code": status})()


@pytest.fixture
def shop_endpoint(monkeypatch, shop):  # type: ignore[no-untyped-def]
    shop.notify_url, shop.notify_secret = "https://shop.example/hooks/after-sales", SECRET
    shop.save()
    fake = FakeShop()
    monkeypatch.setattr("cases.shop_notices.requests.post", fake.post)
    return fake


def not_shipped_case(consumer: Any, shop: Any, reason: str = "not_shipped") -> AfterSalesCase:
    order = f.OrderFactory(consumer=consumer, shop=shop, shipped_at=None, signed_at=None)
    if reason == "not_received":
        order.shipped_at = timezone.now() - timedelta(days=1)
        order.save()
    item = f.OrderItemFactory(order=order, quantity=1, unit_price="80.00", paid="80.00")
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason=reason,
                                amount="80.00", quantity=1)


def test_an_approved_not_shipped_refund_records_a_signed_notice_for_the_shop(consumer, merchant, shop,
                                                                              shop_endpoint):
    case = services.case_act(action="approve", case_id=not_shipped_case(consumer, shop).pk, actor=merchant,
                             data={})
    assert case.state == "refunded"
    notice = ShopNotice.objects.get(case=case)
    assert (notice.kind, notice.shop_id, notice.idempotency_key) == ("do_not_ship", shop.pk,
                                                                     f"do_not_ship-{case.number}")
    assert notice.payload["case"] == case.number and notice.payload["quantity"] == 1
    assert CaseEvent.objects.filter(case=case, action="shop_notice").count() == 1
    assert notice.delivered_at is None  # sent after commit (never inside the move's transaction)
    assert shop_notice_send(notice_id=notice.pk) is True
    call = shop_endpoint.calls[0]
    assert call["url"] == shop.notify_url and call["headers"]["Idempotency-Key"] == notice.idempotency_key
    assert verify(SECRET, call["headers"]["X-Timestamp"], call["headers"]["X-Signature"], call["body"],
                  tolerance=60) is None
    assert json.loads(call["body"])["event"] == "do_not_ship"
    notice.refresh_from_db()
    assert notice.delivered_at is not None and notice.attempts == 1
    assert shop_notice_send(notice_id=notice.pk) is True and len(shop_endpoint.calls) == 1  # idempotent
    assert CaseEvent.objects.filter(case=case, action="shop_notice_delivered").count() == 1


def test_the_systems_approval_on_the_deadline_notifies_too(consumer, shop, shop_endpoint):
    from cases.sweep import deadlines_sweep

    case = not_shipped_case(consumer, shop)
    assert deadlines_sweep(now=timezone.now() + timedelta(days=2)) >= 1
    assert AfterSalesCase.objects.get(pk=case.pk).state == "refunded"
    assert ShopNotice.objects.filter(case=case, kind="do_not_ship").count() == 1


def test_other_refunds_send_no_notice(consumer, merchant, shop, shop_endpoint):
    case = not_shipped_case(consumer, shop, reason="not_received")
    services.case_act(action="approve", case_id=case.pk, actor=merchant, data={})
    assert not ShopNotice.objects.exists()
    assert not CaseEvent.objects.filter(action="shop_notice").exists()


def test_a_refused_notice_is_re_sent_by_the_outbox_sweep_until_acknowledged(consumer, merchant, shop,
                                                                            shop_endpoint):
    case = services.case_act(action="approve", case_id=not_shipped_case(consumer, shop).pk, actor=merchant,
                             data={})
    notice = ShopNotice.objects.get(case=case)
    shop_endpoint.statuses = [503]
    with pytest.raises(ShopUnavailable):
        shop_notice_send(notice_id=notice.pk)
    notice.refresh_from_db()
    assert notice.delivered_at is None and notice.attempts == 1 and notice.last_error == "HTTP 503"
    assert resend_outgoing()["shop_notices"] == 0  # just caused: its own message may still arrive
    assert resend_outgoing(now=timezone.now() + timedelta(minutes=3))["shop_notices"] == 1
    notice.refresh_from_db()
    assert notice.delivered_at is not None and notice.attempts == 2
    assert resend_outgoing(now=timezone.now() + timedelta(minutes=3))["shop_notices"] == 0
    keys = {c["headers"]["Idempotency-Key"] for c in shop_endpoint.calls}
    assert keys == {notice.idempotency_key} and len(shop_endpoint.calls) == 2


def test_a_shop_without_an_endpoint_keeps_the_record_and_is_not_called(consumer, merchant, shop, monkeypatch):
    fake = FakeShop()
    monkeypatch.setattr("cases.shop_notices.requests.post", fake.post)
    case = services.case_act(action="approve", case_id=not_shipped_case(consumer, shop).pk, actor=merchant,
                             data={})
    notice = ShopNotice.objects.get(case=case)
    assert shop_notice_send(notice_id=notice.pk) is False
    assert resend_outgoing(now=timezone.now() + timedelta(minutes=3))["shop_notices"] == 0
    assert fake.calls == [] and ShopNotice.objects.get(pk=notice.pk).last_error == "no_endpoint"


def test_the_admin_keeps_the_shops_signing_key_write_only(shop):
    from portal.admin import ShopForm

    shop.notify_secret = SECRET
    shop.save()
    data = {"code": shop.code, "name": shop.name, "notify_url": "https://shop.example/h", "notify_secret": ""}
    form = ShopForm(data=data, instance=shop)
    assert form.is_valid(), form.errors
    assert SECRET not in str(form["notify_secret"])
    assert form.save().notify_secret == SECRET and shop.notify_url == "https://shop.example/h"
    form = ShopForm(data={**data, "notify_secret": "rotated-" + "y" * 20}, instance=shop)
    assert form.is_valid() and form.save().notify_secret == "rotated-" + "y" * 20
