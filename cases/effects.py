"""The Celery tasks the cases domain queues, and the only way it queues them.

The domain (services, refunds, notifications, the sweep) never imports `cases.tasks`: the tasks import the
domain, and this module finds a task by its registered name (the app's `ready()` imports the tasks module, so
the name is always registered). Every function here only sends a message; what a task does is in the domain
function it calls. A broker that is down is logged, not raised: each queue has a periodic retry from the
database (refunds: `refunds_resend`; email copies: `notification_emails_resend`).
"""

from __future__ import annotations

import logging

from celery import current_app

log = logging.getLogger("cases")

EXECUTE_REFUND = "cases.tasks.execute_refund"
ENQUEUE_REFUND_PAYOUTS = "cases.tasks.enqueue_refund_payouts"
SEND_NOTIFICATION_EMAILS = "cases.tasks.send_notification_emails"
EXPORT_QUEUE = "cases.merchant.tasks.export_queue"
SEND_SHOP_NOTICE = "cases.tasks.send_shop_notice"


def _delay(task: str, arg: object, *, robust: bool, what: str) -> bool:
    """Queue `task` with `arg`; answers whether the broker took it. `robust`: a broker error is logged (as
    "could not enqueue <what>") instead of raised."""
    try:
        current_app.tasks[task].delay(arg)
    except Exception:
        if not robust:
            raise
        log.exception("could not enqueue %s", what, extra={"task": task.rsplit(".", 1)[-1]})
        return False
    return True


def refund_payout_enqueue(refund_id: int, *, robust: bool = True) -> bool:
    """Send one refund's unpaid payouts to the provider (`refunds.refund_execute`, retried)."""
    return _delay(EXECUTE_REFUND, refund_id, robust=robust, what="refund payout")


def refund_payouts_enqueue(refund_ids: list[int], *, robust: bool = True) -> bool:
    """One message for a batch's refunds; a worker fans it out to one payout task per refund."""
    return _delay(ENQUEUE_REFUND_PAYOUTS, refund_ids, robust=robust, what="refund payouts")


def notification_emails_enqueue(notification_ids: list[int], *, robust: bool = True) -> bool:
    """Send the email copies of stored notifications (`notifications.notifications_email`)."""
    return _delay(SEND_NOTIFICATION_EMAILS, notification_ids, robust=robust, what="notification emails")


def queue_export_enqueue(job_id: int) -> None:
    """Write a merchant's large queue export (`merchant.services.export_job_run`); a broker error is raised
    (the caller queues it with `on_commit(..., robust=True)`, and the outbox re-sends a pending job)."""
    current_app.tasks[EXPORT_QUEUE].delay(job_id)


def shop_notice_enqueue(notice_id: int, *, robust: bool = True) -> bool:
    """Deliver one shop notice to the shop's system (`shop_notices`, docs/shop-notices.md)."""
    return _delay(SEND_SHOP_NOTICE, notice_id, robust=robust, what="shop notice")
