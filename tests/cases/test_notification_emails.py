"""The email copy of every notification: sent by a worker task after commit, one message per person,
Chinese then English, and never twice for the same notification — also for moves the sweep makes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from cases import services
from cases.models import Notification
from cases.sweep import deadlines_sweep
from cases.tasks import send_notification_emails
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_submission_emails_each_shop_member_once(django_capture_on_commit_callbacks: Any, consumer: Any,
                                                 merchant: Any, shop: Any, item: Any) -> None:
    colleague = f.MerchantFactory(username="bob2")
    shop.members.add(colleague)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                    reason="other", quantity=1, condition_intact=True)
    sent = [m for m in mail.outbox if case.number in m.body]
    assert sorted(m.to[0] for m in sent) == sorted([merchant.email, colleague.email])
    assert all(len(m.to) == 1 for m in sent)
    assert f"Case {case.number} is waiting for you" in sent[0].body and "待您处理" in sent[0].body
    ids = list(Notification.objects.filter(case=case).values_list("pk", flat=True))
    assert Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).count() == 0
    before = len(mail.outbox)
    assert send_notification_emails(ids) == 0
    assert len(mail.outbox) == before


def test_user_without_address_gets_no_email(django_capture_on_commit_callbacks: Any, consumer: Any,
                                            merchant: Any, shop: Any, item: Any) -> None:
    merchant.email = ""
    merchant.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                             quantity=1, condition_intact=True)
    assert mail.outbox == []
    assert Notification.objects.filter(user=merchant).count() == 1


def test_sweep_moves_are_emailed(django_capture_on_commit_callbacks: Any, time_machine: Any, consumer: Any,
                                 shop: Any, item: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1)
    time_machine.move_to(timezone.now() + timedelta(days=3), tick=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_sweep() == 1
    to_consumer = [m for m in mail.outbox if m.to == [consumer.email]]
    assert len(to_consumer) == 1 and case.number in to_consumer[0].subject
    assert "退款成功" in to_consumer[0].body


@pytest.mark.django_db
def test_a_notification_stores_a_key_and_parameters_and_speaks_the_readers_language(consumer, item):
    """No sentence is stored: the message key and its parameters are rendered when shown (#16)."""
    from django.utils import translation

    from cases.models import Notification

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1, condition_intact=True)
    note = Notification.objects.filter(case=case).first()
    assert note is not None and note.text == ""
    assert (note.message, note.params) == ("next:pending_merchant", {"number": case.number})
    with translation.override("zh-hans"):
        assert note.display() == f"售后单 {case.number} 待您处理"
    with translation.override("en"):
        assert note.display() == f"Case {case.number} is waiting for you"
