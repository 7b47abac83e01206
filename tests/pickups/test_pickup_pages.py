"""Issue 17's fixes on the pages: sentences instead of codes, pickup steps on the timeline, links by role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Notification
from pickups import services as pickup_services
from tests.pickups.test_booking import book, first_slot

pytestmark = pytest.mark.django_db


def test_a_failed_pickup_reads_as_a_sentence_with_a_next_step_and_is_on_the_timeline(api, client, consumer, case):
    slot = first_slot(api, consumer, case)
    pickup = book(api, consumer, case, slot["id"]).json()
    pickup_services.pickup_fail(pickup_id=pickup["id"], reason="dispatch_failed")
    client.force_login(consumer)
    html = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "dispatch_failed" not in html
    assert "快递公司多次未能接单" in html and "重新选择时段改约" in html
    timeline = html[html.index('id="timeline-h"'):]
    assert "预约上门取件" in timeline and "上门取件失败" in timeline
    assert "取件地址" in html and "徐汇区" in html  # the address to confirm, by name


def test_slot_days_are_named(api, client, consumer, case):
    client.force_login(consumer)
    html = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert any(word in html for word in ("今天", "明天", "后天"))
    assert any(day in html for day in ("周一", "周二", "周三", "周四", "周五", "周六", "周日"))


def test_the_pickup_failure_notification_reads_in_english(api, client, consumer, case):
    slot = first_slot(api, consumer, case)
    pickup = book(api, consumer, case, slot["id"]).json()
    pickup_services.pickup_fail(pickup_id=pickup["id"], reason="no_show")
    assert Notification.objects.filter(user=consumer, kind="pickup_failed").exists()
    client.force_login(consumer)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("web:notifications")).content.decode()
    assert "上门取件未能完成" not in html and "book another pickup slot" in html


def test_a_merchants_notification_opens_the_desk(client, consumer, merchant, item):
    from cases import services

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="not_received",
                                quantity=1)
    assert Notification.objects.filter(user=merchant, case=case).exists()
    client.force_login(merchant)
    html = client.get(reverse("web:notifications")).content.decode()
    assert reverse("merchant:case", args=[case.pk]) in html
    assert f'href="{reverse("web:case", args=[case.pk])}"' not in html
    assert reverse("merchant:metrics") in html  # the desk's own navigation stays


def test_favicon_and_language_names(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    html = client.get(reverse("login")).content.decode()
    assert ">English<" in html and "英语" not in html


@pytest.mark.parametrize("lang, words, absent", [
    ("zh-hans", ["预约上门取件", "快递员已接单", "运单号 SF123", "上门取件失败", "快递公司多次未能接单", "改约上门取件",
                 "上门取件 · 快递公司", "上门取件 · 消费者", "取件单现为"], ["dispatch_failed", "Pickup booked"]),
    ("en", ["Pickup · ", "Waybill SF123", "pickup now"], ["预约上门取件", "上门取件失败", "快递员已接单", "dispatch_failed"]),
])
def test_the_staff_review_timeline_has_the_pickup(api, client, consumer, case, agent, lang, words, absent):
    """Booking, the courier's acceptance, the failure and the re-booking, between the case's own events."""
    pickup = book(api, consumer, case, first_slot(api, consumer, case)["id"]).json()
    from pickups.models import Pickup

    key = Pickup.objects.get(pk=pickup["id"]).idempotency_key
    pickup_services.pickup_record_dispatch(pickup_id=pickup["id"], idempotency_key=key, waybill="SF123",
                                           source="courier")
    pickup_services.pickup_fail(pickup_id=pickup["id"], reason="dispatch_failed", source="courier")
    slots = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"]
    assert api(consumer).post(f"/api/v1/pickups/{pickup['id']}/reschedule/", {"slot": slots[-1]["id"]},
                              format="json").status_code == 200
    client.force_login(agent)
    client.cookies["django_language"] = lang
    html = client.get(reverse("admin:cases_aftersalescase_review", args=[case.pk])).content.decode()
    timeline = html[html.index('data-testid="timeline"'):]
    timeline = timeline[:timeline.index("</ol>")]
    assert timeline.count('data-testid="pickup-event"') == 4
    for word in words:
        assert word in timeline, word
    for word in absent:
        assert word not in timeline, word
    entries = timeline.split("<li")[1:]
    assert "sh-tl-consumer" in entries[0] and "sh-tl-merchant" in entries[1]  # submitted, approved,
    assert all("pickup-event" in e for e in entries[2:6])  # then the pickup's four steps
