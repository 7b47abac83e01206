"""Celery tasks: take ids, load, call one service. All idempotent.

The domain queues them through `cases.effects` by name and never imports this module; `CasesConfig.ready()`
imports it so that every name is registered."""

from __future__ import annotations

import smtplib

from celery import shared_task

from .notifications import notifications_email
from .payments import PaymentError
from .refunds import refund_execute, refunds_due_for_retry
from .shop_notices import ShopUnavailable
from .sweep import deadline_fire, deadlines_sweep


@shared_task(name="cases.tasks.sweep_deadlines", acks_late=True, ignore_result=True)
def sweep_deadlines() -> int:
    return deadlines_sweep()


@shared_task(name="cases.tasks.fire_deadline", acks_late=True, ignore_result=True)
def fire_deadline(deadline_id: int) -> bool:
    return deadline_fire(deadline_id=deadline_id)


@shared_task(
    name="cases.tasks.execute_refund", bind=True, acks_late=True, ignore_result=True,
    autoretry_for=(PaymentError,), retry_backoff=2, retry_backoff_max=300, retry_jitter=False, max_retries=4,
)
def execute_refund(self, refund_id: int) -> None:
    refund_execute(refund_id=refund_id)


@shared_task(name="cases.tasks.retry_pending_refunds", ignore_result=True)
def retry_pending_refunds() -> int:
    """Refunds whose payout task was lost (broker flushed, worker killed) are paid from the database."""
    ids = refunds_due_for_retry()
    for refund_id in ids:
        execute_refund.delay(refund_id)
    return len(ids)


@shared_task(name="cases.tasks.send_notification_emails", acks_late=True, ignore_result=True,
             autoretry_for=(OSError, smtplib.SMTPException), retry_backoff=5, max_retries=3)
def send_notification_emails(notification_ids: list[int]) -> int:
    return notifications_email(notification_ids=notification_ids)


@shared_task(name="cases.tasks.enqueue_refund_payouts", acks_late=True, ignore_result=True)
def enqueue_refund_payouts(refund_ids: list[int]) -> None:
    """One message from the sweep for a batch's refunds; each payout is then its own retried task."""
    for refund_id in refund_ids:
        execute_refund.delay(refund_id)


@shared_task(name="cases.tasks.send_shop_notice", acks_late=True, ignore_result=True,
             autoretry_for=(ShopUnavailable,), retry_backoff=5, retry_backoff_max=300, retry_jitter=False,
             max_retries=6)
def send_shop_notice(notice_id: int) -> bool:
    """POST a shop notice ("don't ship"); idempotent (a delivered one is not sent again, and the shop dedupes on
    its Idempotency-Key). A lost message is re-sent by the outbox sweep."""
    from .shop_notices import shop_notice_send

    return shop_notice_send(notice_id=notice_id)
