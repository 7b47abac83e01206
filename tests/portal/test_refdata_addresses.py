"""Addresses read as region names (province city county) wherever a person reads them, never a bare code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from pickups.models import Courier, Pickup, Slot
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting_return(consumer, merchant, shop, item):  # type: ignore[no-untyped-def]
    shop.return_region, shop.return_line = "330122", "桐君街道迎春南路 30 号"  # 浙江省 杭州市 桐庐县
    shop.save()
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="no_reason",
                                quantity=1, condition_intact=True)
    return services.case_approve(case_id=case.pk, actor=merchant)


def test_the_consumers_return_address_names_the_county(client, consumer, awaiting_return):
    client.force_login(consumer)
    url = f"/cases/{awaiting_return.pk}/"
    html = client.get(url).content.decode()
    assert "浙江省 杭州市 桐庐县 桐君街道迎春南路 30 号（售后部 0571-88888888）" in html
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "桐君街道迎春南路 30 号, 浙江省 杭州市 桐庐县 (售后部, 0571-88888888)" in english
    assert "330122" not in html


def test_the_admin_shows_order_shop_and_pickup_addresses_by_name(client, awaiting_return, shop):
    order = awaiting_return.order_item.order
    courier, now = Courier.objects.get(code="simulated"), timezone.now()
    slot = Slot.objects.create(courier=courier, region_code="650100", start=now, end=now + timedelta(hours=2),
                               capacity=10, booked=1)
    pickup = Pickup.objects.create(case=awaiting_return, courier=courier, slot=slot,
                                   address_region="650102", address_line="解放北路 66 号", address_contact="海迪",
                                   address_phone="138", weight_grams=500, fee="12.00", payer="consumer")
    client.force_login(f.make_staff("dave", supervisor=True))
    order_page = client.get(reverse("admin:portal_order_change", args=[order.pk])).content.decode()
    assert "上海市 徐汇区 漕溪北路 1 号（张三 13800005678）" in order_page
    shop_page = client.get(reverse("admin:portal_shop_change", args=[shop.pk])).content.decode()
    assert "浙江省 杭州市 桐庐县 桐君街道迎春南路 30 号（售后部 0571-88888888）" in shop_page
    root = f.make_staff("root", supervisor=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)  # pickups and slots are the superuser's records in the admin
    pickup_page = client.get(reverse("admin:pickups_pickup_change", args=[pickup.pk])).content.decode()
    assert "新疆维吾尔自治区 乌鲁木齐市 天山区 解放北路 66 号（海迪 138）" in pickup_page
    slots = client.get(reverse("admin:pickups_slot_changelist")).content.decode()
    assert "新疆维吾尔自治区 乌鲁木齐市" in slots
    english = client.get(reverse("admin:portal_order_change", args=[order.pk]),
                         HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Delivery address (region names)" in english and "漕溪北路 1 号 (张三 13800005678)" in english
