"""Reminders and refund-failure notices reach English readers in English (page and email) and Chinese
readers in Chinese: they are stored as a message key and parameters (cases/notices.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from cases import services
from cases.choices import RefundStatus
from cases.models import Notification, Refund
from cases.notifications import email_body
from cases.payments import PaymentError, SimulatedGateway
from cases.refunds import MAX_ATTEMPTS, refund_execute
from cases.sweep import deadlines_sweep
from tests import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_a_reminder_reads_in_english(consumer, merchant, shop, client, time_machine):
    time_machine.move_to(datetime(2026, 11, 20, 10, 0, tzinfo=SH), tick=False)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop,
                                                   signed_at=timezone.now() - timedelta(days=1)))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1)
    time_machine.move_to(datetime(2026, 11, 21, 10, 0, tzinfo=SH), tick=False)
    deadlines_sweep()
    notice = Notification.objects.get(kind="reminder", case=case, user=merchant)
    with translation.override("en"):
        english = notice.display()
    with translation.override("zh-hans"):
        chinese = notice.display()
    assert english.startswith(f"Reminder: case {case.number} ") and "11-22 10:00" in english
    assert chinese.startswith(f"提醒：售后单 {case.number} ")
    assert english in email_body(notice)[1] and chinese in email_body(notice)[1]
    client.force_login(merchant)
    assert english in client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert chinese in client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_a_refund_failure_reads_in_english(consumer, merchant, shop, item, monkeypatch):
    staff = f.make_staff("payout-watcher")
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1)
    services.case_approve(case_id=case.pk, actor=merchant)  # the payout task waits for a commit that never comes
    refund = Refund.objects.get(case=case)
    Refund.objects.filter(pk=refund.pk).update(attempts=MAX_ATTEMPTS - 1)
    monkeypatch.setattr(SimulatedGateway, "fail_next", 1)
    with pytest.raises(PaymentError):
        refund_execute(refund_id=refund.pk)
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.FAILED
    notice = Notification.objects.get(kind="refund_failed", user=staff)
    with translation.override("en"):
        english = notice.display()
    assert case.number in english and english.startswith("Refund failed")
    assert english in email_body(notice)[1]
