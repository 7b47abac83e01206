"""Eligibility (every reason code), quote, payer and the slot grid, through the options endpoint."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from cases import services as case_services
from pickups import policy
from pickups.models import CourierRegionRule, Slot
from portal.models import Region
from tests import factories as f
from tests.pickups.helpers import MONDAY_7AM, SHANGHAI, make_case

pytestmark = pytest.mark.django_db


def options(api, user, case):  # type: ignore[no-untyped-def]
    return api(user).get(f"/api/v1/cases/{case.pk}/pickup/options/")


def test_eligible_case_gets_quote_payer_and_slots(api, consumer, case):
    r = options(api, consumer, case)
    assert r.status_code == 200
    body = r.json()
    assert body["eligible"] is True and body["reasons"] == []
    assert body["fee"] == "12.00"  # 500 g → the first kg
    assert body["payer"] == "consumer" and body["consumer_fee"] == "12.00"
    assert body["slots"] and {"id", "start", "end", "remaining"} <= set(body["slots"][0])
    assert body["slots"][0]["remaining"] == 10


def test_only_the_consumer_sees_options(api, merchant, agent, case):
    assert options(api, merchant, case).status_code == 403
    assert options(api, agent, case).status_code == 403
    assert options(api, f.ConsumerFactory(), case).status_code == 404
    assert api().get(f"/api/v1/cases/{case.pk}/pickup/options/").status_code == 401


def test_wrong_state(api, consumer, merchant, regions, item):
    submitted = case_services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                          reason="no_reason", quantity=1, condition_intact=True)
    body = options(api, consumer, submitted).json()
    assert body["eligible"] is False and body["reasons"] == ["wrong_state"] and body["slots"] == []


def test_remote_region_read_at_its_most_specific_level(api, consumer, merchant, regions, shop):
    order = f.OrderFactory(consumer=consumer, shop=shop, address_region="650102")
    item = f.OrderItemFactory(order=order, quantity=1)
    case = make_case(consumer, merchant, item)
    body = options(api, consumer, case).json()
    assert body["reasons"] == ["remote_region"] and body["eligible"] is False


def test_region_not_covered(api, consumer, merchant, regions, shop, courier):
    unknown = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, address_region="999999"))
    assert options(api, consumer, make_case(consumer, merchant, unknown)).json()["reasons"] == ["region_not_covered"]
    CourierRegionRule.objects.create(courier=courier, region_id="330000", excluded=True)
    excluded = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, address_region="330106"))
    assert options(api, consumer, make_case(consumer, merchant, excluded)).json()["reasons"] == ["region_not_covered"]
    Region.objects.filter(code="310100").update(covered=False)
    body = options(api, consumer, make_case(consumer, merchant, f.OrderItemFactory(
        order=f.OrderFactory(consumer=consumer, shop=shop, address_region="310104")))).json()
    assert body["reasons"] == ["region_not_covered"]


def test_overweight_and_oversize_are_both_reported(api, consumer, merchant, regions, shop):
    heavy = f.ProductFactory(shop=shop, weight_grams=16000, length_cm=151, width_cm=10, height_cm=10)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), product=heavy, quantity=2,
                              paid="198.00")
    case = make_case(consumer, merchant, item, quantity=2)  # 2 × 16 kg = 32 kg > 30 kg
    body = options(api, consumer, case).json()
    assert body["reasons"] == ["overweight", "oversize"]
    assert body["fee"] == "74.00"  # 12 + 2 × 31


def test_parcel_exactly_at_the_limits_is_eligible(api, consumer, merchant, regions, shop):
    product = f.ProductFactory(shop=shop, weight_grams=15000, length_cm=150, width_cm=10, height_cm=10)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), product=product, quantity=2,
                              paid="198.00")
    assert options(api, consumer, make_case(consumer, merchant, item, quantity=2)).json()["eligible"] is True


def test_no_slot_when_every_window_is_full(api, consumer, case, courier):
    first = options(api, consumer, case).json()
    Slot.objects.filter(pk__in=[s["id"] for s in first["slots"]]).update(booked=10)
    body = options(api, consumer, case).json()
    assert body["reasons"] == ["no_slot"] and body["slots"] == []


def test_every_reason_that_applies_is_reported(api, consumer, merchant, regions, shop):
    heavy = f.ProductFactory(shop=shop, weight_grams=40000, length_cm=200, width_cm=10, height_cm=10)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, address_region="650102"),
                              product=heavy)
    case = case_services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                     reason="no_reason", quantity=1, condition_intact=True)
    body = options(api, consumer, case).json()
    assert body["reasons"] == ["wrong_state", "remote_region", "overweight", "oversize"]


@pytest.mark.parametrize(("freight", "payer", "consumer_fee"), [
    ("no_reason", "consumer", "12.00"), ("quality_issue", "merchant", "0.00")])
def test_payer_follows_the_case(api, consumer, merchant, regions, item, freight, payer, consumer_fee):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = case_services.case_submit(
        consumer=consumer, order_item_id=item.pk, kind="return_refund", reason=freight, quantity=1,
        condition_intact=True,
        evidence_files=[SimpleUploadedFile("a.jpg", f.jpeg_bytes(), content_type="image/jpeg")],
    )
    case_services.case_approve(case_id=case.pk, actor=merchant)
    body = options(api, consumer, case).json()
    assert body["payer"] == payer and body["fee"] == "12.00" and body["consumer_fee"] == consumer_fee


def test_insurance_pays_when_the_order_carries_it(api, consumer, merchant, regions, shop):
    order = f.OrderFactory(consumer=consumer, shop=shop, return_shipping_insurance=True)
    case = make_case(consumer, merchant, f.OrderItemFactory(order=order))
    body = options(api, consumer, case).json()
    assert body["payer"] == "insurance" and body["consumer_fee"] == "0.00"


@pytest.mark.parametrize(("grams", "fee"), [(1, "12.00"), (1000, "12.00"), (1001, "14.00"), (2500, "16.00"),
                                            (30000, "70.00")])
def test_fee_rounds_kilograms_up(grams, fee):
    assert policy.fee_for(grams, first_kg_fee=Decimal("12.00"), extra_kg_fee=Decimal("2.00")) == Decimal(fee)


# --- the slot grid ----------------------------------------------------------------------------------

def _local(windows):  # type: ignore[no-untyped-def]
    return [(s.astimezone(SHANGHAI), e.astimezone(SHANGHAI)) for s, e in windows]


def test_slots_are_two_hour_windows_between_9_and_21_shanghai():
    windows = _local(policy.slot_windows(MONDAY_7AM))
    assert windows
    for start, end in windows:
        assert end - start == timedelta(hours=2)
        assert 9 <= start.hour and end.hour <= 21 and end.hour != 0 and start.minute == 0
        assert start.hour in (9, 11, 13, 15, 17, 19)


def test_first_slot_starts_at_least_two_hours_ahead():
    assert _local(policy.slot_windows(MONDAY_7AM))[0][0] == MONDAY_7AM.replace(hour=9)
    later = MONDAY_7AM + timedelta(seconds=1)  # 09:00 is now 1:59:59 away
    starts = [s for s, _e in policy.slot_windows(later)]
    assert all(s - later >= timedelta(hours=2) for s in starts)
    assert starts[0].astimezone(SHANGHAI) == MONDAY_7AM.replace(hour=11)


def test_last_slot_starts_at_most_72_hours_ahead():
    at_nine = MONDAY_7AM.replace(hour=9)
    starts = [s for s, _e in policy.slot_windows(at_nine)]
    assert starts[-1] == at_nine + timedelta(hours=72)  # Thursday 09:00, exactly 72 h
    just_before = at_nine - timedelta(seconds=1)  # Thursday 09:00 is now 72 h 1 s away
    starts = [s for s, _e in policy.slot_windows(just_before)]
    assert starts[-1].astimezone(SHANGHAI) == MONDAY_7AM.replace(day=25, hour=19)
    assert all(s - just_before <= timedelta(hours=72) for s in starts)


def test_late_evening_offers_tomorrow_morning():
    evening = MONDAY_7AM.replace(hour=20)
    first = policy.slot_windows(evening)[0][0].astimezone(SHANGHAI)
    assert (first.day, first.hour) == (24, 9)


def test_options_slots_under_a_frozen_clock(api, consumer, case):
    with time_machine.travel(MONDAY_7AM, tick=False):
        slots = options(api, consumer, case).json()["slots"]
    starts = [s["start"] for s in slots]
    assert starts[0] == "2026-11-23T09:00:00+08:00"
    assert slots[0]["end"] == "2026-11-23T11:00:00+08:00"
    assert len(slots) == 3 * 6  # Mon, Tue, Wed; Thursday 09:00 is 74 h away
