"""The transactional outbox (docs/outbox.md): a process killed right after its commit, before it could publish,
still has its messages delivered, by the outbox relay alone, to a real worker on Redis and on RabbitMQ."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from cases import services
from cases.models import Notification, Refund
from cases.payments import SimulatedPayout
from portal.models import OutboxMessage
from tests import factories as f
from tests.workers import ROOT, celery_processes, wait_until, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

# Approve the case in a process that SIGKILLs itself in the first after-commit callback, registered before the
# service's own: the approval and its outbox rows are committed, nothing is published.
CRASH = """
import os, signal, sys
import django
django.setup()
from django.db import transaction
from cases import services
from portal.models import User

case_id, merchant_id = int(sys.argv[1]), int(sys.argv[2])
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    services.case_approve(case_id=case_id, actor=User.objects.get(pk=merchant_id))
print("published", flush=True)  # never reached
"""


def test_a_process_killed_between_commit_and_publish_still_has_its_messages_delivered(
        postgres, broker_url, tmp_path):
    consumer = f.ConsumerFactory(username="outbox-c", good_standing=False)
    merchant = f.MerchantFactory(username="outbox-m")
    shop = f.ShopFactory(code="outbox", members=[merchant])
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="20.00")
    OutboxMessage.objects.all().delete()  # the submission's own messages: not what this test is about

    # the re-send sweep is kept away (an hour): only the outbox relay can deliver what the crash left
    env = worker_env(broker_url, OUTBOX_RELAY_SECONDS="1", OUTBOX_RELAY_AFTER_SECONDS="0",
                     OUTBOX_SWEEP_SECONDS="3600", REFUND_RETRY_SWEEP_SECONDS="3600",
                     REFUND_RETRY_AFTER_SECONDS="3600", OUTBOX_RESEND_AFTER_SECONDS="3600")
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(case.pk), str(merchant.pk)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert "published" not in crashed.stdout

    # committed: the case moved, its refund and notices exist, and every message is owed, none sent
    case.refresh_from_db()
    assert case.state == "refunded"
    refund = Refund.objects.get(case=case)
    assert refund.status == "pending"
    owed = {m.task: m for m in OutboxMessage.objects.all()}
    assert {"cases.tasks.execute_refund", "cases.tasks.send_notification_emails"} <= set(owed)
    assert all(m.sent_at is None for m in owed.values())
    assert not SimulatedPayout.objects.filter(idempotency_key=refund.idempotency_key).exists()
    notices = Notification.objects.filter(case=case, user=consumer)
    assert notices.exists() and not notices.filter(emailed_at__isnull=False).exists()

    with celery_processes(env, tmp_path) as procs:
        procs.worker("outbox", concurrency=1)
        procs.beat(tmp_path / "beat")
        wait_until(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded", timeout=120,
                   what="the payout the crash left unpublished, relayed")
        wait_until(lambda: not notices.filter(emailed_at__isnull=True).exists(), timeout=60,
                   what="the email copies the crash left unpublished, relayed")
        wait_until(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists(), timeout=60,
                   what="every outbox message marked sent")

    assert SimulatedPayout.objects.filter(idempotency_key=refund.idempotency_key).count() == 1
    assert all(m.attempts >= 1 for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in owed.values()]))
