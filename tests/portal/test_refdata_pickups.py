"""Pickup eligibility on the migrated division list: county codes, the remote provinces, HK/Macao/Taiwan."""

from __future__ import annotations

import pytest

from pickups.models import Courier
from tests import factories as f
from tests.pickups.helpers import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def courier_nowhere(db):  # type: ignore[no-untyped-def]
    """The migrated courier, pointed nowhere: options never call it."""
    Courier.objects.filter(code="simulated").update(base_url="http://127.0.0.1:9/simulated-courier/")


@pytest.mark.parametrize(("code", "reasons"), [
    ("653229", ["remote_region"]),  # 和安县 (Hotan, 2024): a county only the new list has, in Xinjiang
    ("540102", ["remote_region"]),  # 拉萨 城关区
    ("632801", ["remote_region"]),  # 格尔木市, Qinghai
    ("810000", ["region_not_covered"]),  # Hong Kong
    ("820000", ["region_not_covered"]),  # Macao
    ("710000", ["region_not_covered"]),  # Taiwan
    ("429004", []),  # 仙桃市, a county-level city under no prefecture
    ("110228", []),  # 密云县, retired in 2015: an old order's address still works
])
def test_pickup_options_read_the_full_division_list(api, consumer, merchant, shop, code, reasons):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, address_region=code))
    case = make_case(consumer, merchant, item)
    body = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()
    assert body["reasons"] == reasons and body["eligible"] is (not reasons)
