"""Deadline rows: started by the service that moves a case into a state with a clock, in its transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from portal.models import StatutoryHoliday

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


def deadline_first(*, case: AfterSalesCase, now: datetime, calendar: policy.Calendar | None = None) -> Deadline | None:
    """The clock of a case about to be inserted (nothing runs yet, so nothing to cancel): its row, unsaved, and
    its name and due time set on the case so they go into the case's own INSERT; None for a state with none.
    With `calendar` (policy.calendar) the holidays and policies come from it instead of two queries."""
    name = policy.DEADLINE_FOR_STATE.get(case.state)
    if name is None:
        case.deadline_name, case.deadline_due_at = "", None
        return None
    if calendar is None:
        seconds = policy.deadline_seconds(name, kind=case.kind, reason=case.reason, at=now)
        holidays: Iterable[Holiday] = active_holidays(now)
    else:
        seconds = policy.deadline_seconds(name, kind=case.kind, reason=case.reason, at=now,
                                          policies=calendar.policies_at(now))
        holidays = calendar.holidays_from(now)
    due = policy.due_time(now, seconds, holidays).astimezone(UTC)  # as the database gives it back
    case.deadline_name, case.deadline_due_at = name, due
    return Deadline(case=case, name=name, state=case.state, started_at=now, duration_seconds=seconds, due_at=due,
                    remind_at=policy.reminder_time(now, due, seconds))


def deadline_move(*, deadline: Deadline, due_at: datetime) -> None:
    """Move a running clock (pickup booked or failed, holidays edited), keeping the case's copy in step."""
    deadline.due_at = due_at
    seconds = int((due_at - deadline.started_at).total_seconds())
    deadline.remind_at = policy.reminder_time(deadline.started_at, due_at, max(seconds, 1))
    deadline.save(update_fields=["due_at", "remind_at"])
    AfterSalesCase.objects.filter(pk=deadline.case_id).update(deadline_due_at=due_at)


def running_deadline(case: AfterSalesCase) -> Deadline | None:
    return Deadline.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True).first()


@dataclass(frozen=True)
class HolidayPause:
    """What the platform holidays added to one clock: the holidays it paused over, and for how long in all."""

    holidays: list[Holiday]
    paused: timedelta
    statutory: bool = False  # every one of them was written by `sync_holidays` (法定节假日)


def holiday_pauses(deadline: Deadline | None, holidays: Iterable[Holiday] | None = None) -> HolidayPause | None:
    """The holidays a clock paused over between its start and its due time, or None when it paused over none.

    A clock's due time is its start + duration moved by its overlap with the calendar (lifecycle.md,
    "Deadlines"), so the overlap of [started_at, due_at) with the holidays is what they added. Overlapping
    holidays count once. (A `consumer_ship` clock a booked pickup moved later may span a holiday the pickup's
    due time lay beyond anyway; it is counted, as the clock did run over it.)"""
    if deadline is None or deadline.due_at is None:
        return None
    start, due = deadline.started_at, deadline.due_at
    if holidays is None:
        holidays = Holiday.objects.filter(start_date__lte=policy.local_date(due),
                                          end_date__gte=policy.local_date(start))
    touching = []
    for holiday in holidays:
        (h_start, h_end), = policy.holiday_intervals([holiday])
        if h_start < due and h_end > start:
            touching.append(holiday)
    paused = timedelta(0)
    for h_start, h_end in policy.holiday_intervals(touching):
        paused += min(h_end, due) - max(h_start, start)
    if paused <= timedelta(0):
        return None
    return HolidayPause(holidays=sorted(touching, key=lambda h: (h.start_date, h.pk or 0)), paused=paused)


def case_holiday_pause(case: AfterSalesCase) -> HolidayPause | None:
    """The running clock's holiday pause, for the case pages' "extended for the holiday" line (two queries)."""
    if not case.deadline_name or case.deadline_due_at is None or case.is_terminal:
        return None
    pause = holiday_pauses(running_deadline(case))
    if pause is None:
        return None
    ids = {h.pk for h in pause.holidays}
    synced = set(StatutoryHoliday.objects.filter(holiday_id__in=ids).values_list("holiday_id", flat=True))
    return HolidayPause(holidays=pause.holidays, paused=pause.paused, statutory=synced == ids)


def _active_seconds(started_at: datetime, due_at: datetime, holidays: Iterable) -> int:
    """How long a clock runs between its start and due time, not counting the holidays it paused over."""
    paused = timedelta(0)
    for start, end in policy.holiday_intervals(holidays):
        overlap = min(end, due_at) - max(start, started_at)
        if overlap > timedelta(0):
            paused += overlap
    return max(int((due_at - started_at - paused).total_seconds()), 0)


def recompute_for_holidays(*, now: datetime | None = None, previous: Iterable | None = None) -> int:
    """After the holiday calendar changes, move every running clock by its overlap with the new calendar.

    A clock's running time is what it runs between start and due time outside the holidays it was
    computed with (`previous`: the calendar before the change). That keeps a pickup's extension
    (due time later than start + duration) instead of throwing it away, and lets a removed holiday
    give its days back. Without `previous`, a clock never runs less than its duration nor less than
    it already had: adding a holiday moves clocks, removing one needs `previous` to move them back.
    """
    now = now or timezone.now()
    holidays = list(Holiday.objects.all())
    moved = 0
    with transaction.atomic():
        # Every running clock, including one another transaction holds at this moment: wait for it, never
        # skip it (lifecycle.md). Lock order as in the services: the case rows (in id order), then their clocks.
        case_ids = list(Deadline.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__gt=now)
                        .order_by("case_id").values_list("case_id", flat=True).distinct())
        list(AfterSalesCase.objects.select_for_update().filter(pk__in=case_ids).order_by("pk").values_list("pk"))
        running = (
            Deadline.objects.select_for_update()
            .filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__gt=now, case_id__in=case_ids)
            .order_by("pk")
        )
        for deadline in running:
            start = deadline.started_at
            if previous is not None:
                seconds = _active_seconds(start, deadline.due_at, previous)
                # Shift by what the change does to this clock; a due time that was consistent with the
                # old calendar lands exactly on the new calendar's answer.
                due = deadline.due_at + (
                    policy.due_time(start, seconds, holidays) - policy.due_time(start, seconds, previous)
                )
            else:
                seconds = max(deadline.duration_seconds, _active_seconds(start, deadline.due_at, holidays))
                due = policy.due_time(start, seconds, holidays)
            if due != deadline.due_at:
                deadline_move(deadline=deadline, due_at=due)
                moved += 1
    return moved
