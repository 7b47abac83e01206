"""A running clock a holiday paused: cases.deadlines.holiday_pauses, and the line both case pages show for it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from cases import services
from cases.deadlines import case_holiday_pause, holiday_pauses, running_deadline
from cases.models import Holiday
from portal.refdata.holidays import holidays_sync
from tests import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 2, 12, 10, 0, tzinfo=SH)  # three days before 春节 2026 (2月15日至23日, 9 days)


@pytest.fixture
def parties(db):  # type: ignore[no-untyped-def]
    consumer, merchant = f.ConsumerFactory(), f.MerchantFactory()
    shop = f.ShopFactory()
    shop.members.add(merchant)
    return consumer, merchant, shop


def order_item(consumer, shop, at: datetime = START):  # type: ignore[no-untyped-def]
    """An item signed for two days before `at`."""
    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=at - timedelta(days=5),
                           shipped_at=at - timedelta(days=4), signed_at=at - timedelta(days=2))
    return f.OrderItemFactory(order=order)


def open_case(consumer, shop):  # type: ignore[no-untyped-def]
    """A return request: the merchant's 5-day clock (merchant_response) starts at START."""
    item = order_item(consumer, shop)
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, now=START)


def page(user, url: str, language: str = "zh-hans") -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_a_clock_over_the_spring_festival_paused_exactly_the_festival(parties, time_machine):
    time_machine.move_to(START - timedelta(days=30), tick=False)
    holidays_sync(year=2026)
    consumer, _merchant, shop = parties
    case = open_case(consumer, shop)
    clock = running_deadline(case)
    assert clock is not None and clock.name == "merchant_response"
    # 5 days of running time: 2d14h to 2月15日 00:00, the 9 days of the festival, then 2d10h
    assert clock.due_at == datetime(2026, 2, 26, 10, 0, tzinfo=SH)
    pause = holiday_pauses(clock)
    assert pause is not None and [h.name for h in pause.holidays] == ["春节"]
    assert pause.paused == timedelta(days=9)
    assert clock.due_at - clock.started_at == timedelta(seconds=clock.duration_seconds) + pause.paused
    case_pause = case_holiday_pause(case)
    assert case_pause is not None and case_pause.statutory  # written by sync_holidays


def test_both_case_pages_say_the_clock_was_extended_for_the_holiday(parties, time_machine):
    time_machine.move_to(START - timedelta(days=30), tick=False)
    holidays_sync(year=2026)
    consumer, merchant, shop = parties
    case = open_case(consumer, shop)
    time_machine.move_to(START + timedelta(hours=1), tick=False)
    consumer_url, merchant_url = f"/cases/{case.pk}/", reverse("merchant:case", args=[case.pk])

    assert "因法定节假日（春节）顺延 9 天" in page(consumer, consumer_url)
    assert "因法定节假日（春节）顺延 9 天" in page(merchant, merchant_url)
    english = "Extended by 9 days for the statutory holiday (Spring Festival)"
    assert english in page(consumer, consumer_url, "en") and english in page(merchant, merchant_url, "en")


def test_a_platform_holiday_staff_added_is_named_as_such(parties, time_machine):
    time_machine.move_to(START - timedelta(days=1), tick=False)
    Holiday.objects.create(name="平台店庆", start_date=date(2026, 2, 13), end_date=date(2026, 2, 13))
    consumer, merchant, shop = parties
    case = open_case(consumer, shop)
    time_machine.move_to(START, tick=False)
    html = page(merchant, reverse("merchant:case", args=[case.pk]))
    assert "因平台节假日（平台店庆）顺延 1 天" in html and "法定节假日" not in html
    assert "Extended by 1 day for the platform holiday (平台店庆)" in page(consumer, f"/cases/{case.pk}/", "en")


def test_no_line_when_no_holiday_falls_inside_the_clock(parties, time_machine):
    time_machine.move_to(START - timedelta(days=1), tick=False)
    # one before the clock starts, one after it is due: neither paused it
    Holiday.objects.create(name="之前", start_date=date(2026, 2, 1), end_date=date(2026, 2, 3))
    Holiday.objects.create(name="之后", start_date=date(2026, 2, 18), end_date=date(2026, 2, 19))
    consumer, merchant, shop = parties
    case = open_case(consumer, shop)
    clock = running_deadline(case)
    assert clock is not None and clock.due_at == START + timedelta(days=5)
    assert holiday_pauses(clock) is None and case_holiday_pause(case) is None
    assert 'data-testid="holiday-note"' not in page(consumer, f"/cases/{case.pk}/")
    assert 'data-testid="holiday-note"' not in page(merchant, reverse("merchant:case", args=[case.pk]))


def test_a_clock_started_inside_a_holiday_counts_only_what_was_left_of_it(parties, time_machine):
    time_machine.move_to(START - timedelta(days=30), tick=False)
    holidays_sync(year=2026)
    consumer, _merchant, shop = parties
    inside = datetime(2026, 2, 22, 12, 0, tzinfo=SH)  # 1 day 12 hours before the festival ends (2月24日 00:00)
    item = order_item(consumer, shop, inside)
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, now=inside)
    pause = holiday_pauses(running_deadline(case))
    assert pause is not None and pause.paused == timedelta(days=1, hours=12)
    time_machine.move_to(inside, tick=False)
    assert "因法定节假日（春节）顺延 1天12小时" in page(consumer, f"/cases/{case.pk}/")


def test_a_staff_edit_of_the_calendar_moves_the_line_with_the_clock(parties, time_machine):
    time_machine.move_to(START - timedelta(days=30), tick=False)
    holidays_sync(year=2026)
    consumer, _merchant, shop = parties
    case = open_case(consumer, shop)
    from cases.deadlines import recompute_for_holidays

    previous = list(Holiday.objects.all())
    Holiday.objects.filter(name="春节").update(end_date=date(2026, 2, 25))  # staff lengthened it by two days
    recompute_for_holidays(now=START, previous=previous)
    pause = case_holiday_pause(case)
    assert pause is not None and pause.paused == timedelta(days=11)
    assert running_deadline(case).due_at == datetime(2026, 2, 28, 10, 0, tzinfo=SH)
