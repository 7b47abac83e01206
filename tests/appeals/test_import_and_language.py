"""The import fields the new parts need (api.md, added 2026-12-02) and the English catalogue of locale/appeals."""

from __future__ import annotations

import pytest
from django.utils import translation

from cases.notices import render
from portal.importer import ImportError_, import_document
from portal.models import Order, Product
from tests.portal.docs import doc

pytestmark = pytest.mark.django_db


def test_orders_take_carrier_and_waybill_and_products_on_site_service():
    document = doc()
    document["orders"][0].update(carrier="simulated", waybill="SIM000000000002")
    document["products"][0]["on_site_service"] = True
    import_document(document, operator=True)
    order = Order.objects.get(number=document["orders"][0]["number"])
    assert (order.carrier, order.waybill) == ("simulated", "SIM000000000002")
    assert Product.objects.get(sku=document["products"][0]["sku"]).on_site_service is True
    assert Product.objects.exclude(sku=document["products"][0]["sku"]).filter(on_site_service=True).count() == 0


def test_an_unknown_carrier_rejects_the_document():
    document = doc()
    document["orders"][0]["carrier"] = "no-such-courier"
    with pytest.raises(ImportError_) as refused:
        import_document(document, operator=True)
    assert refused.value.path == "orders[0].carrier"
    assert not Order.objects.exists()


def test_the_new_notices_read_in_english():
    with translation.override("en"):
        assert render("appeal_ready", {"number": "AS1"}) == "The appeal on case AS1 is ready for decision"
        assert render("next:intercepting", {"number": "AS1"}).startswith("Case AS1: the parcel is being intercepted")
    with translation.override("zh-hans"):
        assert render("appeal_ready", {"number": "AS1"}) == "售后单 AS1 的申诉可以复核了"
