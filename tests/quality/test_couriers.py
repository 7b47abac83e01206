"""Courier quality per courier and region over 30 days, with hand-worked figures, and the on-time flag."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.quality.couriers import courier_quality
from cases.quality.models import CaseRating
from pickups.models import Courier, Pickup, Slot

pytestmark = pytest.mark.django_db


def test_courier_figures_and_flag(consumer, merchant, item, client, agent):
    now = timezone.now()
    courier = Courier.objects.get(code="simulated")
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="5.00")
    start = now - timedelta(days=2)
    slot = Slot.objects.create(courier=courier, region_code="310100", start=start, end=start + timedelta(hours=2),
                               capacity=10, booked=4)
    old = Slot.objects.create(courier=courier, region_code="310100", start=now - timedelta(days=40),
                              end=now - timedelta(days=40) + timedelta(hours=2), capacity=10, booked=1)

    def pickup(state, picked=None, delivered=None, on=slot):  # type: ignore[no-untyped-def]
        return Pickup.objects.create(case=case, courier=courier, slot=on, state=state, address_region="310104",
                                     weight_grams=500, fee="12.00", payer="consumer", picked_up_at=picked,
                                     delivered_at=delivered)

    # on time (1 h into the slot), delivered 30 h later; late (3 h after the slot began); failed; inspection failed;
    # cancelled (not counted); one outside the window (not counted)
    rated = pickup("delivered", start + timedelta(hours=1), start + timedelta(hours=31))
    pickup("in_transit", start + timedelta(hours=3))
    pickup("failed")
    pickup("inspection_failed")
    pickup("cancelled")
    pickup("delivered", old.start, old.start + timedelta(hours=5), on=old)
    CaseRating.objects.create(case=rated.case, shop=rated.case.shop, consumer=consumer, stars=5, pickup_stars=4)
    [row] = courier_quality(now=now)
    assert (row.courier, row.region, row.booked, row.on_time) == ("simulated", "310100", 4, 1)
    assert row.on_time_rate == Decimal("0.2500") and row.failure_rate == Decimal("0.2500")
    assert row.inspection_failed == 1 and row.delivery_hours == Decimal("30.0")
    # the case's one rating counts once for the courier and region that took its parcel
    assert row.ratings == 1 and row.rating_mean == Decimal("4.00")
    assert row.flagged  # 0.2500 < 0.9000
    client.force_login(agent)
    page = client.get("/admin/cases/aftersalescase/dashboard/").content.decode()
    assert 'data-testid="courier-quality"' in page and 'data-flagged="1"' in page
    assert '<td title="310100">上海市</td>' in page  # the slot's city by name, not its code


def test_a_chart_per_courier_over_weekly_windows(consumer, item, client, agent):
    """The on-time rate of each weekly 30-day window, worked by hand: one pickup on time 10 days ago, one late
    20 days ago, none older."""
    from cases.quality.couriers import courier_trends

    now = timezone.now()
    courier = Courier.objects.get(code="simulated")
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="5.00")
    for days, late in ((10, False), (20, True)):
        start = now - timedelta(days=days)
        slot = Slot.objects.create(courier=courier, region_code="310100", start=start,
                                   end=start + timedelta(hours=2), capacity=10, booked=1)
        picked = start + timedelta(hours=3 if late else 1)
        Pickup.objects.create(case=case, courier=courier, slot=slot, state="delivered", address_region="310104",
                              weight_grams=500, fee="12.00", payer="consumer", picked_up_at=picked,
                              delivered_at=picked + timedelta(hours=24))
    [trend] = courier_trends(now=now)
    # window ends: now-5w, now-4w, now-3w, now-2w, now-1w, now; the on-time pickup (−10 d) is in the windows
    # ending −1w and now only (−2w ends 14 days ago, before it); the late one (−20 d) in those ending −2w, −1w, now
    assert [rate for _end, rate in trend.weeks] == [None, None, None, Decimal("0.0000"), Decimal("0.5000"),
                                                   Decimal("0.5000")]
    assert [value for _label, value in trend.chart["rows"]] == ["—", "—", "—", "0.0%", "50.0%", "50.0%"]
    client.force_login(agent)
    page = client.get("/admin/cases/aftersalescase/dashboard/").content.decode()
    assert 'data-courier-trend="simulated"' in page and "50.0%" in page and 'role="img"' in page
