"""Celery tasks of the portal itself."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="portal.tasks.resend_outgoing", ignore_result=True)
def resend_outgoing() -> dict[str, int]:
    from .outbox import resend_outgoing as sweep

    return sweep()


@shared_task(name="portal.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish the outbox messages a crash or a broker outage left unsent (portal.outbox)."""
    from .outbox import outbox_relay

    return outbox_relay()
