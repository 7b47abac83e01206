"""Celery tasks of the merchant desk (default queue): load by id, call one service."""

from __future__ import annotations

from celery import shared_task

from .services import export_job_run


@shared_task(name="cases.merchant.tasks.export_queue", acks_late=True)
def export_queue(job_id: int) -> str | None:
    """Write a large queue export; safe to run twice (a finished job is not written again)."""
    job = export_job_run(job_id=job_id)
    return job.status if job is not None else None
