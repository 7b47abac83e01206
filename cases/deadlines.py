"""Deadline rows: started by the service that moves a case into a state with a clock, in its transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from . import policy
from .models import AfterSalesCase, Deadline, Holiday


def active_holidays(since: datetime) -> list[Holiday]:
    return list(Holiday.objects.filter(end_date__gte=policy.local_date(since)))


def deadline_cancel(*, case: AfterSalesCase, now: datetime) -> None:
    Deadline.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True).update(cancelled_at=now)


def deadline_start(*, case: AfterSalesCase, now: datetime) -> Deadline | None:
    """Cancel the running clock and start the one guarding the case's new state (if any)."""
    deadline_cancel(case=case, now=now)
    name = policy.DEADLINE_FOR_STATE.get(case.state)
    if name is None:
        case.deadline_name, case.deadline_due_at = "", None
        AfterSalesCase.objects.filter(pk=case.pk).update(deadline_name="", deadline_due_at=None)
        return None
    seconds = policy.deadline_seconds(name, kind=case.kind, reason=case.reason, at=now)
    due = policy.due_time(now, seconds, active_holidays(now))
    deadline = Deadline.objects.create(
        case=case, name=name, state=case.state, started_at=now, duration_seconds=seconds, due_at=due,
        remind_at=policy.reminder_time(now, due, seconds),
    )
    case.deadline_name, case.deadline_due_at = name, due
    AfterSalesCase.objects.filter(pk=case.pk).update(deadline_name=name, deadline_due_at=due)
    return deadline


def deadline_move(*, deadline: Deadline, due_at: datetime) -> None:
    """Move a running clock (pickup booked or failed, holidays edited), keeping the case's copy in step."""
    deadline.due_at = due_at
    seconds = int((due_at - deadline.started_at).total_seconds())
    deadline.remind_at = policy.reminder_time(deadline.started_at, due_at, max(seconds, 1))
    deadline.save(update_fields=["due_at", "remind_at"])
    AfterSalesCase.objects.filter(pk=deadline.case_id).update(deadline_due_at=due_at)


def running_deadline(case: AfterSalesCase) -> Deadline | None:
    return Deadline.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True).first()


def recompute_for_holidays(*, now: datetime | None = None) -> int:
    """After the holiday calendar changes: every running clock's due time from its start, paused again."""
    now = now or timezone.now()
    holidays = list(Holiday.objects.all())
    moved = 0
    for deadline in Deadline.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__gt=now):
        due = policy.due_time(deadline.started_at, deadline.duration_seconds, holidays)
        # A clock extended by a pickup keeps the later of the two.
        extended = deadline.due_at - policy.due_time(deadline.started_at, deadline.duration_seconds, [])
        if extended > timedelta(0) and not holidays:
            continue
        if due != deadline.due_at:
            deadline_move(deadline=deadline, due_at=due)
            moved += 1
    return moved
