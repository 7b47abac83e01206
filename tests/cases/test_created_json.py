"""The submission's 201 is built from the rows just written (cases.api.case_created_json), not read back: it must
be the very bytes GET /api/v1/cases/{id}/ answers right after, for every shape a new case can take."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import policy
from cases.models import DeadlinePolicy, Holiday
from cases.quality.models import ShopStanding
from tests import factories as f

pytestmark = pytest.mark.django_db


def _created_then_read(client, body, *, fmt="json"):  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/cases/", body, format=fmt)
    assert created.status_code == 201, created.content
    read = client.get(f"/api/v1/cases/{created.json()['id']}/")
    assert read.status_code == 200
    return created.content, read.content


def test_a_return_is_the_detail_byte_for_byte(api, consumer, item):  # type: ignore[no-untyped-def]
    created, read = _created_then_read(api(consumer), {"order_item": item.pk, "kind": "return_refund",
                                                       "reason": "other"})
    assert created == read


def test_an_amount_without_places_and_a_description(api, consumer, item):  # type: ignore[no-untyped-def]
    created, read = _created_then_read(api(consumer), {
        "order_item": item.pk, "kind": "refund_only", "reason": "other", "quantity": 1, "amount": "12.5",
        "description": "  盒子压坏了  ", "condition_intact": True})
    assert created == read
    assert b'"amount":"12.50"' in created.replace(b" ", b"")


def test_with_evidence_and_an_exchange(api, consumer, item):  # type: ignore[no-untyped-def]
    photos = [SimpleUploadedFile(f"p{i}.jpg", f.jpeg_bytes(), content_type="image/jpeg") for i in range(2)]
    created, read = _created_then_read(api(consumer), {"order_item": item.pk, "kind": "exchange",
                                                       "reason": "quality_issue", "evidence": photos},
                                       fmt="multipart")
    assert created == read
    assert created.count(b"/api/v1/evidence/") == 2


def test_a_clock_moved_by_a_holiday_and_a_policy(api, consumer, item):  # type: ignore[no-untyped-def]
    today = policy.local_date(timezone.now())
    Holiday.objects.create(name="店庆", start_date=today + timedelta(days=1), end_date=today + timedelta(days=2))
    DeadlinePolicy.objects.create(name="merchant_response", variant="other", seconds=3 * 86400,
                                  effective_from=timezone.now() - timedelta(days=1))
    created, read = _created_then_read(api(consumer), {"order_item": item.pk, "kind": "return_refund",
                                                       "reason": "other"})
    assert created == read
    started = timezone.now()
    due = api(consumer).get("/api/v1/cases/").json()["results"][0]["deadline"]["due_at"]
    # 3 days from the policy, 2 more for the holiday
    assert timedelta(days=4, hours=23) < timezone.datetime.fromisoformat(due) - started <= timedelta(days=5)


def test_an_item_with_an_earlier_case(api, consumer, merchant, item):  # type: ignore[no-untyped-def]
    first = api(consumer).post("/api/v1/cases/", {"order_item": item.pk, "kind": "refund_only", "reason": "other",
                                                  "quantity": 1}, format="json")
    assert first.status_code == 201
    assert api(consumer).post(f"/api/v1/cases/{first.json()['id']}/actions/withdraw/").status_code == 200
    created, read = _created_then_read(api(consumer), {"order_item": item.pk, "kind": "return_refund",
                                                       "reason": "other", "quantity": 2})
    assert created == read


def test_a_case_the_system_approves_at_once_is_read_back(api, consumer, shop, item):  # type: ignore[no-untyped-def]
    ShopStanding.objects.update_or_create(shop=shop, defaults={"over_dispute_threshold": True})
    created, read = _created_then_read(api(consumer), {"order_item": item.pk, "kind": "refund_only",
                                                       "reason": "other", "quantity": 1})
    assert created == read
    assert b'"approve"' in created  # the system's approval is in the 201's history


def test_the_calendar_copy_follows_every_change(consumer, shop, postgres):  # type: ignore[no-untyped-def]
    """The process's copy of the holidays and policies is replaced whenever either table changes, however
    written (here a queryset update and delete, which send no signals)."""
    from django.db import connection

    def version() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {policy.CALENDAR_VERSION_SQL}")
            return cursor.fetchone()[0]

    v0 = version()
    first = policy.calendar(v0)
    assert policy.calendar(v0) is first  # the same version: the copy, no query
    holiday = Holiday.objects.create(name="h", start_date=date(2031, 1, 1), end_date=date(2031, 1, 2))
    v1 = version()
    assert v1 != v0
    assert [h.pk for h in policy.calendar(v1).holidays] == [holiday.pk]
    Holiday.objects.filter(pk=holiday.pk).update(end_date=date(2031, 1, 5))
    v2 = version()
    assert v2 != v1 and policy.calendar(v2).holidays[0].end_date == date(2031, 1, 5)
    DeadlinePolicy.objects.create(name="evidence", seconds=100)
    v3 = version()
    assert v3 != v2 and [p.seconds for p in policy.calendar(v3).policies] == [100]
    Holiday.objects.all().delete()
    v4 = version()
    assert v4 != v3 and policy.calendar(v4).holidays == ()
