"""Merchant desk fixtures: cases built through the real services, in the states the desk works on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import AfterSalesCase
from tests import factories as f


@pytest.fixture
def make_case(db, consumer, shop) -> Callable[..., AfterSalesCase]:  # type: ignore[no-untyped-def]
    """make_case(kind=, reason=, paid=, shop=, consumer=, photo=) → a fresh `pending_merchant` case."""

    def make(kind: str = "refund_only", reason: str = "no_reason", paid: str = "100.00", *, shop_=None,
             consumer_=None, photo: bool = False, amount: str | None = None, order_number: str | None = None,
             **order_kwargs) -> AfterSalesCase:  # type: ignore[no-untyped-def]
        owner = consumer_ or consumer
        order = f.OrderFactory(consumer=owner, shop=shop_ or shop,
                               **({"number": order_number} if order_number else {}), **order_kwargs)
        item = f.OrderItemFactory(order=order, quantity=1, unit_price=paid, paid=paid)
        files = [SimpleUploadedFile("p.jpg", f.jpeg_bytes(), "image/jpeg")] if photo else []
        return services.case_submit(consumer=owner, order_item_id=item.pk, kind=kind, reason=reason,
                                    amount=amount, condition_intact=True, description="尺码不合适",
                                    evidence_files=files)

    return make


@pytest.fixture
def returned_case(make_case, merchant, consumer) -> Callable[..., AfterSalesCase]:  # type: ignore[no-untyped-def]
    """A case whose return is on its way back to the shop (`return_in_transit`)."""

    def make(kind: str = "return_refund", **kwargs) -> AfterSalesCase:  # type: ignore[no-untyped-def]
        case = make_case(kind=kind, **kwargs)
        services.case_approve(case_id=case.pk, actor=merchant)
        return services.case_ship_return(case_id=case.pk, actor=case.consumer, carrier="SF",
                                         tracking_number="SF100200")

    return make


@pytest.fixture
def other_shop(db):  # type: ignore[no-untyped-def]
    """Shop B with its own merchant "eve" and a consumer "zoe"."""
    eve = f.MerchantFactory(username="eve")
    return f.ShopFactory(code="beta", name="Beta 专卖店", members=[eve])


@pytest.fixture
def merchant_client(client, merchant, shop):  # type: ignore[no-untyped-def]
    client.force_login(merchant)
    return client
