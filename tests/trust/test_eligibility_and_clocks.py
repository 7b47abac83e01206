"""Issue #15, eligibility, evidence, clocks: revise re-runs the table, not_your_order first, a PDF is not a photo,
the revise form's maximum, evidence after the evidence period, holidays and locked clocks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from cases import services
from cases.deadlines import recompute_for_holidays, running_deadline
from cases.models import AfterSalesCase, CaseEvidence, Holiday
from cases.services import CaseError
from tests import factories as f
from tests.threads import join_all

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def item_signed(consumer, shop, days_ago):  # type: ignore[no-untyped-def]
    now = timezone.now()
    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=now - timedelta(days=days_ago + 3),
                           shipped_at=now - timedelta(days=days_ago + 2), signed_at=now - timedelta(days=days_ago))
    return f.OrderItemFactory(order=order, quantity=1, unit_price="99.00", paid="99.00")


def test_revise_to_no_reason_after_day_7_is_window_expired(consumer, shop):
    item = item_signed(consumer, shop, days_ago=13)
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, condition_intact=True)
    with pytest.raises(CaseError) as err:
        services.case_revise(case_id=case.pk, actor=consumer, reason="no_reason")
    assert err.value.code == "window_expired"
    assert AfterSalesCase.objects.get(pk=case.pk).reason == "other"


def test_revise_to_damaged_in_transit_after_48_hours_is_report_window_expired(consumer, shop):
    item = item_signed(consumer, shop, days_ago=10)
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, evidence_files=[SimpleUploadedFile("p.jpg", f.jpeg_bytes())])
    with pytest.raises(CaseError) as err:
        services.case_revise(case_id=case.pk, actor=consumer, reason="damaged_in_transit")
    assert err.value.code == "report_window_expired"
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert (fresh.reason, fresh.freight_payer) == ("other", "consumer")  # freight did not move to the merchant


def test_revise_to_no_reason_needs_the_intact_declaration_and_an_allowed_category(consumer, shop):
    item = item_signed(consumer, shop, days_ago=2)
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    with pytest.raises(CaseError) as err:
        services.case_revise(case_id=case.pk, actor=consumer, reason="no_reason")
    assert err.value.code == "condition_required"
    services.case_revise(case_id=case.pk, actor=consumer, reason="no_reason", condition_intact=True)
    assert AfterSalesCase.objects.get(pk=case.pk).reason == "no_reason"


def test_not_your_order_comes_before_any_field_check(api, consumer, shop):
    other = f.ConsumerFactory(username="mallory")
    theirs = f.OrderItemFactory(order=f.OrderFactory(consumer=other, shop=shop))
    for body in ({"order_item": theirs.pk, "kind": "return_refund", "reason": "bogus"},
                 {"order_item": theirs.pk, "kind": "nonsense", "reason": "other"},
                 {"order_item": theirs.pk},
                 {"order_item": theirs.pk, "kind": "refund_only", "reason": "other", "quantity": "many"},
                 {"order_item": theirs.pk, "kind": "refund_only", "reason": "other", "amount": "-3"},
                 {"order_item": "not-an-id", "kind": "refund_only"}):
        r = api(consumer).post("/api/v1/cases/", body, format="json")
        assert (r.status_code, r.json()["code"]) == (404, "not_your_order"), body
    assert not AfterSalesCase.objects.exists()


def test_a_pdf_alone_is_not_the_required_photo(consumer, item):
    with pytest.raises(CaseError) as err:
        services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="quality_issue",
                             quantity=1, evidence_files=[SimpleUploadedFile("report.pdf", PDF)])
    assert err.value.code == "evidence_required"
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                reason="quality_issue", quantity=1,
                                evidence_files=[SimpleUploadedFile("report.pdf", PDF),
                                                SimpleUploadedFile("p.jpg", f.jpeg_bytes())])
    assert case.evidence.count() == 2


def test_revise_to_a_quality_reason_with_only_a_pdf_is_evidence_required(consumer, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, evidence_files=[SimpleUploadedFile("report.pdf", PDF)])
    with pytest.raises(CaseError) as err:
        services.case_revise(case_id=case.pk, actor=consumer, reason="quality_issue")
    assert err.value.code == "evidence_required"


def test_revise_form_offers_what_is_left_after_earlier_refunds(client, consumer, merchant, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=2, unit_price="50.00",
                              paid="100.00")
    first = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                 quantity=2, amount="30.00")
    services.case_approve(case_id=first.pk, actor=merchant)  # 30.00 refunded, money only
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=2, amount="10.00")
    client.force_login(consumer)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'max="70.00"' in page or "70.00" in page
    assert 'max="100.00"' not in page
    with pytest.raises(CaseError) as err:
        services.case_revise(case_id=case.pk, actor=consumer, amount="80.00")
    assert err.value.code == "amount_exceeds_paid"


def test_evidence_cannot_be_added_after_the_evidence_period_closed(api, consumer, merchant, agent, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    services.case_reject(case_id=case.pk, actor=merchant, reason="不同意")
    services.case_escalate(case_id=case.pk, actor=consumer, statement="请平台处理")
    ok = api(consumer).post(f"/api/v1/cases/{case.pk}/evidence/",
                            {"files": [SimpleUploadedFile("a.jpg", f.jpeg_bytes())]}, format="multipart")
    assert ok.status_code == 201
    services.case_close_evidence(case_id=case.pk, actor=agent)
    late = api(merchant).post(f"/api/v1/cases/{case.pk}/evidence/",
                              {"files": [SimpleUploadedFile("b.jpg", f.jpeg_bytes())]}, format="multipart")
    assert late.status_code == 409 and late.json()["code"] == "invalid_transition"
    assert CaseEvidence.objects.filter(case=case).count() == 1


def _a_backend_waits_for_a_lock(timeout: float = 30.0) -> bool:
    """Poll PostgreSQL until another backend is blocked on a row lock (no sleeping as synchronisation)."""
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0] > 0:
                return True
    return False


@pytest.mark.django_db(transaction=True)
def test_a_holiday_added_while_a_clock_is_locked_still_moves_that_clock(postgres, consumer, item):
    """Suspicion and item: the recompute skipped clocks another transaction held (skip_locked) and took the
    deadline lock before the case lock. Now it waits for the case lock, then moves the clock."""
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    before = running_deadline(case).due_at
    locked, release, done = threading.Event(), threading.Event(), threading.Event()
    result: dict[str, int] = {}

    def hold_case_lock() -> None:
        try:
            with transaction.atomic():
                list(AfterSalesCase.objects.select_for_update().filter(pk=case.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def add_holiday() -> None:
        try:
            previous = list(Holiday.objects.all())
            start = timezone.localdate() + timedelta(days=1)
            Holiday.objects.create(name="测试假日", start_date=start, end_date=start + timedelta(days=1))
            result["moved"] = recompute_for_holidays(previous=previous)
        finally:
            done.set()
            connection.close()

    holder = threading.Thread(target=hold_case_lock)
    holder.start()
    assert locked.wait(timeout=30)
    editor = threading.Thread(target=add_holiday)
    editor.start()
    assert _a_backend_waits_for_a_lock(), "the calendar change should wait for the locked clock"
    assert not done.is_set()  # it waits (no skipping) until the lock is released
    release.set()
    join_all([holder, editor])
    assert result["moved"] == 1
    assert running_deadline(case).due_at == before + timedelta(days=2)
