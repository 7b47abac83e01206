"""One re-send sweep (portal.outbox) for every outgoing effect whose message was lost: refund payouts,
notification emails, exports (pickup dispatches and courier cancellations: tests/pickups/test_dispatch.py).

Inside a test transaction the after-commit enqueue never runs, which is exactly a message lost at commit;
Celery runs eagerly here, so what the sweep queues runs at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.merchant.models import ExportJob
from cases.models import Notification, Refund
from portal.outbox import resend_outgoing

pytestmark = pytest.mark.django_db


def test_the_sweep_names_every_outgoing_effect(settings):
    assert set(settings.OUTBOX_RESENDERS) == {"refunds", "notification_emails", "exports", "pickup_dispatches",
                                             "courier_cancellations", "repair_visits", "interception_requests",
                                             "shop_notices"}
    assert "portal.tasks.resend_outgoing" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_an_export_that_never_reached_a_worker_is_run_and_its_page_stops_polling(client, merchant, shop, item):
    services.case_submit(consumer=item.order.consumer, order_item_id=item.pk, kind="refund_only",
                         reason="other", quantity=1)
    job = ExportJob.objects.create(requested_by=merchant)
    job.shops.set([shop])
    client.force_login(merchant)
    page = reverse("merchant:export-job", args=[job.pk])
    assert 'hx-trigger="every 1s"' in client.get(page).content.decode()
    assert resend_outgoing()["exports"] == 0  # just queued: its own message may still arrive
    assert resend_outgoing(now=timezone.now() + timedelta(minutes=3))["exports"] == 1
    job.refresh_from_db()
    assert job.status == "done" and job.written == 1
    assert "hx-trigger" not in client.get(page).content.decode()


def test_an_export_pending_past_the_window_fails_instead_of_polling_for_ever(merchant, shop):
    job = ExportJob.objects.create(requested_by=merchant)
    job.shops.set([shop])
    assert resend_outgoing(now=timezone.now() + timedelta(days=2))["exports"] == 0
    job.refresh_from_db()
    assert job.status == "failed"


def test_a_notification_email_lost_with_the_broker_is_sent_once(item, merchant, mailoutbox):
    services.case_submit(consumer=item.order.consumer, order_item_id=item.pk, kind="refund_only",
                         reason="other", quantity=1)
    notice = Notification.objects.get(user=merchant)
    assert notice.emailed_at is None and mailoutbox == []
    later = timezone.now() + timedelta(minutes=3)
    assert resend_outgoing(now=later)["notification_emails"] >= 1
    assert [m.to for m in mailoutbox] == [[merchant.email]]
    assert resend_outgoing(now=later)["notification_emails"] == 0
    assert len(mailoutbox) == 1


def test_a_notification_older_than_the_window_is_not_mailed_late(item, merchant, mailoutbox):
    services.case_submit(consumer=item.order.consumer, order_item_id=item.pk, kind="refund_only",
                         reason="other", quantity=1)
    assert resend_outgoing(now=timezone.now() + timedelta(days=2))["notification_emails"] == 0
    assert mailoutbox == []


def test_a_refund_whose_payout_was_lost_is_paid(item, merchant):
    case = services.case_submit(consumer=item.order.consumer, order_item_id=item.pk, kind="refund_only",
                                reason="other", quantity=1)
    services.case_approve(case_id=case.pk, actor=merchant)
    assert Refund.objects.get(case=case).status == "pending"
    assert resend_outgoing(now=timezone.now() + timedelta(minutes=3))["refunds"] == 1
    assert Refund.objects.get(case=case).status == "succeeded"


def test_one_effect_failing_does_not_stop_the_others(settings, item, merchant, mailoutbox):
    settings.OUTBOX_RESENDERS = {"broken": "portal.no_such_module.resend",
                                 **settings.OUTBOX_RESENDERS}
    services.case_submit(consumer=item.order.consumer, order_item_id=item.pk, kind="refund_only",
                         reason="other", quantity=1)
    counts = resend_outgoing(now=timezone.now() + timedelta(minutes=3))
    assert counts["broken"] == 0 and counts["notification_emails"] >= 1


def test_the_outbox_writes_one_row_per_key_and_the_relay_sends_only_what_is_left_and_purges(settings):
    from portal.models import OutboxMessage
    from portal.outbox import outbox_put, outbox_relay

    assert "portal.tasks.relay_outbox" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    outbox_put("portal.tasks.resend_outgoing", [], key="k1")
    outbox_put("portal.tasks.resend_outgoing", [], key="k1")  # same key: not written again
    assert OutboxMessage.objects.filter(key="k1").count() == 1
    # inside the test transaction nothing was published: the relay waits OUTBOX_RELAY_AFTER_SECONDS first
    assert outbox_relay() == 0
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS + 1)
    assert outbox_relay(now=later) == 1
    row = OutboxMessage.objects.get(key="k1")
    assert row.sent_at is not None and row.attempts == 1
    assert outbox_relay(now=later) == 0  # sent: not again
    assert outbox_relay(now=timezone.now() + timedelta(seconds=settings.OUTBOX_KEEP_SECONDS + 5)) == 0
    assert not OutboxMessage.objects.filter(key="k1").exists()  # purged after OUTBOX_KEEP_SECONDS


def test_a_sweep_batch_owes_one_payout_message_and_one_email_message(item, merchant):
    from cases.models import Deadline
    from cases.sweep import deadlines_sweep
    from portal.models import OutboxMessage
    from tests import factories as f

    for _ in range(3):
        other = f.OrderItemFactory(order=f.OrderFactory(consumer=item.order.consumer, shop=item.order.shop))
        services.case_submit(consumer=item.order.consumer, order_item_id=other.pk, kind="refund_only",
                             reason="other", quantity=1)
    OutboxMessage.objects.all().delete()
    later = max(Deadline.objects.values_list("due_at", flat=True)) + timedelta(minutes=1)
    assert deadlines_sweep(now=later) == 3
    assert Refund.objects.count() == 3
    tasks = sorted(OutboxMessage.objects.values_list("task", flat=True))
    assert tasks == ["cases.tasks.enqueue_refund_payouts", "cases.tasks.send_notification_emails"]
