"""The deadline sweep: fire due clocks, each at most once, through the one apply half every move takes
(a batch at a time, `bulk.fire_batch`; the one-case path for a case already paid something or a clock
fired alone)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from portal.errors import DomainError

from . import services
from .bulk import fire_batch, log_moves
from .choices import State
from .lifecycle import DEADLINES
from .models import AfterSalesCase, Deadline, Refund
from .notifications import Notices, notify_staff, party_user_ids, shop_members, staff_ids
from .policy import PARTY_FOR_DEADLINE

log = logging.getLogger(__name__)


def _fire(deadline: Deadline, now: datetime) -> bool:
    """Apply the deadline's expiry action (the lifecycle table's) as the system. Answers whether the case moved."""
    spec = DEADLINES[deadline.name]
    if spec.on_expiry is None:  # ruling_sla, appeal_answer: no state change, the case flagged, supervisors told
        AfterSalesCase.objects.filter(pk=deadline.case_id).update(**{spec.flag: True})
        case = AfterSalesCase.objects.get(pk=deadline.case_id)
        notify_staff(case=case, kind=spec.flag_message, supervisors_only=True)
        return False
    case = services.case_act(action=spec.on_expiry, case_id=deadline.case_id, actor=None, data={}, now=now,
                             expected_state=deadline.state)
    log_moves([(case.pk, case.number, spec.on_expiry, deadline.state, case.state, deadline.name)])
    return True


def deadline_fire(*, deadline_id: int, now: datetime | None = None) -> bool:
    """Fire one deadline if it is still due, running and its case still in the guarded state."""
    now = now or timezone.now()
    with transaction.atomic():
        deadline = locked_due(now).filter(pk=deadline_id).first()
        if deadline is None:
            return False
        return _fire_rows([deadline], now) == 1


def locked_due(now: datetime) -> QuerySet[Deadline]:
    """Running clocks due at `now`, locked with their cases (SKIP LOCKED: another sweeper has the others), each
    with `case_paid`: whether its case already has a refund (the batch path leaves those to the one-case path)."""
    return (Deadline.objects.select_for_update(skip_locked=True, of=("self", "case"))
            .select_related("case")
            .annotate(case_paid=Exists(Refund.objects.filter(case_id=OuterRef("case_id"))))
            .filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now))


def _fire_rows(rows: list[Deadline], now: datetime) -> int:
    """Fire locked deadlines the way production does: the batch path, then one case at a time for the rest.
    Answers how many cases moved."""
    states = {d.pk: d.case.state for d in rows}
    leftovers = fire_batch(rows, now)
    moved = sum(1 for d in rows if d not in leftovers and d.case.state != states[d.pk])
    for deadline in leftovers:
        moved += _fire_locked(deadline, now)
    return moved


def _fire_locked(deadline: Deadline, now: datetime) -> bool:
    if deadline.case.state != deadline.state:
        deadline.cancelled_at = now
        deadline.save(update_fields=["cancelled_at"])
        return False
    deadline.fired_at = now
    deadline.save(update_fields=["fired_at"])
    try:
        with transaction.atomic():
            _fire(deadline, now)
    except DomainError as exc:
        log.warning("deadline %s could not fire: %s", deadline.pk, exc, extra={"case": deadline.case.number})
        return False
    return True


def deadlines_sweep(*, now: datetime | None = None, batch: int = 500, limit: int | None = None) -> int:
    """Fire every due deadline now; any number of sweepers may run at once (skip_locked).

    Each batch is locked (deadline and case rows), fired with bulk statements where the expiry is a
    plain transition (cases.bulk), and one case at a time otherwise.
    """
    fired = 0
    while limit is None or fired < limit:
        moment = now or timezone.now()
        with transaction.atomic():
            rows = list(locked_due(moment).order_by("due_at")[:batch])
            if not rows:
                break
            _fire_rows(rows, moment)
            fired += len(rows)
    reminders_send(now=now)
    return fired


def reminders_send(*, now: datetime | None = None, batch: int = 500) -> int:
    """Tell the party who must act, once, ahead of the due time (24 h, or half a short window).

    A batch at a time: one UPDATE marks the batch reminded, one INSERT stores its notifications.
    """
    now = now or timezone.now()
    sent = 0
    staff: list[int] | None = None
    while True:
        with transaction.atomic():
            rows = list(
                Deadline.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("case")
                .filter(reminded_at__isnull=True, fired_at__isnull=True, cancelled_at__isnull=True,
                        remind_at__lte=now, due_at__gt=now)
                .order_by("remind_at")[:batch]
            )
            if not rows:
                return sent
            Deadline.objects.filter(pk__in=[d.pk for d in rows]).update(reminded_at=now)
            members = shop_members(d.case.shop_id for d in rows)
            notices = Notices()
            for deadline in rows:
                deadline.reminded_at = now
                case = deadline.case
                party = PARTY_FOR_DEADLINE.get(deadline.name, "both")
                params = {"number": case.number,
                          "due": timezone.localtime(deadline.due_at).strftime("%m-%d %H:%M")}
                if party == "staff":
                    staff = staff_ids() if staff is None else staff
                    users = staff
                elif case.state == State(deadline.state):
                    users = party_user_ids(case, party, members)
                else:
                    users = []
                notices.add(users, case, "reminder", "reminder", params)
            notices.store()
            sent += len(rows)
