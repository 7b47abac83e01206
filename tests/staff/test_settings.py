"""Platform settings: read by every staff member, edited only with edit_platform_settings; holidays
move running clocks; duration policies only govern clocks started after them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.deadlines import deadline_move, recompute_for_holidays, running_deadline
from cases.models import Deadline, DeadlinePolicy, Holiday, PlatformSetting
from cases.policy import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday morning


def _pending_case(consumer, item):  # type: ignore[no-untyped-def]
    # return_refund: merchant_response runs 5 days (due Sat 7 Nov 10:00)
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, amount="50.00", now=NOW)


@pytest.fixture
def item_now(consumer, shop):  # type: ignore[no-untyped-def]
    from tests import factories as f

    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=NOW - timedelta(days=5),
                           shipped_at=NOW - timedelta(days=4), signed_at=NOW - timedelta(days=2))
    return f.OrderItemFactory(order=order, quantity=2, unit_price="99.00", paid="188.00")


def test_agent_sees_but_cannot_change_settings(client_for, agent):
    client = client_for(agent)
    holiday = Holiday.objects.create(name="国庆", start_date=date(2026, 10, 1), end_date=date(2026, 10, 7))
    setting = PlatformSetting.objects.create(fast_refund_limit=Decimal("500.00"))
    assert client.get(reverse("admin:cases_holiday_changelist")).status_code == 200
    assert client.get(reverse("admin:cases_holiday_add")).status_code == 403
    assert client.post(reverse("admin:cases_holiday_add"), {
        "name": "x", "start_date": "2026-12-01", "end_date": "2026-12-02"}).status_code == 403
    assert client.post(reverse("admin:cases_holiday_change", args=[holiday.pk]), {
        "name": "x", "start_date": "2026-10-01", "end_date": "2026-10-09"}).status_code == 403
    assert client.post(reverse("admin:cases_holiday_delete", args=[holiday.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:cases_platformsetting_change", args=[setting.pk]), {
        "fast_refund_limit": "9999.00"}).status_code == 403
    assert client.post(reverse("admin:cases_deadlinepolicy_add"), {
        "name": "evidence", "variant": "", "hours": "1", "effective_from_0": "2030-01-01",
        "effective_from_1": "00:00:00"}).status_code == 403
    holiday.refresh_from_db()
    setting.refresh_from_db()
    assert holiday.end_date == date(2026, 10, 7) and setting.fast_refund_limit == Decimal("500.00")
    assert not DeadlinePolicy.objects.exists()


def test_supervisor_edits_fast_refund_limit(client_for, supervisor):
    client = client_for(supervisor)
    first = client.get(reverse("admin:cases_platformsetting_changelist"))
    assert first.status_code == 302 and first["Location"].endswith("/add/")
    client.post(reverse("admin:cases_platformsetting_add"), {"fast_refund_limit": "300.00"})
    assert PlatformSetting.current().fast_refund_limit == Decimal("300.00")
    assert client.get(reverse("admin:cases_platformsetting_add")).status_code == 403  # one row only
    row = PlatformSetting.objects.get()
    assert client.get(reverse("admin:cases_platformsetting_changelist"))["Location"].endswith(f"/{row.pk}/change/")


def test_supervisor_adding_a_holiday_moves_running_deadlines(client_for, supervisor, consumer, item_now):
    case = _pending_case(consumer, item_now)
    due_before = running_deadline(case).due_at
    assert due_before == NOW + timedelta(days=5)
    client = client_for(supervisor)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        response = client.post(reverse("admin:cases_holiday_add"), {
            "name": "公司年会", "start_date": "2026-11-04", "end_date": "2026-11-05"}, follow=True)
    assert response.status_code == 200
    assert any("1" in str(m) for m in response.context["messages"])
    case.refresh_from_db()
    assert running_deadline(case).due_at == due_before + timedelta(days=2)
    assert case.deadline_due_at == due_before + timedelta(days=2)
    # deleting it gives the two days back
    holiday = Holiday.objects.get()
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        client.post(reverse("admin:cases_holiday_delete", args=[holiday.pk]), {"post": "yes"})
    assert running_deadline(case).due_at == due_before


def test_holiday_end_before_start_is_refused(client_for, supervisor):
    response = client_for(supervisor).post(reverse("admin:cases_holiday_add"), {
        "name": "错", "start_date": "2026-11-05", "end_date": "2026-11-04"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Holiday.objects.exists()


def test_recompute_keeps_a_pickup_extension(consumer, item_now):
    case = _pending_case(consumer, item_now)
    deadline = running_deadline(case)
    # something (a booked pickup) pushed the clock a day later than start + duration
    extended = deadline.due_at + timedelta(days=1)
    deadline_move(deadline=deadline, due_at=extended)
    previous = list(Holiday.objects.all())
    Holiday.objects.create(name="假", start_date=date(2026, 11, 4), end_date=date(2026, 11, 4))
    assert recompute_for_holidays(now=NOW, previous=previous) == 1
    assert Deadline.objects.get(pk=deadline.pk).due_at == extended + timedelta(days=1)
    # unchanged calendar: nothing moves, the extension stays
    assert recompute_for_holidays(now=NOW, previous=list(Holiday.objects.all())) == 0
    assert recompute_for_holidays(now=NOW) == 0
    assert Deadline.objects.get(pk=deadline.pk).due_at == extended + timedelta(days=1)


def test_recompute_gives_back_a_removed_last_holiday(consumer, item_now):
    holiday = Holiday.objects.create(name="假", start_date=date(2026, 11, 4), end_date=date(2026, 11, 4))
    case = _pending_case(consumer, item_now)
    assert running_deadline(case).due_at == NOW + timedelta(days=6)
    previous = list(Holiday.objects.all())
    holiday.delete()
    assert recompute_for_holidays(now=NOW, previous=previous) == 1
    assert running_deadline(case).due_at == NOW + timedelta(days=5)


def test_recompute_without_previous_still_moves_for_an_added_holiday(consumer, item_now):
    case = _pending_case(consumer, item_now)
    Holiday.objects.create(name="假", start_date=date(2026, 11, 3), end_date=date(2026, 11, 3))
    assert recompute_for_holidays(now=NOW) == 1
    assert running_deadline(case).due_at == NOW + timedelta(days=6)


def test_deadline_policy_applies_only_to_clocks_started_after(client_for, supervisor, consumer, item_now, shop):
    from tests import factories as f

    case = _pending_case(consumer, item_now)
    running = running_deadline(case)
    client = client_for(supervisor)
    effective = NOW + timedelta(hours=1)
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        past = client.post(reverse("admin:cases_deadlinepolicy_add"), {
            "name": "merchant_response", "variant": "other", "hours": "72",
            "effective_from_0": "2026-11-01", "effective_from_1": "10:00:00"})
        assert past.status_code == 200 and "effective_from" in past.context["adminform"].form.errors
        response = client.post(reverse("admin:cases_deadlinepolicy_add"), {
            "name": "merchant_response", "variant": "other", "hours": "72",
            "effective_from_0": timezone.localtime(effective).strftime("%Y-%m-%d"),
            "effective_from_1": timezone.localtime(effective).strftime("%H:%M:%S")})
        assert response.status_code == 302
    row = DeadlinePolicy.objects.get()
    assert row.seconds == 72 * 3600
    # the running clock is untouched
    assert Deadline.objects.get(pk=running.pk).due_at == NOW + timedelta(days=5)
    later = NOW + timedelta(hours=2)
    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=NOW - timedelta(days=3),
                           shipped_at=NOW - timedelta(days=2), signed_at=NOW - timedelta(days=1))
    second = services.case_submit(consumer=consumer, order_item_id=f.OrderItemFactory(order=order).pk,
                                  kind="return_refund", reason="other", quantity=1, amount="10.00", now=later)
    assert running_deadline(second).due_at == later + timedelta(hours=72)
    # a policy in force is history: neither changed nor deleted
    with time_machine.travel(later, tick=False):
        assert client.post(reverse("admin:cases_deadlinepolicy_change", args=[row.pk]), {
            "name": "merchant_response", "variant": "other", "hours": "1",
            "effective_from_0": "2026-11-02", "effective_from_1": "11:00:00"}).status_code == 403
        assert client.post(reverse("admin:cases_deadlinepolicy_delete", args=[row.pk]),
                           {"post": "yes"}).status_code == 403


def test_fast_refund_limit_must_not_be_negative(client_for, supervisor):
    response = client_for(supervisor).post(reverse("admin:cases_platformsetting_add"), {"fast_refund_limit": "-1"})
    assert response.status_code == 200 and "fast_refund_limit" in response.context["adminform"].form.errors
    assert not PlatformSetting.objects.exists()
