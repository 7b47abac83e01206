"""The deadline sweep's batch: the system's expiry actions on a batch of locked cases at once.

Each expiry's transition (the lifecycle table's) is made in memory and the batch is written by the one apply
half every move takes (`services.apply.moves_apply`): the same events, clocks, refunds and notifications as a
person's action, in bulk statements, so a sweep fires thousands of deadlines a second.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import transaction

from .lifecycle import ACTIONS, DEADLINES
from .models import AfterSalesCase, Deadline, Refund
from .notifications import Notices, staff_ids
from .services.apply import Move, moves_apply, system_move

log = logging.getLogger("cases")

# the expiries whose action may move a case into `refunded`
MAY_REFUND = {d.name for d in DEADLINES.values() if d.on_expiry and ACTIONS[d.on_expiry].moves_money}


def fire_batch(deadlines: list[Deadline], now: datetime) -> list[Deadline]:
    """Fire locked, due deadlines whose cases are still in the guarded state: each expiry's transition in
    memory, then the one apply half every move takes (`services.apply.moves_apply`).

    Returns the deadlines left for the one-case path (a case already paid something: a further payout or a
    refusal is decided one case at a time). Must run inside the sweep's transaction.
    """
    leftovers: list[Deadline] = []
    moves: list[Move] = []
    overdue: list[Deadline] = []
    if all(hasattr(d, "case_paid") for d in deadlines):  # read with the lock (cases.sweep.locked_due)
        paid_before = {d.case_id for d in deadlines if getattr(d, "case_paid", False)}
    else:
        paid_before = set(Refund.objects.filter(case_id__in=[d.case_id for d in deadlines])
                          .values_list("case_id", flat=True))
    for deadline in deadlines:
        case = deadline.case
        spec = DEADLINES.get(deadline.name)
        if spec is not None and spec.on_expiry is None and case.state == deadline.state:
            overdue.append(deadline)
            continue
        if spec is None or spec.on_expiry is None or case.state != deadline.state or (
                case.pk in paid_before and deadline.name in MAY_REFUND):
            leftovers.append(deadline)
            continue
        moves.append(system_move(case, spec.on_expiry, payload=dict(spec.expiry_payload), fired=deadline))
    if overdue:
        _flag_overdue(overdue, now)
    moves_apply(moves, now=now, paid=paid_before)
    log_moves([(m.case.pk, m.case.number, m.action, m.from_state, m.case.state, m.fired.name if m.fired else "")
               for m in moves])
    if moves or overdue:
        log.info("deadlines fired: %d cases moved, %d overdue rulings flagged", len(moves), len(overdue))
    return leftovers


def log_moves(moves: list[tuple[int, str, str, str, str, str]]) -> None:
    """One JSON line per case the sweep moved, (id, number, action, from, to, deadline) each, written once the
    sweep's transaction commits (a batch rolled back moved nothing). docs/reliability.md, "The sweep's log";
    its cost per case: portal/benchmarks/sweep_log.py."""
    if moves and log.isEnabledFor(logging.INFO):
        transaction.on_commit(partial(_write_moves, moves))


def _write_moves(moves: list[tuple[int, str, str, str, str, str]]) -> None:
    for case_id, number, action, from_state, to_state, deadline in moves:
        log.info("case %s moved by the sweep: %s %s → %s", number, action, from_state, to_state,
                 extra={"case_id": case_id, "case": number, "action": action, "from": from_state, "to": to_state,
                        "deadline": deadline})


def _flag_overdue(deadlines: list[Deadline], now: datetime) -> None:
    """A clock with no expiry action (`ruling_sla`, `appeal_answer`): no state change; the case gets the
    clock's flag (`overdue`, `appeal_ready`) and supervisors its message, once."""
    Deadline.objects.filter(pk__in=[d.pk for d in deadlines]).update(fired_at=now)
    by_flag: dict[str, list[Deadline]] = {}
    for d in deadlines:
        by_flag.setdefault(d.name, []).append(d)
    supervisors = staff_ids(supervisors_only=True)
    notices = Notices()
    for name, group in by_flag.items():
        spec = DEADLINES[name]
        AfterSalesCase.objects.filter(pk__in=[d.case_id for d in group]).update(**{spec.flag: True})
        for d in group:
            notices.add(supervisors, d.case, spec.flag_message, spec.flag_message, {"number": d.case.number})
            setattr(d.case, spec.flag, True)
    notices.store()
    for d in deadlines:
        d.fired_at = now
