"""What staff should know about the reference data (read by the staff dashboard; imports nothing of cases)."""

from __future__ import annotations

from datetime import date

from ..models import ReferenceRelease


def holidays_unsynced_year(today: date) -> int | None:
    """From 1 December, next year while its statutory holidays have not been synced; else None."""
    if (today.month, today.day) < (12, 1):
        return None
    next_year = today.year + 1
    if ReferenceRelease.objects.filter(kind=ReferenceRelease.Kind.HOLIDAYS, data_year=next_year).exists():
        return None
    return next_year
