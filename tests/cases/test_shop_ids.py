"""shop_id on every case-owned table (docs/scale.md): every model with a foreign key to the case carries its
case's shop, filled on save and in bulk, after every kind of service has run."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.evidence import evidence_add
from cases.models import CaseEvent, CaseOwned, Deadline, Notification, Refund, RefundPayout
from cases.services.messages import message_post
from cases.sweep import deadlines_sweep
from pickups.models import Pickup, PickupEvent
from tests import factories as f
from tests.pickups.conftest import case, courier, regions  # noqa: F401 (the pickup fixtures)
from tests.shop_ids import CASE_OWNED_TABLES, case_owned_models, shop_id_mismatches

pytestmark = pytest.mark.django_db


def test_every_model_with_a_case_foreign_key_is_listed_and_carries_a_shop():
    models = case_owned_models()
    assert {m._meta.db_table for m in models} == CASE_OWNED_TABLES
    for model in models:
        shop = model._meta.get_field("shop")
        assert shop.related_model._meta.label == "portal.Shop", model
        if issubclass(model, CaseOwned) and model is not Notification:
            assert not shop.null, model  # NOT NULL: only a notice about no case has none
        assert shop.db_index, model


def _png() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    return SimpleUploadedFile("p.png", buf.getvalue(), content_type="image/png")


def test_after_the_services_every_case_owned_row_has_its_cases_shop(consumer, merchant, item, settings):
    other_shop = f.ShopFactory(code="other")  # a second shop, so a wrong shop_id could not pass by accident
    for shop in (item.order.shop, other_shop):
        for kind in ("refund_only", "return_refund"):
            order_item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
            made = services.case_submit(consumer=consumer, order_item_id=order_item.pk, kind=kind, reason="other",
                                        quantity=1)
            message_post(case_id=made.pk, author=consumer, body="你好 hello")
            evidence_add(case_id=made.pk, user=consumer, files=[_png()])
    # the sweep's batch path: merchant_response clocks expire, refunds and payouts in bulk, notices in bulk
    later = max(Deadline.objects.values_list("due_at", flat=True)) + timedelta(minutes=1)
    assert deadlines_sweep(now=later) >= 4
    assert Refund.objects.exists() and RefundPayout.objects.exists() and CaseEvent.objects.exists()
    assert Notification.objects.filter(case__isnull=False).exists()
    assert shop_id_mismatches() == []
    assert set(Refund.objects.values_list("shop_id", flat=True)) == {item.order.shop_id, other_shop.pk}


def test_a_pickup_and_its_events_carry_the_cases_shop(api, consumer, case):  # noqa: F811
    slot = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"][0]
    r = api(consumer).post(f"/api/v1/cases/{case.pk}/pickup/", {"slot": slot["id"]}, format="json")
    assert r.status_code == 201, r.content
    pickup = Pickup.objects.get(case=case)
    assert pickup.shop_id == case.shop_id
    r = api(consumer).post(f"/api/v1/pickups/{pickup.pk}/cancel/")
    assert PickupEvent.objects.filter(pickup=pickup).count() >= 1
    assert shop_id_mismatches() == []
