"""Pickup fixtures: regions, a case awaiting its return (built through the real services), signed webhooks."""

from __future__ import annotations

from typing import Any

import pytest

from pickups.models import Courier
from portal.models import Region
from tests.pickups.helpers import make_case, signed_post

REGIONS = [
    ("310000", "上海市", None, 1, False), ("310100", "上海市辖区", "310000", 2, False),
    ("310104", "徐汇区", "310100", 3, False),
    ("330000", "浙江省", None, 1, False), ("330100", "杭州市", "330000", 2, False),
    ("330106", "西湖区", "330100", 3, False),
    ("650000", "新疆维吾尔自治区", None, 1, True), ("650100", "乌鲁木齐市", "650000", 2, False),
    ("650102", "天山区", "650100", 3, False),
]


@pytest.fixture
def regions(db: Any, courier: Courier) -> None:
    """The few regions the tests use (the portal's migration normally creates them all)."""
    for code, name, parent, level, remote in REGIONS:
        Region.objects.update_or_create(code=code, defaults={"name": name, "parent_id": parent, "level": level,
                                                             "remote": remote, "covered": True})


@pytest.fixture
def courier(db: Any) -> Courier:
    """The courier the migration made, pointed nowhere: no test books at a portal someone runs on :8000.
    Tests that dispatch for real use `courier_live`."""
    courier = Courier.objects.get(code="simulated")
    courier.base_url = "http://127.0.0.1:9/simulated-courier/"
    courier.save(update_fields=["base_url"])
    return courier


@pytest.fixture
def courier_live(live_server: Any, courier: Courier) -> Courier:
    """The simulated courier served over real HTTP by pytest-django's live server."""
    courier.base_url = f"{live_server.url}/simulated-courier/"
    courier.save(update_fields=["base_url"])
    return courier


@pytest.fixture
def case(regions: None, courier: Courier, consumer: Any, merchant: Any, item: Any) -> Any:
    return make_case(consumer, merchant, item)


@pytest.fixture
def courier_says(client: Any, courier: Courier) -> Any:
    """Send a status event signed like the courier would, about a pickup."""
    counter = {"n": 0}

    def send(pickup: Any, status: str, **extra: Any) -> Any:
        counter["n"] += 1
        body = {"event_id": f"evt-{pickup.pk}-{counter['n']}", "waybill": extra.pop("waybill", pickup.waybill),
                "reference": pickup.idempotency_key, "status": status, "at": "2026-11-23T10:00:00+08:00", **extra}
        return signed_post(client, body, secret=courier.secret)

    return send

