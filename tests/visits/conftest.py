"""Visit fixtures: the pickups tests' regions and couriers, and a repair case on an on-site product waiting for
its item (built through the real services)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from tests import factories as f
from tests.pickups import conftest as pickup_fixtures

# the pickups tests' fixtures (regions; the simulated courier pointed nowhere, or at the live server)
regions = pickup_fixtures.regions
courier = pickup_fixtures.courier
courier_live = pickup_fixtures.courier_live


def repair_case(consumer: Any, merchant: Any, shop: Any, *, on_site: bool = True, kind: str = "repair",
                reason: str = "quality_issue") -> Any:
    """A case in `awaiting_return`; a `repair` on a product marked for on-site service by default."""
    order = f.OrderFactory(consumer=consumer, shop=shop)
    product = f.ProductFactory(shop=shop, on_site_service=on_site, warranty_days=365)
    item = f.OrderItemFactory(order=order, product=product, quantity=1, unit_price="300.00", paid="300.00")
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason, quantity=1,
                                amount="300.00" if kind == "return_refund" else None,
                                evidence_files=[SimpleUploadedFile("p.jpg", f.jpeg_bytes())])
    return services.case_approve(case_id=case.pk, actor=merchant)


@pytest.fixture
def visit_case(regions: None, courier: Any, consumer: Any, merchant: Any, shop: Any) -> Any:
    return repair_case(consumer, merchant, shop)


@pytest.fixture
def book(consumer: Any) -> Any:
    """Book the first open visit slot for a case as its consumer, through the one dispatcher."""
    def run(case: Any, actor: Any = None) -> Any:
        from pickups.visits import visit_assess

        slot = visit_assess(case=case).slots[0]
        return services.case_act(action="book_visit", case_id=case.pk, actor=actor or consumer,
                                 data={"slot": slot.pk})

    return run
