"""Celery tasks of the portal itself."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="portal.tasks.resend_outgoing", ignore_result=True)
def resend_outgoing() -> dict[str, int]:
    from .outbox import resend_outgoing as sweep

    return sweep()
