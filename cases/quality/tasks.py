from __future__ import annotations

from celery import shared_task

from .consequences import quality_evaluate


@shared_task(name="cases.quality.tasks.evaluate_quality")
def evaluate_quality() -> int:
    """Idempotent: a second run finds nothing changed and writes nothing."""
    return len(quality_evaluate())
